/** Predictions and metrics for labelled clips, averaged over window positions. */
import type { LoadedClip } from './clip-store.ts';
import { evaluate, type Evaluation, argmaxRows } from './metrics.ts';
import type { ReplicaPool } from './parallel/pool.ts';
import { averageOverPositions, evaluationWindows } from './windows.ts';

export interface ClipPredictions {
  evaluation: Evaluation;
  /** clips x classes, averaged over positions. */
  probabilities: Float32Array;
}

export async function evaluateClips(pool: ReplicaPool, weights: Float32Array, clips: LoadedClip[], labels: string[], positions: number): Promise<ClipPredictions> {
  const { probabilities } = await pool.predict(weights, evaluationWindows(clips, positions));
  const averaged = averageOverPositions(probabilities, positions, labels.length);
  const truth = Int32Array.from(clips, (c) => labels.indexOf(c.label));
  return { evaluation: evaluate(labels, truth, argmaxRows(averaged, labels.length)), probabilities: averaged };
}
