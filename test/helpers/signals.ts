/** Deterministic test signals. */

/** A seeded pseudo-random generator (mulberry32), so failures reproduce. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function tone(frequency: number, sampleRate: number, samples: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(samples);
  for (let i = 0; i < samples; i++) out[i] = amplitude * Math.sin((2 * Math.PI * frequency * i) / sampleRate);
  return out;
}

export function noise(samples: number, amplitude: number, seed = 1): Float32Array {
  const r = random(seed);
  const out = new Float32Array(samples);
  for (let i = 0; i < samples; i++) out[i] = amplitude * (2 * r() - 1);
  return out;
}

/** Split a signal into random chunk sizes in [1, max]. */
export function randomChunks<T extends { length: number; subarray(a: number, b: number): T }>(signal: T, max: number, seed = 7): T[] {
  const r = random(seed);
  const out: T[] = [];
  for (let p = 0; p < signal.length; ) {
    const n = 1 + Math.floor(r() * max);
    out.push(signal.subarray(p, p + n));
    p += n;
  }
  return out;
}

export { concatSamples as concat } from '../../src/audio/concat.ts';

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
