/**
 * From a window's Mel dB frames to the model input: power_to_db(ref=max,
 * top_db=80) then a z-score over the whole window.
 */
import { SILENT_STD_DB, TOP_DB } from './recipe.ts';

/** Reference to the window's maximum and floor at -top_db, in place. Returns the array. */
export function referenceToMax(db: Float32Array): Float32Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < db.length; i++) if (db[i] > max) max = db[i];
  for (let i = 0; i < db.length; i++) db[i] = Math.max(db[i] - max, -TOP_DB);
  return db;
}

/**
 * z-score over all values, in place. A window whose values are all equal
 * (digital silence gives 0 dB everywhere after referencing) has no spread to
 * divide by: its features are defined as all zeros.
 */
export function zScore(values: Float32Array): Float32Array {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    sq += d * d;
  }
  const std = Math.sqrt(sq / n);
  if (!(std >= SILENT_STD_DB)) return values.fill(0);
  for (let i = 0; i < n; i++) values[i] = (values[i] - mean) / std;
  return values;
}

/** Mel dB frames (time-major) of one window to its model input, in place. */
export function normalizeWindow(db: Float32Array): Float32Array {
  return zScore(referenceToMax(db));
}
