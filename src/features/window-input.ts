/**
 * How a window's Mel frames become the model's input rows.
 *
 * `whole`: the window, normalized (one row), as the recipe defines it.
 *
 * `spans`: a window whose sound lasts more than 2 s is shown as two 2 s
 * spans, the first and the last two seconds of its sound, each alone in the
 * 3 s frame where it lies (the other frames digital silence) and normalized
 * on its own: two rows, whose answers are averaged. A model trained on 2 s
 * clips placed in 3 s windows (the shipped recipe) has only heard windows
 * with a second of silence; a window full of speech, as a call's are, reads
 * 12-20 points worse than the same audio shown as such spans
 * (docs/evaluation.md, "Serving windows as spans"). Masking frames rather
 * than samples keeps the stream's incremental frames usable as they are; it
 * scores the same as cutting the audio.
 */
import { normalizeWindow } from './normalize.ts';
import { HOP_LENGTH, N_MELS, SAMPLE_RATE, WINDOW_VALUES } from './recipe.ts';

export const WINDOW_INPUTS = ['whole', 'spans'] as const;
export type WindowInput = (typeof WINDOW_INPUTS)[number];

/** A span's length: the training clips' length. */
export const SPAN_SAMPLES = 2 * SAMPLE_RATE;
/** Frames of one span: those whose centre lies in its 2 s. */
export const SPAN_FRAMES = Math.ceil(SPAN_SAMPLES / HOP_LENGTH);
/**
 * A frame is sound (not pause or line noise) when its loudest band is within
 * this of the window's loudest: a call's line floor sits 40 dB and more
 * under its speech.
 */
export const SOUND_DB = 30;
/** 10 log10(amin): what digital silence gives before referencing. */
const SILENCE_DB = -100;

/**
 * The first and last frame of the window's sound (see SOUND_DB), from its
 * Mel dB frames (time-major). Digital silence is never sound, so a silent
 * window's sound is one frame long.
 */
export function soundFrames(db: Float32Array): { first: number; last: number } {
  const frames = db.length / N_MELS;
  const loudest = new Float32Array(frames).fill(Number.NEGATIVE_INFINITY);
  for (let t = 0; t < frames; t++) for (let m = 0; m < N_MELS; m++) loudest[t] = Math.max(loudest[t], db[t * N_MELS + m]);
  const top = Math.max(...loudest);
  let first = 0;
  let last = frames - 1;
  const quiet = (t: number) => loudest[t] < top - SOUND_DB || loudest[t] <= SILENCE_DB;
  while (first < last && quiet(first)) first++;
  while (last > first && quiet(last)) last--;
  return { first, last };
}

/**
 * A window's Mel dB frames (time-major, before referencing; consumed) to its
 * model input rows, back to back. As `spans`, a window whose sound lasts
 * more than a span is two rows: its sound's first and last 2 s, each with the
 * frames outside it set to digital silence; one whose sound fits in a span
 * (a clip with pauses around it, a stream's short last window) is already
 * what the model was trained on, and stays one row.
 */
export function windowInputRows(db: Float32Array, input: WindowInput): Float32Array {
  if (input === 'whole') return normalizeWindow(db);
  const { first, last } = soundFrames(db);
  if (last - first + 1 <= SPAN_FRAMES) return normalizeWindow(db);
  const out = new Float32Array(2 * WINDOW_VALUES);
  for (const [row, from] of [first, last + 1 - SPAN_FRAMES].entries()) {
    const span = out.subarray(row * WINDOW_VALUES, (row + 1) * WINDOW_VALUES);
    span.set(db);
    span.fill(SILENCE_DB, 0, from * N_MELS);
    span.fill(SILENCE_DB, (from + SPAN_FRAMES) * N_MELS);
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
