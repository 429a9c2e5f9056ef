/**
 * One channel of a session, from decoded audio to results: voice activity,
 * resampling to the model's 22050 Hz, the incremental Mel extractor's
 * windows every hop, the speech decision, the scheduler, and smoothing.
 * Windows are analysed concurrently (the scheduler batches them); callers
 * keep their order.
 *
 * A live channel that falls behind (its windows wait in the VAD or the
 * engine for over a second, or the main thread is saturated before its
 * audio is even read) skips audio: it still counts it, but spends nothing
 * on it, until it has caught up; then a new segment (fresh resampler,
 * extractor and VAD) starts on the window grid. The windows skipped are
 * reported as shed. Shedding in the scheduler alone cannot bound latency
 * when the front end or the VAD is the bottleneck; this does.
 */
import { Resampler } from '../audio/resample.ts';
import { AerError } from '../errors.ts';
import type { FeatureWindow } from '../features/incremental.ts';
import { IncrementalMelExtractor } from '../features/incremental.ts';
import { SAMPLE_RATE } from '../features/recipe.ts';
import type { WindowInput } from '../features/window-input.ts';
import type { WindowOutcome, WindowSink } from './scheduler.ts';
import { OVERLOAD } from './overload.ts';
import { type ChangeEvent, ChannelSmoother, type SmoothingOptions } from './smoothing.ts';
import type { VadBatcher, VadStream } from './vad.ts';

/** Seconds of speech in a 3 s window for it to go to the model. */
export const MIN_SPEECH_S = 0.25;

/** A stretch of audio analysed without a gap. */
interface Segment {
  /** Where it starts in the channel, seconds. */
  startS: number;
  /** Windows of the channel before it (its first window's seq). */
  firstSeq: number;
  resampler: Resampler | undefined;
  extractor: IncrementalMelExtractor;
  vad: VadStream | undefined;
}

export interface TimedWindow {
  window: FeatureWindow;
  /** The window's number in the channel (`seq` on the wire). */
  seq: number;
  /** When the audio that completed it was received (performance.now()). */
  receivedAt: number;
  startS: number;
  endS: number;
  segment: Segment;
}

export type WindowResult =
  | { kind: 'silence'; timed: TimedWindow }
  | { kind: 'speech'; timed: TimedWindow; scores: Float32Array; smoothed: Float32Array; attention: Float32Array; change?: ChangeEvent }
  | { kind: 'shed'; timed: TimedWindow }
  | { kind: 'error'; timed: TimedWindow; error: Error };

export interface ChannelOptions {
  index: number;
  /** Scheduler stream id: the session's id and the channel. */
  stream: string;
  inputRate: number;
  hopMs: number;
  vad: boolean;
  smoothing: SmoothingOptions;
  labels: string[];
  /** How the model takes a window (its aer.json's window_input). */
  windowInput: WindowInput;
  /** The model's lowest Mel band edge in Hz (its aer.json's feature_recipe.fmin); absent: 0. */
  melFmin?: number;
  /** A file's channel (/v1/classify): its windows wait while live ones are queued. */
  bulk?: boolean;
}

export class ChannelPipeline {
  readonly index: number;
  private segment: Segment;
  /** The VADs of this segment and the one before (whose windows may still ask it). */
  private readonly vads: VadStream[] = [];
  private readonly smoother: ChannelSmoother;
  private lastEndS: number | undefined;
  /** Samples received at the input rate. */
  private received = 0;
  /** Skipping audio to catch up (see resume()). */
  private skipping = false;
  /** The seq the next window would have had in the current segment. */
  private nextSeq = 0;
  /** Its session ended: windows still waiting on the VAD must not reach the scheduler after it was cancelled. */
  private closed = false;
  /** Windows skipped and not yet reported. */
  private skippedWindows = 0;

  constructor(
    private readonly options: ChannelOptions,
    private readonly scheduler: WindowSink,
    private readonly vadBatcher: VadBatcher | undefined,
  ) {
    this.index = options.index;
    this.segment = this.startSegment(0, 0);
    this.smoother = new ChannelSmoother(options.labels, options.smoothing);
  }

  get hopS(): number {
    return this.segment.extractor.hop.ms / 1000;
  }

  /** Seconds of audio received on this channel. */
  get audioSeconds(): number {
    return this.received / this.options.inputRate;
  }

  /**
   * Decoded samples at the input rate: the windows they complete.
   * `behindMs`: how far this live channel is behind real time (0 for a client ahead of it).
   */
  push(samples: Float32Array, receivedAt: number, behindMs = 0): TimedWindow[] {
    if (samples.length === 0) return [];
    if (behindMs > (this.skipping ? OVERLOAD.resumeBehindMs : OVERLOAD.skipBehindMs)) {
      this.skipping = true;
      this.received += samples.length;
      return [];
    }
    if (this.skipping) samples = this.resume(samples);
    const { segment } = this;
    this.received += samples.length;
    segment.vad?.push(samples);
    return this.timed(segment.extractor.push(segment.resampler ? segment.resampler.push(samples) : samples), receivedAt);
  }

  /** Windows skipped since last asked: the caller reports them as shed. */
  takeSkipped(): number {
    const n = this.skippedWindows;
    this.skippedWindows = 0;
    return n;
  }

  /** Everything received so far, the last window zero-padded (flush, end of stream). */
  flush(receivedAt: number): TimedWindow[] {
    const { segment } = this;
    const tail = segment.resampler ? segment.resampler.flush() : new Float32Array(0);
    const windows = [...segment.extractor.push(tail), ...segment.extractor.flush()];
    return this.timed(windows, receivedAt);
  }

  private startSegment(startS: number, firstSeq: number): Segment {
    const { inputRate, hopMs, vad, windowInput, melFmin } = this.options;
    const segment: Segment = {
      startS,
      firstSeq,
      resampler: inputRate === SAMPLE_RATE ? undefined : new Resampler(inputRate, SAMPLE_RATE),
      extractor: new IncrementalMelExtractor(hopMs, windowInput, melFmin),
      vad: vad && this.vadBatcher ? this.vadBatcher.stream(inputRate) : undefined,
    };
    if (segment.vad) {
      // Windows of the segment before may still be waiting on its VAD; older ones are done.
      for (const old of this.vads.splice(0, Math.max(0, this.vads.length - 1))) old.close();
      this.vads.push(segment.vad);
    }
    return segment;
  }

  /** Caught up: a new segment from the next window boundary; what comes before it in `samples` is skipped too. */
  private resume(samples: Float32Array): Float32Array {
    const rate = this.options.inputRate;
    const seq = Math.ceil(this.received / rate / this.hopS - 1e-9);
    const boundary = Math.round(seq * this.hopS * rate);
    const drop = boundary - this.received;
    if (drop >= samples.length) {
      this.received += samples.length;
      return new Float32Array(0);
    }
    this.received = boundary;
    this.skipping = false;
    this.skippedWindows += Math.max(0, seq - this.nextSeq);
    this.segment = this.startSegment(boundary / rate, seq);
    this.nextSeq = seq;
    return samples.subarray(drop);
  }

  private timed(windows: FeatureWindow[], receivedAt: number): TimedWindow[] {
    const { segment } = this;
    return windows.map((window) => {
      const seq = segment.firstSeq + window.index;
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
      return {
        window,
        seq,
        segment,
        receivedAt,
        startS: segment.startS + window.start / SAMPLE_RATE,
        endS: segment.startS + (window.start + window.samples) / SAMPLE_RATE,
      };
    });
  }

  /**
   * Speech decision, then the model (through the scheduler). `sheddable`: the
   * scheduler may drop it under overload. Never rejects: whatever fails (the
   * VAD's batch, the engine's) fails this window alone, as an error result.
   */
  async analyse(timed: TimedWindow, sheddable: boolean): Promise<WindowResult> {
    try {
      const { vad, startS } = timed.segment;
      if (vad) {
        // The VAD counts time from its segment's start.
        const from = timed.startS - startS;
        const to = timed.endS - startS;
        await vad.until(to);
        if (this.closed) return { kind: 'shed', timed };
        const failure = vad.failureBetween(from, to);
        const speech = vad.speechSeconds(from, to);
        vad.forgetBefore(from);
        if (failure) return { kind: 'error', timed, error: new AerError('engine_fault', `voice activity detection failed (${failure.message})`) };
        if (speech < MIN_SPEECH_S) return { kind: 'silence', timed };
      }
      const outcome = await new Promise<WindowOutcome>((done) =>
        this.scheduler.submit({
          stream: this.options.stream,
          features: timed.window.features,
          receivedAt: timed.receivedAt,
          sheddable,
          bulk: this.options.bulk,
          done,
        }),
      );
      if (outcome.kind === 'shed') return { kind: 'shed', timed };
      if (outcome.kind === 'error') return { kind: 'error', timed, error: outcome.error };
      return { kind: 'speech', timed, scores: outcome.probabilities, attention: outcome.attention, smoothed: new Float32Array(0) };
    } catch (error) {
      return { kind: 'error', timed, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  /** Smoothing runs in window order, so it is applied as results are delivered in order, not as they arrive. */
  smooth(result: WindowResult): WindowResult {
    if (result.kind !== 'speech') return result;
    const hopS = this.lastEndS === undefined ? this.hopS : Math.max(1e-3, result.timed.endS - this.lastEndS);
    this.lastEndS = result.timed.endS;
    const { smoothed, change } = this.smoother.update(result.scores, result.timed.endS, hopS);
    return { ...result, smoothed, change };
  }

  setSmoothing(kind: SmoothingOptions['kind']): void {
    this.smoother.setKind(kind);
  }

  close(): void {
    this.closed = true;
    for (const vad of this.vads) vad.close();
    this.scheduler.cancel(this.options.stream);
  }
}
