/** How a window becomes the model's rows: whole, or its first and last 2 s spans. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { melDbFrames, windowFeatures } from '../../src/features/extract.ts';
import { normalizeWindow } from '../../src/features/normalize.ts';
import { HOP_LENGTH, N_MELS, WINDOW_FRAMES, WINDOW_VALUES } from '../../src/features/recipe.ts';
import { inputRows, meanOverRows, SPAN_SAMPLES, windowInputRows } from '../../src/features/window-input.ts';
import { concat, maxAbsDiff, noise, tone } from '../helpers/signals.ts';

const frame = (rows: Float32Array, row: number, t: number) => rows.subarray(row * WINDOW_VALUES + t * N_MELS, row * WINDOW_VALUES + (t + 1) * N_MELS);
const isConstant = (v: Float32Array, value: number) => v.every((x) => Math.abs(x - value) < 1e-5);

describe('window input', () => {
  // Loud speech-like tone for 1 s, then quieter noise: the spans see different maxima and spreads.
  const signal = concat([tone(300, 22050, 22050, 0.8), noise(44100, 0.02, 5)]);

  test('whole is the recipe; spans are two rows, each the window with the frames outside its 2 s as digital silence, normalized alone', () => {
    assert.ok(maxAbsDiff(windowInputRows(melDbFrames(signal), 'whole'), windowFeatures(signal)) === 0);
    const rows = windowInputRows(melDbFrames(signal), 'spans');
    assert.equal(rows.length, 2 * WINDOW_VALUES);
    const lastOfFirst = Math.ceil(SPAN_SAMPLES / HOP_LENGTH) - 1;
    const firstOfSecond = Math.ceil((66150 - SPAN_SAMPLES) / HOP_LENGTH);
    for (const [row, from, to] of [
      [0, lastOfFirst + 1, WINDOW_FRAMES],
      [1, 0, firstOfSecond],
    ]) {
      // Each row is as the recipe normalizes a window whose frames outside the span are silent...
      const db = melDbFrames(signal);
      for (let t = from; t < to; t++) db.fill(-100, t * N_MELS, (t + 1) * N_MELS);
      const expected = normalizeWindow(db);
      assert.ok(maxAbsDiff(rows.subarray(row * WINDOW_VALUES, (row + 1) * WINDOW_VALUES), expected) <= 1e-6, `row ${row}`);
      // ...so those frames sit at the row's floor, and the row is z-scored.
      const floor = Math.min(...rows.subarray(row * WINDOW_VALUES, (row + 1) * WINDOW_VALUES));
      for (let t = from; t < to; t++) assert.ok(isConstant(frame(rows, row, t), floor), `row ${row} frame ${t}`);
      let mean = 0;
      for (const v of rows.subarray(row * WINDOW_VALUES, (row + 1) * WINDOW_VALUES)) mean += v / WINDOW_VALUES;
      assert.ok(Math.abs(mean) < 1e-4);
    }
    // The second span does not hear the loud first second: its speech frames differ from the whole window's.
    assert.ok(maxAbsDiff(frame(rows, 1, 100), frame(windowFeatures(signal), 0, 100)) > 0.1);
  });

  test('a window whose audio fits in one span is one row, as the model was trained on', () => {
    assert.equal(inputRows('spans', SPAN_SAMPLES), 1);
    assert.equal(inputRows('spans', SPAN_SAMPLES + 1), 2);
    assert.equal(inputRows('whole'), 1);
    const clip = signal.subarray(0, 40000);
    assert.ok(maxAbsDiff(windowFeatures(clip, 0, 'spans'), windowFeatures(clip)) === 0);
  });

  test('meanOverRows averages each window over its rows, and refuses a count that does not add up', () => {
    const table = Float32Array.from([1, 0, 0, 1, 0.5, 0.5, 0.2, 0.8]);
    assert.deepEqual([...meanOverRows(table, 2, [2, 1, 1])], [0.5, 0.5, 0.5, 0.5, 0.2, 0.8].map(Math.fround));
    assert.throws(() => meanOverRows(table, 2, [2, 1]), /4 rows, but the windows hold 3/);
  });
});
