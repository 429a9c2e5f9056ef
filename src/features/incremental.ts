/**
 * Streaming Mel features. Audio (mono, 22050 Hz) arrives in chunks of any
 * size; every hop a 3 s window of model input comes out, equal to the batch
 * recipe applied to that window's own 66150 samples.
 *
 * Each STFT frame on the stream's 512-sample grid is computed once and kept
 * in a ring. Only the frames that the batch recipe computes over zero padding
 * differ for a window: the first two (they reach before its first sample)
 * and the last two (past its last). The first two are computed as soon as
 * the window's first samples arrive, the last two when it is complete, so a
 * stream holds a couple of thousand samples and one window of Mel frames,
 * not 3 s of audio.
 */
import { assertFiniteSamples } from '../audio/validate.ts';
import { type Hop, resolveHop } from './hop.ts';
import { type MelFrameAnalyzer, melFrameAnalyzer } from './mel-frame.ts';
import { HOP_LENGTH, N_FFT, N_MELS, WINDOW_FRAMES, WINDOW_SAMPLES, WINDOW_VALUES } from './recipe.ts';
import { type WindowInput, windowInputRows } from './window-input.ts';

const HALF = N_FFT / 2;
/** Window frames that reach before the window's first sample. */
const HEAD_FRAMES = Math.ceil(HALF / HOP_LENGTH);
/** Samples from a window's start that its head frames need. */
const HEAD_SPAN = (HEAD_FRAMES - 1) * HOP_LENGTH + HALF;
/** The first window frame that reaches past the window's last sample. */
const FIRST_TAIL = Math.floor((WINDOW_SAMPLES - HALF) / HOP_LENGTH) + 1;

export interface FeatureWindow {
  /** Window number in the stream, from 0. */
  index: number;
  /** First sample of the window at 22050 Hz, counted from the stream's start. */
  start: number;
  /** Samples of real audio in the window; fewer than WINDOW_SAMPLES only when `partial`. */
  samples: number;
  /** True for a window emitted by flush() before its 3 s had arrived (zero-padded). */
  partial: boolean;
  /** The model input: one or two rows (see window-input.ts) of WINDOW_FRAMES x N_MELS, time-major. */
  features: Float32Array;
}

export class IncrementalMelExtractor {
  readonly hop: Hop;
  private readonly analyzer: MelFrameAnalyzer;
  /** Retained samples; samples[0] is stream sample `base`. */
  private samples = new Float32Array(8192);
  private base = 0;
  /** Samples received so far (absolute end of the stream). */
  private end = 0;
  /** Mel dB of stream frames (framesDone - capacity) .. (framesDone - 1), by frame number modulo capacity. */
  private readonly ring: Float32Array;
  private readonly capacity: number;
  private framesDone = 0;
  /** Head frames of windows not yet emitted, by window number. */
  private readonly heads = new Map<number, Float32Array>();
  private readonly maxPendingHeads: number;
  private nextHead = 0;
  private nextWindow = 0;
  private lastFlushEnd = -1;

  constructor(
    hopMs?: number,
    private readonly input: WindowInput = 'whole',
    /** The model's lowest Mel band edge in Hz (its recipe's fmin). */
    fmin = 0,
  ) {
    this.analyzer = melFrameAnalyzer(fmin);
    this.hop = resolveHop(hopMs);
    this.capacity = WINDOW_FRAMES + this.hop.frames;
    this.ring = new Float32Array(this.capacity * N_MELS);
    this.maxPendingHeads = Math.floor((WINDOW_SAMPLES - HEAD_SPAN) / this.hop.samples) + 2;
  }

  /** Samples received so far. */
  get received(): number {
    return this.end;
  }

  /** Samples held for frames still to compute: bounded, however long the stream runs. */
  get retainedSamples(): number {
    return this.end - this.base;
  }

  /** First sample of window k. */
  windowStart(k: number): number {
    return k * this.hop.samples;
  }

  /** Add audio; returns the windows it completed, in order. */
  push(chunk: Float32Array): FeatureWindow[] {
    assertFiniteSamples(chunk);
    this.append(chunk);
    return this.drain();
  }

  /**
   * Emit what is buffered now: besides any complete windows, one window at the
   * next position, zero-padded, when some received audio is not yet at the end
   * of an emitted window. The stream may go on afterwards; that position is
   * then emitted again, complete, once its audio has arrived.
   */
  flush(): FeatureWindow[] {
    const out = this.drain();
    const k = this.nextWindow;
    const covered = k === 0 ? 0 : this.windowStart(k - 1) + WINDOW_SAMPLES;
    if (this.end > covered && this.end !== this.lastFlushEnd) {
      out.push(this.emitPartial(k));
      this.lastFlushEnd = this.end;
    }
    return out;
  }

  private append(chunk: Float32Array): void {
    const used = this.end - this.base;
    if (used + chunk.length > this.samples.length) {
      const grown = new Float32Array(Math.max(this.samples.length * 2, used + chunk.length));
      grown.set(this.samples.subarray(0, used));
      this.samples = grown;
    }
    this.samples.set(chunk, used);
    this.end += chunk.length;
  }

  private drain(): FeatureWindow[] {
    const out: FeatureWindow[] = [];
    for (;;) {
      const kh = this.nextHead;
      if (kh < this.nextWindow + this.maxPendingHeads && this.end >= this.windowStart(kh) + HEAD_SPAN) {
        this.heads.set(kh, this.computeHead(kh, this.windowStart(kh) + WINDOW_SAMPLES));
        this.nextHead++;
        continue;
      }
      const k = this.nextWindow;
      const first = k * this.hop.frames;
      if (kh > k && this.end >= this.windowStart(k) + WINDOW_SAMPLES && this.framesDone >= first + FIRST_TAIL) {
        out.push(this.emit(k));
        this.heads.delete(k);
        this.nextWindow++;
        continue;
      }
      const n = this.framesDone;
      if (this.end >= n * HOP_LENGTH + HALF && n < first + HEAD_FRAMES + this.capacity) {
        // A stream frame: only the stream's own start is padding.
        this.analyzer.melDb(this.samples, n * HOP_LENGTH - HALF - this.base, -this.base, this.end - this.base, this.ring, (n % this.capacity) * N_MELS);
        this.framesDone++;
        continue;
      }
      break;
    }
    this.compact();
    return out;
  }

  /** Frames 0 .. HEAD_FRAMES-1 of window k, with silence before its start and after `hi`. */
  private computeHead(k: number, hi: number): Float32Array {
    const start = this.windowStart(k);
    const head = new Float32Array(HEAD_FRAMES * N_MELS);
    for (let t = 0; t < HEAD_FRAMES; t++) this.frame(start, t, Math.min(hi, this.end), head, t * N_MELS);
    return head;
  }

  /** Window frame t of the window at `start`, with silence outside [start, hi). */
  private frame(start: number, t: number, hi: number, out: Float32Array, offset: number): void {
    this.analyzer.melDb(this.samples, start + t * HOP_LENGTH - HALF - this.base, start - this.base, hi - this.base, out, offset);
  }

  private emit(k: number): FeatureWindow {
    const start = this.windowStart(k);
    const first = k * this.hop.frames;
    const db = new Float32Array(WINDOW_VALUES);
    db.set(this.heads.get(k)!);
    for (let t = HEAD_FRAMES; t < FIRST_TAIL; t++) this.copyStreamFrame(first + t, db, t);
    for (let t = FIRST_TAIL; t < WINDOW_FRAMES; t++) this.frame(start, t, start + WINDOW_SAMPLES, db, t * N_MELS);
    return { index: k, start, samples: WINDOW_SAMPLES, partial: false, features: windowInputRows(db, this.input) };
  }

  private emitPartial(k: number): FeatureWindow {
    const start = this.windowStart(k);
    const first = k * this.hop.frames;
    const hi = this.end;
    const db = new Float32Array(WINDOW_VALUES);
    const head = this.heads.get(k) ?? this.computeHead(k, hi);
    db.set(head);
    for (let t = HEAD_FRAMES; t < WINDOW_FRAMES; t++) {
      // A stream frame computed already ends before `hi`, so it is the padded frame too.
      if (t < FIRST_TAIL && first + t < this.framesDone) this.copyStreamFrame(first + t, db, t);
      else this.frame(start, t, hi, db, t * N_MELS);
    }
    return { index: k, start, samples: hi - start, partial: true, features: windowInputRows(db, this.input) };
  }

  private copyStreamFrame(n: number, db: Float32Array, t: number): void {
    const from = (n % this.capacity) * N_MELS;
    db.set(this.ring.subarray(from, from + N_MELS), t * N_MELS);
  }

  /** Drop samples that no frame still to be computed can touch. */
  private compact(): void {
    const keepFrom = Math.min(
      this.framesDone * HOP_LENGTH - HALF,
      this.windowStart(this.nextHead),
      this.windowStart(this.nextWindow) + FIRST_TAIL * HOP_LENGTH - HALF,
      this.end,
    );
    const drop = keepFrom - this.base;
    if (drop <= 0) return;
    this.samples.copyWithin(0, drop, this.end - this.base);
    this.base = keepFrom;
  }
}
