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
 * Mel dB frames (time-major) of one window to its model input, in place:
 * referenceToMax, then a z-score over the whole window, fused into three
 * passes (this runs for every window of every stream). A window whose values
 * are all equal (digital silence gives 0 dB everywhere after referencing) has
 * no spread to divide by: its features are defined as all zeros.
 */
export function normalizeWindow(db: Float32Array): Float32Array {
  const n = db.length;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) if (db[i] > max) max = db[i];
  const floor = max - TOP_DB;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    // Values lie in [-80, 0] dB after referencing, so the one-pass variance loses nothing.
    const v = (db[i] > floor ? db[i] : floor) - max;
    sum += v;
    sq += v * v;
  }
  const mean = sum / n;
  const std = Math.sqrt(Math.max(0, sq / n - mean * mean));
  if (!(std >= SILENT_STD_DB)) return db.fill(0);
  for (let i = 0; i < n; i++) db[i] = ((db[i] > floor ? db[i] : floor) - max - mean) / std;
  return db;
}
