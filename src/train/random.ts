/**
 * Seeded randomness for reproducible training: shuffles, augmentation and
 * (by standing in for Math.random in training threads) TF.js's weight
 * initialisers and dropout masks.
 */

export interface Random {
  (): number;
  /** The generator's state, to save in a checkpoint and restore. */
  state(): number;
}

/** mulberry32: small, fast, and good enough for shuffling and augmentation. */
export function createRandom(seed: number): Random {
  let a = seed >>> 0;
  const next = (() => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }) as Random;
  next.state = () => a;
  return next;
}

/** A generator for one purpose (an epoch, a clip) derived from a seed, independent of the others. */
export function deriveRandom(seed: number, ...path: number[]): Random {
  let h = seed >>> 0;
  for (const p of path) h = Math.imul(h ^ (p + 0x9e3779b9), 0x85ebca6b) >>> 0;
  return createRandom(h);
}

export function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** A standard normal draw (Box-Muller). */
export function gaussian(random: Random): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Make Math.random (and with it TF.js's unseeded random ops) reproducible in this thread. */
export function seedMathRandom(seed: number): void {
  Math.random = createRandom(seed);
}
