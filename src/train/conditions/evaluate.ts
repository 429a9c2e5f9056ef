/**
 * Measuring models under the service's conditions: every row of every
 * condition asked for, scored by each model on the same audio (the
 * network and the baselines of a fold see identical windows, unless the
 * network's Mel bands start elsewhere: then its own of that audio). A condition
 * that cannot be built from the data (too few clips, one speaker) is
 * reported with what is missing, and the others still run.
 */
import { WINDOW_VALUES } from '../../features/recipe.ts';
import type { WindowInput } from '../../features/window-input.ts';
import { isAerError } from '../../errors.ts';
import { trainForest, forestProbabilities } from '../baselines/forest.ts';
import { DEFAULT_BASELINES, type BaselineOptions } from '../baselines/run.ts';
import { trainSvm } from '../baselines/svm.ts';
import type { LoadedClip } from '../clip-store.ts';
import type { Evaluation } from '../metrics.ts';
import type { ReplicaPool } from '../parallel/pool.ts';
import { evaluationWindows } from '../windows.ts';
import type { Condition } from './names.ts';
import { conditionRows, type RowInputs, scoreRow } from './rows.ts';

/** A model as the conditions use it: probabilities (count x classes) for windows. */
export interface Scorer {
  name: string;
  /** How it takes the continuous and stream rows' windows (its model's window_input); absent: whole. */
  windowInput?: WindowInput;
  /** Its model's lowest Mel band edge in Hz (every row's windows); absent: the recipe's 0. */
  melFmin?: number;
  predict(windows: Float32Array, count: number): Promise<Float32Array>;
}

/** The conditions whose windows depend on how a model takes them; the others are clips, whole for every scorer. */
const WINDOWED: readonly Condition[] = ['continuous', 'stream'];

export interface ConditionResults {
  /** Row -> scorer -> evaluation, rows in the conditions' order. */
  rows: Record<string, Record<string, Evaluation>>;
  /** Conditions that could not be built, with why. */
  failed: Partial<Record<Condition, string>>;
}

export async function evaluateConditions(
  conditions: readonly Condition[],
  inputs: RowInputs,
  scorers: readonly Scorer[],
  onRow?: (row: string) => void,
): Promise<ConditionResults> {
  const results: ConditionResults = { rows: {}, failed: {} };
  for (const condition of conditions) {
    // Scorers that take windows alike share a row: built once per window input and Mel bands, clip rows once per bands.
    const viewOf = (s: Scorer) => ({
      windowInput: WINDOWED.includes(condition) ? (s.windowInput ?? 'whole') : ('whole' as WindowInput),
      melFmin: s.melFmin ?? 0,
    });
    const keyOf = (s: Scorer) => JSON.stringify(viewOf(s));
    try {
      for (const key of new Set(scorers.map(keyOf))) {
        const group = scorers.filter((s) => keyOf(s) === key);
        for await (const row of conditionRows(condition, { ...inputs, ...viewOf(group[0]) })) {
          onRow?.(row.row);
          for (const scorer of group) {
            const probabilities = row.count > 0 ? await scorer.predict(row.windows, row.count) : new Float32Array(0);
            for (const [name, evaluation] of Object.entries(scoreRow(row, probabilities, inputs.labels))) (results.rows[name] ??= {})[scorer.name] = evaluation;
          }
        }
      }
    } catch (error) {
      if (!isAerError(error)) throw error;
      results.failed[condition] = error.hint ? `${error.message} (${error.hint})` : error.message;
    }
  }
  return results;
}

/** The network with the given weights, on its replica pool, taking windows as its model is served. */
export function networkScorer(pool: ReplicaPool, weights: Float32Array, name = 'aernet', windowInput: WindowInput = 'whole', melFmin = 0): Scorer {
  return { name, windowInput, melFmin, predict: async (windows) => (await pool.predict(weights, windows.slice())).probabilities };
}

function rowsOf(windows: Float32Array, count: number): Float32Array[] {
  return Array.from({ length: count }, (_, i) => windows.subarray(i * WINDOW_VALUES, (i + 1) * WINDOW_VALUES));
}

/**
 * Both baselines as scorers, trained on `train` with each clip at the
 * evaluation's `positions` in the window (the start, the end and evenly
 * between): a flattened spectrogram is not shift-invariant, and the
 * conditions read clips at those positions and speech anywhere in a
 * window, so this is their share of the placement augmentation the
 * network trains with. The SVM's votes are one-hot.
 */
export async function baselineScorers(
  train: readonly LoadedClip[],
  labels: readonly string[],
  positions: number,
  options: BaselineOptions = DEFAULT_BASELINES,
): Promise<{ scorers: Scorer[]; dispose(): void }> {
  const y = Int32Array.from({ length: train.length * positions }, (_, i) => labels.indexOf(train[Math.floor(i / positions)].label));
  const rows = rowsOf(evaluationWindows([...train], positions), train.length * positions);
  const svm = await trainSvm(rows, y, options.svm);
  const forest = trainForest(rows, y, labels.length, options.forest);
  const classes = labels.length;
  return {
    scorers: [
      {
        name: 'svm',
        predict: async (windows, count) => {
          const out = new Float32Array(count * classes);
          svm.predict(rowsOf(windows, count)).forEach((k, i) => (out[i * classes + k] = 1));
          return out;
        },
      },
      {
        name: 'forest',
        predict: async (windows, count) => {
          const out = new Float32Array(count * classes);
          rowsOf(windows, count).forEach((r, i) => out.set(forestProbabilities(forest, r), i * classes));
          return out;
        },
      },
    ],
    dispose: () => svm.free(),
  };
}
