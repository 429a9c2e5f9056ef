/**
 * Noise at a signal-to-noise ratio: white noise (a hissing line) or babble
 * (other people talking: clips of other speakers summed). The speech level
 * is the clip's RMS, so "10 dB" means the same for a loud and a quiet clip.
 */
import { gaussian, type Random } from '../random.ts';

export function rms(signal: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < signal.length; i++) sum += signal[i] * signal[i];
  return Math.sqrt(sum / Math.max(1, signal.length));
}

/** `signal` plus `noise` (cropped, or looped to its length) scaled so the signal is `snrDb` above it. */
export function mixAtSnr(signal: Float32Array, noise: Float32Array, snrDb: number): Float32Array {
  const out = Float32Array.from(signal);
  const level = rms(noise);
  if (level === 0 || noise.length === 0) return out;
  const scale = rms(signal) / 10 ** (snrDb / 20) / level;
  for (let i = 0; i < out.length; i++) out[i] += scale * noise[i % noise.length];
  return out;
}

export function whiteNoise(length: number, random: Random): Float32Array {
  return Float32Array.from({ length }, () => gaussian(random));
}

/** `talkers` clips drawn from `pool` (other speakers' speech), each looped from a random offset, summed. */
export function babble(length: number, pool: readonly Float32Array[], talkers: number, random: Random): Float32Array {
  const out = new Float32Array(length);
  if (pool.length === 0) return out;
  for (let t = 0; t < talkers; t++) {
    const clip = pool[Math.floor(random() * pool.length)];
    const level = rms(clip) || 1;
    const offset = Math.floor(random() * clip.length);
    for (let i = 0; i < length; i++) out[i] += clip[(offset + i) % clip.length] / level;
  }
  return out;
}
