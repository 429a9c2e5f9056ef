/**
 * Each condition's rows as windows to score and how to score them. Clip
 * rows (clean, telephone, opus, noise) place each transformed clip at the
 * evaluation's window positions and average a clip's windows; continuous
 * rows score every window of a joined run; stream rows score the windows of
 * a streamed call against its turns, raw and after the service's smoothing.
 * Rows are built one at a time, so memory holds one row's windows.
 */
import { concatSamples } from '../../audio/concat.ts';
import { DEFAULT_HOP_MS } from '../../features/hop.ts';
import { WINDOW_VALUES } from '../../features/recipe.ts';
import { meanOverRows, type WindowInput } from '../../features/window-input.ts';
import { ChannelSmoother, DEFAULT_SMOOTHING } from '../../stream/smoothing.ts';
import type { VadBatcher } from '../../stream/vad.ts';
import { AerError } from '../../errors.ts';
import type { LoadedClip } from '../clip-store.ts';
import { argmaxRows, evaluate, type Evaluation } from '../metrics.ts';
import { deriveRandom } from '../random.ts';
import { positionedWindows } from '../windows.ts';
import { buildCalls, type Call, SCORED_OVERLAP_S, type Turn } from './call.ts';
import { viaOpus, viaTelephone } from './channel-sim.ts';
import { gridWindows, joinRuns } from './continuous.ts';
import type { Condition } from './names.ts';
import { babble, mixAtSnr, whiteNoise } from './noise-mix.ts';
import { type CallPath, type StreamWindow, streamCall } from './stream-run.ts';

/** Windows whose label is the average of their unit's windows' scores (a clip), or their own (a continuous window). */
export interface UnitRow {
  kind: 'units';
  row: string;
  /** count x WINDOW_VALUES. */
  windows: Float32Array;
  count: number;
  /** Per window, its unit. */
  unitOf: Int32Array;
  /** Per unit, the true class. */
  truth: Int32Array;
}

export interface StreamEntry {
  channel: number;
  endS: number;
  /** The window's first row in `windows` (a speech window), or -1 (the VAD heard none). */
  input: number;
  /** Its rows in `windows` (two for a window served as spans), averaged for its label. */
  rows: number;
  /** The class of the turn the window lies in, or -1 (not well inside one: not scored). */
  truth: number;
  /** Whether all of the window lies inside that turn (none of it in a gap or the other party's turn). */
  inside: boolean;
}

/** A streamed call's windows, in channel and window order. */
export interface StreamRow {
  kind: 'stream';
  row: string;
  windows: Float32Array;
  count: number;
  entries: StreamEntry[];
}

export type ConditionRow = UnitRow | StreamRow;

export interface RowInputs {
  /** The clips measured. */
  test: readonly LoadedClip[];
  /** Other clips (for babble: speakers other than each test clip's). */
  others: readonly LoadedClip[];
  labels: readonly string[];
  positions: number;
  seed: number;
  /** The VAD the stream rows run; needed only for them. */
  vad?: VadBatcher;
  /** How the continuous and stream rows show a model a window (evaluateConditions sets it per scorer); absent: whole. */
  windowInput?: WindowInput;
  /** The scorers' lowest Mel band edge in Hz (evaluateConditions sets it per scorer); absent: 0. */
  melFmin?: number;
}

/** The random streams of the continuous row's runs and the stream rows' calls (bench/accuracy draws the same). */
export const CONTINUOUS_STREAM = 41;
export const CALLS_STREAM = 43;

/** Each clip transformed, then read at the evaluation's window positions (as `aer eval` reads a clip). */
function clipRow(row: string, inputs: RowInputs, transform: (signal: Float32Array, clip: number) => Float32Array): UnitRow {
  const { test, positions, labels } = inputs;
  const features: Float32Array[] = [];
  test.forEach((clip, c) => {
    const signal = transform(clip.signal, c);
    features.push(...positionedWindows(signal, positions, inputs.melFmin));
  });
  return {
    kind: 'units',
    row,
    windows: concatSamples(features),
    count: features.length,
    unitOf: Int32Array.from(features, (_, i) => Math.floor(i / positions)),
    truth: Int32Array.from(test, (c) => labels.indexOf(c.label)),
  };
}

function continuousRow(inputs: RowInputs): UnitRow {
  const runs = joinRuns(inputs.test, deriveRandom(inputs.seed, CONTINUOUS_STREAM));
  const features: Float32Array[] = [];
  const truth: number[] = [];
  const unitOf: number[] = [];
  for (const run of runs) {
    for (const w of gridWindows(run.signal, DEFAULT_HOP_MS, inputs.windowInput, inputs.melFmin)) {
      // A window's rows (two when served as spans) are one unit: their scores are averaged.
      for (let r = 0; r < w.length; r += WINDOW_VALUES) {
        features.push(w.subarray(r, r + WINDOW_VALUES));
        unitOf.push(truth.length);
      }
      truth.push(inputs.labels.indexOf(run.label));
    }
  }
  if (features.length === 0) {
    throw new AerError(
      'invalid_dataset',
      'continuous needs 3 s of one speaker in one emotion, and no speaker has that here (every group of clips is shorter)',
      { hint: 'measure on more clips per speaker and emotion' },
    );
  }
  return {
    kind: 'units',
    row: 'continuous',
    windows: concatSamples(features),
    count: features.length,
    unitOf: Int32Array.from(unitOf),
    truth: Int32Array.from(truth),
  };
}

/** The turn a window lies in (at least SCORED_OVERLAP_S of it), if any. */
function turnOf(turns: readonly Turn[], channel: number, startS: number, endS: number): Turn | undefined {
  return turns.find((t) => t.channel === channel && overlapS(t, startS, endS) >= SCORED_OVERLAP_S - 1e-9);
}

const overlapS = (turn: Turn, startS: number, endS: number) => Math.min(endS, turn.endS) - Math.max(startS, turn.startS);

/** A stream row from each call's windows, however they were cut (the service's session, or a variant of it in bench/accuracy). */
export async function callRow(
  row: string,
  calls: readonly Call[],
  labels: readonly string[],
  windowsOf: (call: Call) => Promise<StreamWindow[]>,
): Promise<StreamRow> {
  const features: Float32Array[] = [];
  const entries: StreamEntry[] = [];
  let count = 0;
  for (const [k, call] of calls.entries()) {
    for (const w of await windowsOf(call)) {
      const turn = turnOf(call.turns, w.channel, w.startS, w.endS);
      const rows = w.features ? w.features.length / WINDOW_VALUES : 0;
      if (w.features) features.push(w.features);
      // Channels of different calls are kept apart: smoothing runs per channel of a call.
      entries.push({
        channel: 2 * k + w.channel,
        endS: w.endS,
        input: w.features ? count : -1,
        rows,
        truth: turn ? labels.indexOf(turn.label) : -1,
        inside: turn !== undefined && overlapS(turn, w.startS, w.endS) >= w.endS - w.startS - 1e-9,
      });
      count += rows;
    }
  }
  return { kind: 'stream', row, windows: concatSamples(features), count, entries };
}

function streamRow(row: string, path: CallPath, inputs: RowInputs): Promise<StreamRow> {
  const { vad, labels } = inputs;
  // The calls first: data too small for one is the error worth reporting.
  const calls = buildCalls(inputs.test, deriveRandom(inputs.seed, CALLS_STREAM));
  if (!vad) throw new Error('stream rows need the VAD');
  return callRow(row, calls, labels, (call) => streamCall(call, path, vad, [...labels], true, inputs.windowInput, inputs.melFmin));
}

/** Babble for clip `c`: from clips of any other speaker. */
function babblePool(inputs: RowInputs, c: number): Float32Array[] {
  const speaker = inputs.test[c].speaker;
  return [...inputs.test, ...inputs.others].filter((o) => o.speaker !== speaker).map((o) => o.signal);
}

/** A condition's rows, built one at a time. */
export async function* conditionRows(condition: Condition, inputs: RowInputs): AsyncGenerator<ConditionRow> {
  const random = (row: number, clip: number) => deriveRandom(inputs.seed, 40, row, clip);
  switch (condition) {
    case 'clean':
      yield clipRow('clean', inputs, (s) => s);
      return;
    case 'continuous':
      yield continuousRow(inputs);
      return;
    case 'telephone':
      yield clipRow('telephone_mulaw', inputs, (s) => viaTelephone(s, 'mulaw'));
      yield clipRow('telephone_alaw', inputs, (s) => viaTelephone(s, 'alaw'));
      return;
    case 'opus':
      yield clipRow('opus_8k', inputs, (s) => viaOpus(s, 8));
      yield clipRow('opus_16k', inputs, (s) => viaOpus(s, 16));
      return;
    case 'noise':
      for (const [k, snr] of [20, 10].entries()) yield clipRow(`noise_white_${snr}db`, inputs, (s, c) => mixAtSnr(s, whiteNoise(s.length, random(k, c)), snr));
      for (const [k, snr] of [20, 10].entries())
        yield clipRow(`noise_babble_${snr}db`, inputs, (s, c) => mixAtSnr(s, babble(s.length, babblePool(inputs, c), 4, random(2 + k, c)), snr));
      return;
    case 'stream':
      yield await streamRow('stream', 'pcm16k', inputs);
      yield await streamRow('stream_telephone', 'telephone', inputs);
  }
}

/**
 * A row's evaluation(s) from the probabilities of its windows (count x
 * classes): one for a unit row; for a stream row, raw and smoothed labels,
 * and the raw labels of the windows wholly inside their turn (`_inside`:
 * what is left when the turn's edges are taken out).
 */
export function scoreRow(row: ConditionRow, probabilities: Float32Array, labels: readonly string[]): Record<string, Evaluation> {
  const classes = labels.length;
  if (row.kind === 'units') {
    const units = row.truth.length;
    const sums = new Float32Array(units * classes);
    for (let w = 0; w < row.count; w++) for (let k = 0; k < classes; k++) sums[row.unitOf[w] * classes + k] += probabilities[w * classes + k];
    return { [row.row]: evaluate([...labels], row.truth, argmaxRows(sums, classes)) };
  }
  const raw: number[] = [];
  const smoothed: number[] = [];
  const truth: number[] = [];
  const inside = { raw: [] as number[], truth: [] as number[] };
  const smoothers = new Map<number, { smoother: ChannelSmoother; lastEndS: number | undefined }>();
  const argmax = (v: ArrayLike<number>) => {
    let best = 0;
    for (let k = 1; k < v.length; k++) if (v[k] > v[best]) best = k;
    return best;
  };
  for (const e of row.entries) {
    let rawLabel = -1;
    let smoothLabel = -1;
    if (e.input >= 0) {
      const scores = meanOverRows(probabilities.subarray(e.input * classes, (e.input + e.rows) * classes), classes, [e.rows]);
      const state = smoothers.get(e.channel) ?? { smoother: new ChannelSmoother([...labels], DEFAULT_SMOOTHING), lastEndS: undefined };
      smoothers.set(e.channel, state);
      // As the session's channel smooths: the hop is the time since the last speech window.
      const hopS = state.lastEndS === undefined ? 0.5 : Math.max(1e-3, e.endS - state.lastEndS);
      state.lastEndS = e.endS;
      rawLabel = argmax(scores);
      smoothLabel = argmax(state.smoother.update(scores, e.endS, hopS).smoothed);
    }
    if (e.truth < 0) continue;
    truth.push(e.truth);
    raw.push(rawLabel);
    smoothed.push(smoothLabel);
    if (e.inside) {
      inside.truth.push(e.truth);
      inside.raw.push(rawLabel);
    }
  }
  return {
    [row.row]: evaluate([...labels], truth, raw),
    [`${row.row}_smoothed`]: evaluate([...labels], truth, smoothed),
    [`${row.row}_inside`]: evaluate([...labels], inside.truth, inside.raw),
  };
}
