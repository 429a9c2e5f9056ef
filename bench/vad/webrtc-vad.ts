/**
 * The WebRTC VAD (libfvad, compiled to wasm by @echogarden/fvad-wasm), a GMM
 * over sub-band energies, as a contender in bench/vad beside Silero (what the
 * service runs) and an energy gate. It runs on 30 ms frames at 8, 16, 32 or
 * 48 kHz; other rates are resampled to 16 kHz first.
 */
import fvadModule from '@echogarden/fvad-wasm';
import { Resampler } from '../../src/audio/resample.ts';

interface Fvad {
  _malloc(bytes: number): number;
  _fvad_new(): number;
  _fvad_free(state: number): void;
  _fvad_set_mode(state: number, mode: number): number;
  _fvad_set_sample_rate(state: number, rate: number): number;
  _fvad_process(state: number, frame: number, length: number): number;
  HEAP16: Int16Array;
}

const fvad = (await fvadModule()) as Fvad;
const VAD_RATES = [8000, 16000, 32000, 48000];
const FRAME_SECONDS = 0.03;
const states = new FinalizationRegistry<number>((state) => fvad._fvad_free(state));
/** One frame of int16 samples at the highest rate, shared: frames are processed one at a time. */
const scratch = fvad._malloc(Math.round(48000 * FRAME_SECONDS) * 2);

/** 0 (least) to 3 (most aggressive in calling audio non-speech). */
export type VadMode = 0 | 1 | 2 | 3;

export class VoiceActivity {
  private readonly state: number;
  private readonly rate: number;
  private readonly frame: number;
  private readonly resampler: Resampler | undefined;
  private readonly pending: Float32Array;
  private pendingLength = 0;
  /** One decision per frame since the start; frame k covers [k, k + 1) * 30 ms. */
  private decisions = new Uint8Array(1024);
  private frames = 0;
  /** Decisions before this frame have been dropped. */
  private first = 0;

  constructor(inputRate: number, mode: VadMode = 2) {
    this.rate = VAD_RATES.includes(inputRate) ? inputRate : 16000;
    this.resampler = this.rate === inputRate ? undefined : new Resampler(inputRate, this.rate);
    this.frame = Math.round(this.rate * FRAME_SECONDS);
    this.pending = new Float32Array(this.frame);
    this.state = fvad._fvad_new();
    if (this.state === 0 || fvad._fvad_set_mode(this.state, mode) < 0 || fvad._fvad_set_sample_rate(this.state, this.rate) < 0) {
      throw new Error(`the WebRTC VAD cannot run at ${this.rate} Hz, mode ${mode}`);
    }
    states.register(this, this.state, this);
  }

  /** Audio of this channel at the input rate, in order. */
  push(samples: Float32Array): void {
    const input = this.resampler ? this.resampler.push(samples) : samples;
    let offset = 0;
    while (offset < input.length) {
      const take = Math.min(this.frame - this.pendingLength, input.length - offset);
      this.pending.set(input.subarray(offset, offset + take), this.pendingLength);
      this.pendingLength += take;
      offset += take;
      if (this.pendingLength === this.frame) {
        this.decide(this.pending);
        this.pendingLength = 0;
      }
    }
  }

  private decide(frame: Float32Array): void {
    const heap = fvad.HEAP16.subarray(scratch >> 1, (scratch >> 1) + frame.length);
    for (let i = 0; i < frame.length; i++) heap[i] = Math.max(-32768, Math.min(32767, Math.round(frame[i] * 32767)));
    const voiced = fvad._fvad_process(this.state, scratch, frame.length);
    const index = this.frames - this.first;
    if (index === this.decisions.length) {
      const grown = new Uint8Array(this.decisions.length * 2);
      grown.set(this.decisions);
      this.decisions = grown;
    }
    this.decisions[index] = voiced === 1 ? 1 : 0;
    this.frames++;
  }

  /** Seconds of the input decided so far. */
  get decidedSeconds(): number {
    return this.frames * FRAME_SECONDS;
  }

  /** Voiced seconds between two input times (frames counted by their overlap). */
  voicedSeconds(startS: number, endS: number): number {
    let voiced = 0;
    const from = Math.max(this.first, Math.floor(startS / FRAME_SECONDS));
    const to = Math.min(this.frames, Math.ceil(endS / FRAME_SECONDS));
    for (let k = from; k < to; k++) {
      if (!this.decisions[k - this.first]) continue;
      voiced += Math.min(endS, (k + 1) * FRAME_SECONDS) - Math.max(startS, k * FRAME_SECONDS);
    }
    return voiced;
  }

  /** Forget decisions before this input time (the pipeline no longer asks about them). */
  forgetBefore(seconds: number): void {
    const drop = Math.min(this.frames, Math.floor(seconds / FRAME_SECONDS)) - this.first;
    if (drop <= 0) return;
    this.decisions.copyWithin(0, drop, this.frames - this.first);
    this.first += drop;
  }
}
