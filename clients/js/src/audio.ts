/** What send() accepts, turned into the bytes of the session's encoding, and how much audio they hold. */
import { AerClientError } from './errors.ts';
import type { Encoding } from './protocol.ts';

/** Int16Array / Float32Array samples (interleaved), or bytes already in the session's encoding (one Opus packet per call; G.711 bytes as a telephone network carries them). */
export type AudioInput = Int16Array | Float32Array | Uint8Array | ArrayBuffer;

export interface AudioFormat {
  encoding: Encoding;
  sampleRate: number;
  channels: number;
}

function s16FromFloat(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32767)));
  return out;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** The bytes to send; samples are converted to the session's PCM encoding (Float32Array -> s16 or f32, Int16Array -> f32 or s16). */
export function encodeInput(input: AudioInput, format: AudioFormat): Uint8Array {
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
  if (bytes instanceof Uint8Array) return bytes;
  if (format.encoding !== 'pcm_s16le' && format.encoding !== 'pcm_f32le') {
    throw new AerClientError(
      'invalid_audio',
      `this session was opened for ${format.encoding}: send encoded bytes (a Uint8Array), not samples; open it with encoding pcm_s16le or pcm_f32le to send samples`,
    );
  }
  if (bytes.length % format.channels !== 0)
    throw new AerClientError('invalid_audio', `${bytes.length} samples are not whole frames of ${format.channels} interleaved channels`);
  if (format.encoding === 'pcm_s16le') return bytesOf(bytes instanceof Int16Array ? bytes : s16FromFloat(bytes));
  return bytesOf(bytes instanceof Float32Array ? bytes : Float32Array.from(bytes, (v) => v / 32768));
}

/** Samples per frame of an Opus packet's configuration (RFC 6716, 3.1), at 48 kHz. */
function opusFrameSamples(config: number): number {
  if (config < 12) return [480, 960, 1920, 2880][config % 4];
  if (config < 16) return [480, 960][config % 2];
  return [120, 240, 480, 960][config % 4];
}

/** Samples (at 48 kHz) in one Opus packet, from its TOC byte; an empty packet (a lost one) counts as 20 ms, as the server conceals it. */
export function opusPacketSamples(packet: Uint8Array): number {
  if (packet.length === 0) return 960;
  const toc = packet[0];
  const code = toc & 3;
  const frames = code === 0 ? 1 : code === 3 ? (packet[1] ?? 0) & 0x3f : 2;
  return opusFrameSamples(toc >> 3) * frames;
}

/** The rate the session counts its audio in: the PCM rate, or Opus's 48 kHz. */
export function clockRate(format: AudioFormat): number {
  return format.encoding === 'opus' || format.encoding === 'ogg_opus' ? 48000 : format.sampleRate;
}

/** Bytes of one PCM frame (a sample of every channel) in the format's encoding. */
export function bytesPerFrame(format: AudioFormat): number {
  return (format.encoding === 'pcm_f32le' ? 4 : format.encoding === 'pcm_s16le' ? 2 : 1) * format.channels;
}

/** Frames of audio (at clockRate) in bytes of the session's encoding; whole numbers, so the clock does not drift. Ogg pages count 0: their time is in their granule positions. */
export function framesOf(bytes: Uint8Array, format: AudioFormat): number {
  switch (format.encoding) {
    case 'pcm_s16le':
    case 'pcm_f32le':
    case 'mulaw':
    case 'alaw':
      return bytes.length / bytesPerFrame(format);
    case 'opus':
      return opusPacketSamples(bytes);
    case 'ogg_opus':
      return 0;
  }
}
