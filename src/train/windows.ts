/**
 * Model inputs for evaluation. With one position a clip is read as the recipe
 * reads it (from the window's start); with k positions it is also placed at
 * the window's end and evenly between, and the predictions are averaged,
 * which steadies short clips whose speech would otherwise always sit in the
 * window's first 2 s.
 */
import { WINDOW_VALUES } from '../features/recipe.ts';
import { windowFeatures } from '../features/extract.ts';
import { placeInWindow } from './augment.ts';
import type { LoadedClip } from './clip-store.ts';

/** Position `p` of `positions` as a place in the window: 0 (the window's start) to 1 (its end). */
const placeOf = (p: number, positions: number) => (positions === 1 ? 0 : p / (positions - 1));

/** The model input of `signal` at each of the evaluation's `positions`, Mel bands from `fmin` Hz. */
export function positionedWindows(signal: Float32Array, positions: number, fmin = 0): Float32Array[] {
  return Array.from({ length: positions }, (_, p) => windowFeatures(placeInWindow(signal, placeOf(p, positions)), 0, 'whole', fmin));
}

export function evaluationWindows(clips: LoadedClip[], positions: number, fmin = 0): Float32Array {
  const out = new Float32Array(clips.length * positions * WINDOW_VALUES);
  clips.forEach((clip, c) => {
    // With one position a clip's cached features (the recipe's bands) are its window.
    const windows = positions === 1 && fmin === 0 ? [clip.features] : positionedWindows(clip.signal, positions, fmin);
    windows.forEach((features, p) => out.set(features, (c * positions + p) * WINDOW_VALUES));
  });
  return out;
}

/** Mean over each clip's positions of (clips * positions) x classes probabilities. */
export function averageOverPositions(probabilities: Float32Array, positions: number, classes: number): Float32Array {
  const clips = probabilities.length / classes / positions;
  const out = new Float32Array(clips * classes);
  for (let c = 0; c < clips; c++) {
    for (let p = 0; p < positions; p++) {
      for (let k = 0; k < classes; k++) out[c * classes + k] += probabilities[(c * positions + p) * classes + k] / positions;
    }
  }
  return out;
}

/** Mean cross-entropy of probabilities against labels (Keras's clip at 1e-7). */
export function meanCrossEntropy(probabilities: Float32Array, labels: ArrayLike<number>, classes: number): number {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) sum -= Math.log(Math.min(1, Math.max(1e-7, probabilities[i * classes + labels[i]])));
  return sum / Math.max(1, labels.length);
}
