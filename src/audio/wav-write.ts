/** WAV writer: canonical RIFF with a 16-bit integer or 32-bit float "data" chunk. */
import { AerError } from '../errors.ts';
import type { DecodedAudio } from './wav.ts';

export type WavSampleFormat = 's16' | 'f32';

export function writeWav(audio: DecodedAudio, format: WavSampleFormat = 's16'): Uint8Array {
  const n = audio.channels.length;
  if (n === 0) throw new AerError('invalid_argument', 'cannot write a WAV file with no channels');
  const frames = audio.channels[0].length;
  if (audio.channels.some((c) => c.length !== frames)) throw new AerError('invalid_argument', 'all channels must have the same length');
  const bytesPerSample = format === 's16' ? 2 : 4;
  const dataSize = frames * n * bytesPerSample;
  const out = new Uint8Array(44 + dataSize);
  const view = new DataView(out.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataSize, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, format === 's16' ? 1 : 3, true);
  view.setUint16(22, n, true);
  view.setUint32(24, audio.sampleRate, true);
  view.setUint32(28, audio.sampleRate * n * bytesPerSample, true);
  view.setUint16(32, n * bytesPerSample, true);
  view.setUint16(34, bytesPerSample * 8, true);
  ascii(36, 'data');
  view.setUint32(40, dataSize, true);
  let p = 44;
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < n; c++, p += bytesPerSample) {
      const v = audio.channels[c][f];
      if (format === 'f32') view.setFloat32(p, v, true);
      else view.setInt16(p, Math.max(-32768, Math.min(32767, Math.round(v * 32768))), true);
    }
  }
  return out;
}
