/**
 * How a window's Mel frames become the model's input rows.
 *
 * `whole`: the window, normalized (one row), as the recipe defines it.
 *
 * `spans`: the window as two 2 s spans, its first and its last two seconds,
 * each alone in the 3 s frame where it lies (the other frames digital
 * silence), normalized on its own: two rows, whose answers are averaged. A
 * model trained on 2 s clips placed in 3 s windows (the shipped recipe) has
 * only heard windows with a second of silence; a window full of speech, as a
 * call's are, reads 12-20 points worse than the same audio shown as such spans
 * (docs/evaluation.md, "Serving windows as spans"). Masking frames rather than
 * samples keeps the stream's incremental frames usable as they are; it scores
 * the same as cutting the audio (bench/accuracy/README.md).
 */
import { normalizeWindow } from './normalize.ts';
import { HOP_LENGTH, N_MELS, SAMPLE_RATE, WINDOW_FRAMES, WINDOW_SAMPLES, WINDOW_VALUES } from './recipe.ts';

export const WINDOW_INPUTS = ['whole', 'spans'] as const;
export type WindowInput = (typeof WINDOW_INPUTS)[number];

/** A span's length: the training clips' length. */
export const SPAN_SAMPLES = 2 * SAMPLE_RATE;
/** 10 log10(amin): what digital silence gives before referencing. */
const SILENCE_DB = -100;

/** Model input rows per window, given how many of the window's samples are audio (fewer only for a stream's last, padded window). */
export function inputRows(input: WindowInput, samples = WINDOW_SAMPLES): number {
  return input === 'spans' && samples > SPAN_SAMPLES ? 2 : 1;
}

/**
 * A window's Mel dB frames (time-major, before referencing; consumed) to its
 * model input rows, back to back. `samples` is how much of the window is
 * audio: a window whose audio fits in one span (a short clip, a padded last
 * window) is already what the model was trained on, and stays one row.
 */
export function windowInputRows(db: Float32Array, input: WindowInput, samples = WINDOW_SAMPLES): Float32Array {
  if (inputRows(input, samples) === 1) return normalizeWindow(db);
  const out = new Float32Array(2 * WINDOW_VALUES);
  // A frame belongs to a span when its centre lies in it; the first span ends SPAN_SAMPLES in, the second starts SPAN_SAMPLES before the audio's end.
  const firstEnd = SPAN_SAMPLES;
  const secondStart = samples - SPAN_SAMPLES;
  for (const [row, keep] of [(t: number) => t * HOP_LENGTH < firstEnd, (t: number) => t * HOP_LENGTH >= secondStart].entries()) {
    const span = out.subarray(row * WINDOW_VALUES, (row + 1) * WINDOW_VALUES);
    span.set(db);
    for (let t = 0; t < WINDOW_FRAMES; t++) if (!keep(t)) span.fill(SILENCE_DB, t * N_MELS, (t + 1) * N_MELS);
    normalizeWindow(span);
  }
  return out;
}

/** The mean of each window's rows of a row-major `rows x width` table, given the rows per window. */
export function meanOverRows(table: Float32Array, width: number, rowsPerWindow: readonly number[]): Float32Array {
  const out = new Float32Array(rowsPerWindow.length * width);
  let row = 0;
  rowsPerWindow.forEach((n, w) => {
    for (let r = 0; r < n; r++, row++) for (let j = 0; j < width; j++) out[w * width + j] += table[row * width + j] / n;
  });
  if (row * width !== table.length) throw new Error(`${table.length / width} rows, but the windows hold ${row}`);
  return out;
}
