/** How a window becomes the model's rows: whole, or the first and last 2 s of its sound. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { melDbFrames, windowFeatures } from '../../src/features/extract.ts';
import { normalizeWindow } from '../../src/features/normalize.ts';
import { N_MELS, SAMPLE_RATE, WINDOW_FRAMES, WINDOW_SAMPLES, WINDOW_VALUES } from '../../src/features/recipe.ts';
import { meanOverRows, SPAN_FRAMES, soundFrames, windowInputRows } from '../../src/features/window-input.ts';
import { concat, maxAbsDiff, noise, tone } from '../helpers/signals.ts';

/** The recipe's input of `signal`'s window with every frame outside [from, from + SPAN_FRAMES) digital silence. */
function spanOf(signal: Float32Array, from: number): Float32Array {
  const db = melDbFrames(signal);
  for (let t = 0; t < WINDOW_FRAMES; t++) if (t < from || t >= from + SPAN_FRAMES) db.fill(-100, t * N_MELS, (t + 1) * N_MELS);
  return normalizeWindow(db);
}
const row = (rows: Float32Array, r: number) => rows.subarray(r * WINDOW_VALUES, (r + 1) * WINDOW_VALUES);
const seconds = (s: number) => Math.round(s * SAMPLE_RATE);
/** Voiced sound: a tone over a little noise. */
const voiced = (s: number, seed: number) => tone(220, SAMPLE_RATE, seconds(s), 0.5).map((v, i, a) => v + noise(a.length, 0.02, seed)[i]);

describe('window input', () => {
  test('whole is the recipe', () => {
    const signal = voiced(3, 1);
    assert.equal(maxAbsDiff(windowInputRows(melDbFrames(signal), 'whole'), windowFeatures(signal)), 0);
  });

  test('a window full of sound is two rows: its first and last 2 s, the other frames digital silence, each normalized alone', () => {
    // A loud second, then quieter sound: the spans see different maxima and spreads.
    const signal = concat([tone(300, SAMPLE_RATE, seconds(1), 0.8), voiced(2, 2).map((v) => v * 0.3)]);
    assert.deepEqual(soundFrames(melDbFrames(signal)), { first: 0, last: WINDOW_FRAMES - 1 });
    const rows = windowFeatures(signal, 0, 'spans');
    assert.equal(rows.length, 2 * WINDOW_VALUES);
    assert.ok(maxAbsDiff(row(rows, 0), spanOf(signal, 0)) <= 1e-6);
    assert.ok(maxAbsDiff(row(rows, 1), spanOf(signal, WINDOW_FRAMES - SPAN_FRAMES)) <= 1e-6);
    // The second span does not hear the loud first second: it differs from the whole window's frames.
    assert.ok(maxAbsDiff(row(rows, 1).subarray(100 * N_MELS, 101 * N_MELS), windowFeatures(signal).subarray(100 * N_MELS, 101 * N_MELS)) > 0.1);
  });

  test('the spans follow the sound: 2.5 s of speech then a line floor 50 dB under gives spans ending where the speech does', () => {
    const signal = concat([voiced(2.5, 3), noise(seconds(0.5), 0.5 * 10 ** (-50 / 20), 4)]);
    const { first, last } = soundFrames(melDbFrames(signal));
    assert.equal(first, 0);
    // The speech's last frames: the ones whose 2048-sample frame still reaches it.
    assert.ok(Math.abs(last - seconds(2.5) / 512) <= 2, `last ${last}`);
    const rows = windowFeatures(signal, 0, 'spans');
    assert.ok(maxAbsDiff(row(rows, 1), spanOf(signal, last + 1 - SPAN_FRAMES)) <= 1e-6);
  });

  test('a window whose sound fits in 2 s (a clip with pauses around it) is one row: the window whole, as the model was trained', () => {
    const clip = concat([new Float32Array(seconds(0.6)), voiced(1.9, 5), new Float32Array(WINDOW_SAMPLES - seconds(2.5))]);
    assert.equal(maxAbsDiff(windowFeatures(clip, 0, 'spans'), windowFeatures(clip)), 0);
    // Digital silence is one row of zeros (a stream opened with vad=false sends it to the model).
    const silent = windowFeatures(new Float32Array(WINDOW_SAMPLES), 0, 'spans');
    assert.equal(silent.length, WINDOW_VALUES);
    assert.ok(silent.every((v) => v === 0));
  });

  test('meanOverRows averages each window over its rows, and refuses a count that does not add up', () => {
    const table = Float32Array.from([1, 0, 0, 1, 0.5, 0.5, 0.2, 0.8]);
    assert.deepEqual([...meanOverRows(table, 2, [2, 1, 1])], [0.5, 0.5, 0.5, 0.5, 0.2, 0.8].map(Math.fround));
    assert.throws(() => meanOverRows(table, 2, [2, 1]), /4 rows, but the windows hold 3/);
  });
});
