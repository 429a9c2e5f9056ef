/**
 * Soft training targets: label smoothing, and mixup (Zhang et al., 2018),
 * which blends each training window with another of its batch and asks for
 * the same blend of their labels. Both keep a network trained on a few
 * hundred clips from growing certain of what it has only seen a few times.
 * Pure functions of a batch and a seeded generator.
 */
import { gaussian, type Random, shuffled } from './random.ts';

/** A batch as the replicas train on it: model inputs and, per window, its target distribution. */
export interface TrainingBatch {
  /** n model inputs, end to end. */
  features: Float32Array;
  /** n x classes, each row summing to 1. */
  targets: Float32Array;
  /** Each window's class, or its larger part's when blended: what training accuracy counts. */
  labels: Int32Array;
  /** Per-window loss weights (the class weights, blended as the windows are). */
  sampleWeights: Float32Array;
}

/** Targets of class indices: one-hot, or with `smoothing` of the mass spread over every class. */
export function softTargets(labels: ArrayLike<number>, classes: number, smoothing = 0): Float32Array {
  const targets = new Float32Array(labels.length * classes).fill(smoothing / classes);
  for (let i = 0; i < labels.length; i++) targets[i * classes + labels[i]] += 1 - smoothing;
  return targets;
}

/** A Gamma(shape, 1) draw: Marsaglia and Tsang (2000), shapes below 1 through Gamma(shape + 1) x U^(1/shape). */
export function gammaDraw(shape: number, random: Random): number {
  if (shape < 1) return gammaDraw(shape + 1, random) * Math.max(random(), 1e-12) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = gaussian(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A Beta(alpha, alpha) draw folded onto [0.5, 1]: the share of a blend that stays the window's own. */
export function mixupShare(alpha: number, random: Random): number {
  const a = gammaDraw(alpha, random);
  const b = gammaDraw(alpha, random);
  // Both can underflow to 0 at a tiny alpha, whose Beta sits at 0 or 1 anyway.
  const share = a + b > 0 ? a / (a + b) : 1;
  return Math.max(share, 1 - share);
}

/**
 * Each window blended with a partner from the same batch (a shuffle of it),
 * by a share drawn from Beta(alpha, alpha) and folded so that the window
 * keeps the larger part: its features, targets and loss weight all mixed
 * alike, its label left as it was.
 */
export function mixBatch(batch: TrainingBatch, alpha: number, random: Random): TrainingBatch {
  const n = batch.labels.length;
  const values = batch.features.length / n;
  const classes = batch.targets.length / n;
  const partners = shuffled(
    Array.from({ length: n }, (_, i) => i),
    random,
  );
  const features = new Float32Array(batch.features.length);
  const targets = new Float32Array(batch.targets.length);
  const sampleWeights = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const share = mixupShare(alpha, random);
    const j = partners[i];
    const blend = (from: Float32Array, to: Float32Array, width: number) => {
      for (let k = 0; k < width; k++) to[i * width + k] = share * from[i * width + k] + (1 - share) * from[j * width + k];
    };
    blend(batch.features, features, values);
    blend(batch.targets, targets, classes);
    blend(batch.sampleWeights, sampleWeights, 1);
  }
  return { features, targets, labels: batch.labels.slice(), sampleWeights };
}
