/** Keras's EarlyStopping(restore_best_weights) and ReduceLROnPlateau, as small state machines over epoch losses, and cosine annealing. */

export interface PlateauState {
  best: number;
  wait: number;
}

export const freshPlateau = (): PlateauState => ({ best: Number.POSITIVE_INFINITY, wait: 0 });

/** Record an epoch's monitored loss; true when it improved on the best by more than `minDelta`. */
export function observe(state: PlateauState, loss: number, minDelta = 0): boolean {
  if (loss < state.best - minDelta) {
    state.best = loss;
    state.wait = 0;
    return true;
  }
  state.wait++;
  return false;
}

/** The learning rate after an epoch: cut by `factor` once `patience` epochs passed without improvement (Keras: min_delta 1e-4). */
export function plateauLearningRate(
  state: PlateauState,
  loss: number,
  lr: number,
  options: { patience: number; factor: number; minLearningRate: number },
): number {
  observe(state, loss, 1e-4);
  if (state.wait < options.patience || lr <= options.minLearningRate) return lr;
  state.wait = 0;
  return Math.max(options.minLearningRate, lr * options.factor);
}

/** The learning rate of (0-based) `epoch` of `epochs` under cosine annealing from `lr` to `minLearningRate` (SGDR without restarts). */
export function cosineLearningRate(epoch: number, epochs: number, lr: number, minLearningRate: number): number {
  return minLearningRate + ((lr - minLearningRate) * (1 + Math.cos((Math.PI * epoch) / epochs))) / 2;
}
