/**
 * Raw interleaved PCM from a stream: bytes in messages of any length (a
 * sample or frame may be split between messages) -> planar float32.
 * Linear (16-bit integer, 32-bit float) or G.711 (mu-law, A-law: a byte a
 * sample, what telephone networks carry).
 */
import { AerError } from '../errors.ts';
import { alawToFloat, mulawToFloat } from './g711.ts';
import { MAX_CHANNELS } from './limits.ts';

export const PCM_ENCODINGS = ['pcm_s16le', 'pcm_f32le', 'mulaw', 'alaw'] as const;
export type PcmEncoding = (typeof PCM_ENCODINGS)[number];

/** Bytes of one sample. */
export function sampleBytes(encoding: PcmEncoding): number {
  return encoding === 'pcm_f32le' ? 4 : encoding === 'pcm_s16le' ? 2 : 1;
}

const G711_TABLES: Partial<Record<PcmEncoding, Float32Array>> = { mulaw: mulawToFloat, alaw: alawToFloat };

export class PcmStreamDecoder {
  readonly encoding: PcmEncoding;
  readonly channelCount: number;
  private readonly frameBytes: number;
  /** Bytes of an incomplete frame carried over from the previous message. */
  private carry = new Uint8Array(0);

  constructor(encoding: PcmEncoding, channels: number) {
    if (!PCM_ENCODINGS.includes(encoding))
      throw new AerError('invalid_argument', `unknown PCM encoding ${JSON.stringify(encoding)}; use ${PCM_ENCODINGS.join(' or ')}`);
    if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
      throw new AerError(channels > MAX_CHANNELS ? 'too_many_channels' : 'invalid_argument', `channels must be 1-${MAX_CHANNELS}, got ${channels}`);
    }
    this.encoding = encoding;
    this.channelCount = channels;
    this.frameBytes = channels * sampleBytes(encoding);
  }

  /** Bytes held back because they do not make a whole frame yet. */
  get pendingBytes(): number {
    return this.carry.length;
  }

  /**
   * Decode one message. On invalid_samples (NaN or infinity in float PCM) the
   * whole message is rejected and the decoder is left as it was before it.
   */
  decode(message: Uint8Array): Float32Array[] {
    let bytes = message;
    if (this.carry.length > 0) {
      bytes = new Uint8Array(this.carry.length + message.length);
      bytes.set(this.carry);
      bytes.set(message, this.carry.length);
    }
    const frames = Math.floor(bytes.length / this.frameBytes);
    const n = this.channelCount;
    const out = Array.from({ length: n }, () => new Float32Array(frames));
    const view = new DataView(bytes.buffer, bytes.byteOffset, frames * this.frameBytes);
    let p = 0;
    const table = G711_TABLES[this.encoding];
    if (table) {
      for (let f = 0; f < frames; f++) for (let c = 0; c < n; c++, p++) out[c][f] = table[bytes[p]];
    } else if (this.encoding === 'pcm_s16le') {
      for (let f = 0; f < frames; f++) for (let c = 0; c < n; c++, p += 2) out[c][f] = view.getInt16(p, true) / 32768;
    } else {
      for (let f = 0; f < frames; f++) {
        for (let c = 0; c < n; c++, p += 4) {
          const v = view.getFloat32(p, true);
          if (v - v !== 0) {
            throw new AerError(
              'invalid_samples',
              `a pcm_f32le message holds ${Number.isNaN(v) ? 'NaN' : 'an infinite value'} (frame ${f}, channel ${c}); the message was dropped`,
              {
                hint: 'send finite float samples, nominally in [-1, 1]',
              },
            );
          }
          out[c][f] = v;
        }
      }
    }
    this.carry = bytes.slice(frames * this.frameBytes);
    return out;
  }
}
