/**
 * Whether an engine's outputs are what the service promises clients:
 * probabilities (finite, non-negative, summing to 1) and finite attention
 * weights. A model with corrupt weights (NaN, infinities) loads and runs
 * without an error and answers garbage, so the service checks the engine
 * on a fixed input before it is ready, and every batch before its results
 * go out.
 */
import { AerError } from '../errors.ts';
import { WINDOW_VALUES } from '../features/recipe.ts';
import type { Engine, Prediction } from './engine.ts';

/** Softmax in float32 sums to 1 within ~1e-6; int8 graphs dequantize before it. */
const SUM_TOLERANCE = 1e-3;

/** What is wrong with row `i` of a batch's prediction, or undefined when it is sound. */
export function rowProblem(prediction: Prediction, batch: number, i: number): string | undefined {
  const classes = prediction.probabilities.length / batch;
  const steps = prediction.attention.length / batch;
  let sum = 0;
  for (let k = i * classes; k < (i + 1) * classes; k++) {
    const p = prediction.probabilities[k];
    if (!Number.isFinite(p)) return `a score is ${p}`;
    if (p < 0) return `a score is negative (${p})`;
    sum += p;
  }
  if (Math.abs(sum - 1) > SUM_TOLERANCE) return `the scores sum to ${sum.toFixed(4)}, not 1`;
  for (let k = i * steps; k < (i + 1) * steps; k++) {
    if (!Number.isFinite(prediction.attention[k])) return `an attention weight is ${prediction.attention[k]}`;
  }
  return undefined;
}

/** Two windows the service must answer soundly: z-scored noise of a fixed pattern, and all zeros (digital silence after z-scoring). */
export function checkInput(): Float32Array {
  const input = new Float32Array(2 * WINDOW_VALUES);
  for (let k = 0; k < WINDOW_VALUES; k++) {
    // A fixed hash in [-1, 1), scaled to unit variance.
    const h = Math.sin(k * 12.9898 + 78.233) * 43758.5453;
    input[k] = (h - Math.floor(h)) * 2 * Math.sqrt(3) - Math.sqrt(3);
  }
  return input;
}

/** Runs the fixed input; throws `engine_fault` naming what is wrong. Also warms the engine (its first batch pays for lazy set-up). */
export async function checkEngine(engine: Pick<Engine, 'predict' | 'labels' | 'attentionSteps'>, model = 'the model'): Promise<void> {
  const prediction = await engine.predict(checkInput(), 2);
  if (prediction.probabilities.length !== 2 * engine.labels.length || prediction.attention.length !== 2 * engine.attentionSteps) {
    throw new AerError(
      'engine_fault',
      `${model} answered ${prediction.probabilities.length / 2} scores and ${prediction.attention.length / 2} attention weights per window; ${engine.labels.length} and ${engine.attentionSteps} were expected`,
    );
  }
  for (let i = 0; i < 2; i++) {
    const problem = rowProblem(prediction, 2, i);
    if (problem) {
      throw new AerError('engine_fault', `${model} does not answer probabilities on a fixed test window (${problem}): its weights are likely corrupt`, {
        hint: 'restore the model directory (e.g. git checkout models/default) or train it again with aer train',
      });
    }
  }
}
