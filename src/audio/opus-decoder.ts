/**
 * A streaming Opus packet decoder that never throws on bad input: a lost
 * packet (an empty one, by this project's convention) or a corrupt one is
 * replaced by libopus's packet-loss concealment for the missing duration, and
 * the problem is reported in the result and counted.
 */
import { AerError } from '../errors.ts';
import { libopus, MAX_FRAME_SAMPLES, MAX_PACKET_BYTES, opusErrorText, packetScratch, pcmScratch } from './libopus.ts';
import { opusPacketSamples } from './opus-packet.ts';

export const OPUS_DECODE_RATES = [8000, 12000, 16000, 24000, 48000] as const;
export type OpusDecodeRate = (typeof OPUS_DECODE_RATES)[number];
/**
 * The model needs audio up to 11025 Hz; decoding at 24 kHz keeps all of it
 * (libopus band-limits in the MDCT domain) for half the decoder output and a
 * cheaper 24000 -> 22050 resampling step than 48 kHz would need.
 */
export const DEFAULT_OPUS_DECODE_RATE: OpusDecodeRate = 24000;

export interface OpusDecodeResult {
  /** One Float32Array per channel. */
  channels: Float32Array[];
  /** Samples per channel that concealment produced instead of decoding. */
  concealed: number;
  /** Why the packet was concealed rather than decoded, when it was bad. */
  error?: AerError;
}

export interface OpusDecoderStats {
  packets: number;
  lost: number;
  corrupt: number;
  concealedSamples: number;
}

const OPUS_RESET_STATE = 4028;
const states = new FinalizationRegistry<number>((state) => libopus.free(state));

export class OpusStreamDecoder {
  readonly channelCount: 1 | 2;
  readonly sampleRate: OpusDecodeRate;
  readonly stats: OpusDecoderStats = { packets: 0, lost: 0, corrupt: 0, concealedSamples: 0 };
  private state: number;
  /** Duration of the last good packet, the best guess for a lost one. */
  private lastDuration: number;

  constructor(channels: number, sampleRate: OpusDecodeRate = DEFAULT_OPUS_DECODE_RATE) {
    if (channels !== 1 && channels !== 2) throw new AerError('invalid_argument', `an Opus stream has 1 or 2 channels here, not ${channels}`);
    if (!OPUS_DECODE_RATES.includes(sampleRate)) {
      throw new AerError('invalid_argument', `Opus decodes at ${OPUS_DECODE_RATES.join(', ')} Hz, not ${sampleRate}`);
    }
    this.channelCount = channels;
    this.sampleRate = sampleRate;
    this.lastDuration = sampleRate / 50;
    this.state = libopus.malloc(libopus.opus_decoder_get_size(channels));
    const status = libopus.opus_decoder_init(this.state, sampleRate, channels);
    if (status < 0) {
      libopus.free(this.state);
      throw new AerError('invalid_argument', `libopus could not create a decoder: ${opusErrorText(status)}`);
    }
    states.register(this, this.state, this);
  }

  /** Decode one packet. An empty packet means "this packet was lost". */
  decode(packet: Uint8Array): OpusDecodeResult {
    this.assertOpen();
    this.stats.packets++;
    if (packet.length === 0) {
      this.stats.lost++;
      return { channels: this.conceal(this.lastDuration), concealed: this.lastDuration };
    }
    const nominal = packet.length <= MAX_PACKET_BYTES ? opusPacketSamples(packet, this.sampleRate) : -1;
    if (nominal < 0) {
      return this.corrupt(
        this.lastDuration,
        packet.length > MAX_PACKET_BYTES ? `is ${packet.length} bytes, over the ${MAX_PACKET_BYTES}-byte limit` : 'has an invalid table-of-contents byte',
      );
    }
    const scratch = packetScratch();
    scratch.bytes.set(packet);
    const pcm = pcmScratch();
    const decoded = libopus.opus_decode(this.state, scratch.pointer, packet.length, pcm.pointer, MAX_FRAME_SAMPLES, 0);
    if (decoded < 0) return this.corrupt(nominal, `could not be decoded (${opusErrorText(decoded)})`);
    this.lastDuration = decoded;
    return { channels: this.deinterleave(decoded), concealed: 0 };
  }

  /** Concealment for `samples` per channel of lost audio. */
  conceal(samples: number): Float32Array[] {
    this.assertOpen();
    const out = Array.from({ length: this.channelCount }, () => new Float32Array(samples));
    // libopus conceals in multiples of 2.5 ms, at most 120 ms per call.
    const quantum = this.sampleRate / 400;
    const maxPiece = (MAX_FRAME_SAMPLES * this.sampleRate) / 48000;
    const pcm = pcmScratch();
    for (let done = 0; done < samples; ) {
      const piece = Math.min(maxPiece, Math.ceil((samples - done) / quantum) * quantum);
      const got = libopus.opus_decode(this.state, 0, 0, pcm.pointer, piece, 0);
      if (got <= 0) break;
      const keep = Math.min(got, samples - done);
      for (let c = 0; c < this.channelCount; c++) {
        const channel = out[c];
        for (let i = 0; i < keep; i++) channel[done + i] = pcm.samples[i * this.channelCount + c] / 32768;
      }
      done += keep;
    }
    this.stats.concealedSamples += samples;
    return out;
  }

  reset(): void {
    this.assertOpen();
    libopus.opus_decoder_ctl_set(this.state, OPUS_RESET_STATE, 0);
  }

  dispose(): void {
    if (!this.state) return;
    states.unregister(this);
    libopus.free(this.state);
    this.state = 0;
  }

  private corrupt(samples: number, problem: string): OpusDecodeResult {
    this.stats.corrupt++;
    const error = new AerError('malformed_opus', `Opus packet ${this.stats.packets} (${problem}); ${(samples / this.sampleRate) * 1000} ms were concealed`, {
      hint: 'send one whole Opus packet per message, as an encoder emits it',
    });
    return { channels: this.conceal(samples), concealed: samples, error };
  }

  private deinterleave(samples: number): Float32Array[] {
    const view = pcmScratch().samples;
    const n = this.channelCount;
    const out = Array.from({ length: n }, () => new Float32Array(samples));
    for (let c = 0; c < n; c++) {
      const channel = out[c];
      for (let i = 0; i < samples; i++) channel[i] = view[i * n + c] / 32768;
    }
    return out;
  }

  private assertOpen(): void {
    if (!this.state) throw new AerError('invalid_argument', 'this Opus decoder was disposed');
  }
}
