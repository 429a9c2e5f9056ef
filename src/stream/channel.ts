/**
 * One channel of a session, from decoded audio to results: voice activity,
 * resampling to the model's 22050 Hz, the incremental Mel extractor's
 * windows every hop, the speech decision, the scheduler, and smoothing.
 * Windows are analysed concurrently (the scheduler batches them); callers
 * keep their order.
 */
import { Resampler } from '../audio/resample.ts';
import type { FeatureWindow } from '../features/incremental.ts';
import { IncrementalMelExtractor } from '../features/incremental.ts';
import { SAMPLE_RATE } from '../features/recipe.ts';
import type { Scheduler } from './scheduler.ts';
import { type ChangeEvent, ChannelSmoother, type SmoothingOptions } from './smoothing.ts';
import type { VadBatcher, VadStream } from './vad.ts';

/** Seconds of speech in a 3 s window for it to go to the model. */
export const MIN_SPEECH_S = 0.25;

export interface TimedWindow {
  window: FeatureWindow;
  /** When the audio that completed it was received (performance.now()). */
  receivedAt: number;
  startS: number;
  endS: number;
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
}

export class ChannelPipeline {
  readonly index: number;
  private readonly resampler: Resampler | undefined;
  private extractor: IncrementalMelExtractor;
  private readonly vad: VadStream | undefined;
  private readonly smoother: ChannelSmoother;
  private lastEndS: number | undefined;
  /** Samples received at the input rate. */
  private received = 0;

  constructor(
    private readonly options: ChannelOptions,
    private readonly scheduler: Scheduler,
    vad: VadBatcher | undefined,
  ) {
    this.index = options.index;
    this.resampler = options.inputRate === SAMPLE_RATE ? undefined : new Resampler(options.inputRate, SAMPLE_RATE);
    this.extractor = new IncrementalMelExtractor(options.hopMs);
    this.vad = options.vad && vad ? vad.stream(options.inputRate) : undefined;
    this.smoother = new ChannelSmoother(options.labels, options.smoothing);
  }

  get hopS(): number {
    return this.extractor.hop.ms / 1000;
  }

  /** Seconds of audio received on this channel. */
  get audioSeconds(): number {
    return this.received / this.options.inputRate;
  }

  /** Decoded samples at the input rate: the windows they complete. */
  push(samples: Float32Array, receivedAt: number): TimedWindow[] {
    if (samples.length === 0) return [];
    this.received += samples.length;
    this.vad?.push(samples);
    return this.timed(this.extractor.push(this.resampler ? this.resampler.push(samples) : samples), receivedAt);
  }

  /** Everything received so far, the last window zero-padded (flush, end of stream). */
  flush(receivedAt: number): TimedWindow[] {
    const tail = this.resampler ? this.resampler.flush() : new Float32Array(0);
    const windows = [...this.extractor.push(tail), ...this.extractor.flush()];
    return this.timed(windows, receivedAt);
  }

  private timed(windows: FeatureWindow[], receivedAt: number): TimedWindow[] {
    return windows.map((window) => ({ window, receivedAt, startS: window.start / SAMPLE_RATE, endS: (window.start + window.samples) / SAMPLE_RATE }));
  }

  /** Speech decision, then the model (through the scheduler). `sheddable`: the scheduler may drop it under overload. */
  async analyse(timed: TimedWindow, sheddable: boolean): Promise<WindowResult> {
    if (this.vad) {
      await this.vad.until(timed.endS);
      const speech = this.vad.speechSeconds(timed.startS, timed.endS);
      this.vad.forgetBefore(timed.startS);
      if (speech < MIN_SPEECH_S) return { kind: 'silence', timed };
    }
    const outcome = await new Promise<Parameters<Parameters<Scheduler['submit']>[0]['done']>[0]>((done) => this.scheduler.submit({ stream: this.options.stream, features: timed.window.features, receivedAt: timed.receivedAt, sheddable, done }));
    if (outcome.kind === 'shed') return { kind: 'shed', timed };
    if (outcome.kind === 'error') return { kind: 'error', timed, error: outcome.error };
    return { kind: 'speech', timed, scores: outcome.probabilities, attention: outcome.attention, smoothed: new Float32Array(0) };
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
    this.vad?.close();
    this.scheduler.cancel(this.options.stream);
  }
}
