/** Predictions and metrics for labelled clips, averaged over window positions. */
import type { LayersModel } from '@tensorflow/tfjs';
import type { AerNetOptions } from '../model/aernet-options.ts';
import type { BackendChoice } from '../model/backend.ts';
import { memberCount } from '../model/ensemble.ts';
import { packWeights } from '../model/weights.ts';
import type { LoadedClip } from './clip-store.ts';
import { evaluate, type Evaluation, argmaxRows } from './metrics.ts';
import { ReplicaPool } from './parallel/pool.ts';
import { averageOverPositions, evaluationWindows } from './windows.ts';

export interface ClipPredictions {
  evaluation: Evaluation;
  /** clips x classes, averaged over positions. */
  probabilities: Float32Array;
}

export async function evaluateClips(
  pool: ReplicaPool,
  weights: Float32Array,
  clips: LoadedClip[],
  labels: string[],
  positions: number,
  fmin = 0,
): Promise<ClipPredictions> {
  const { probabilities } = await pool.predict(weights, evaluationWindows(clips, positions, fmin));
  const averaged = averageOverPositions(probabilities, positions, labels.length);
  const truth = Int32Array.from(clips, (c) => labels.indexOf(c.label));
  return { evaluation: evaluate(labels, truth, argmaxRows(averaged, labels.length)), probabilities: averaged };
}

/** A loaded model's metrics on clips (an ensemble's averaged), on its own replica pool. */
export async function evaluateModel(
  model: LayersModel,
  options: AerNetOptions,
  clips: LoadedClip[],
  labels: string[],
  positions: number,
  workers: number,
  backend: BackendChoice,
  fmin = 0,
): Promise<Evaluation> {
  const pool = await ReplicaPool.start(Math.max(1, Math.min(workers, Math.ceil(clips.length / 8))), options, backend, memberCount(model));
  try {
    return (await evaluateClips(pool, packWeights(model), clips, labels, positions, fmin)).evaluation;
  } finally {
    await pool.close();
  }
}
