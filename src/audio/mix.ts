/** Choosing the signal to analyse from a multichannel recording. */
import { AerError } from '../errors.ts';

/** 'mix' averages all channels (librosa's to_mono); a number picks one channel, from 0. */
export type ChannelChoice = 'mix' | number;

export function mixToMono(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0];
  const n = channels[0].length;
  const out = new Float32Array(n);
  for (const c of channels) for (let i = 0; i < n; i++) out[i] += c[i];
  const scale = 1 / channels.length;
  for (let i = 0; i < n; i++) out[i] *= scale;
  return out;
}

export function selectChannel(channels: Float32Array[], choice: ChannelChoice): Float32Array {
  if (choice === 'mix') return mixToMono(channels);
  if (!Number.isInteger(choice) || choice < 0 || choice >= channels.length) {
    throw new AerError('invalid_argument', `channel ${choice} does not exist; the audio has ${channels.length} channel(s), numbered from 0`);
  }
  return channels[choice];
}
