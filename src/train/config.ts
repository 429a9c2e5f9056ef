/**
 * A training run's configuration. The defaults are the paper's recipe (Adam
 * 1e-4, 50 epochs, batch 32, balanced class weights, early stopping with
 * best-weight restore, ReduceLROnPlateau); the split defaults to whole
 * speakers held out, because a service meets voices it never heard.
 */
import { type AerNetOptions, DEFAULT_OPTIONS } from '../model/aernet-options.ts';
import type { BackendChoice } from '../model/backend.ts';
import { type AugmentOptions, DEFAULT_AUGMENTATION } from './augment.ts';
import type { DatasetName } from './datasets/scan.ts';
import type { SplitKind } from './split.ts';

export interface TrainConfig {
  /** Dataset folders, each `dir` or `name=dir`. */
  data: string[];
  dataset?: DatasetName;
  /** How validation clips are chosen; 'none' trains on everything for `epochs` epochs. */
  split: SplitKind | 'none';
  validationFraction: number;
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Epochs without a better validation loss before stopping (0: never stop early). */
  earlyStoppingPatience: number;
  /** Epochs without a better monitored loss before the learning rate is cut. */
  lrPatience: number;
  lrFactor: number;
  minLearningRate: number;
  /**
   * 'cosine': the learning rate falls along half a cosine from
   * `learningRate` to `minLearningRate` over the epochs, in place of
   * ReduceLROnPlateau, so a run without validation ends annealed rather
   * than at whatever rate its plateaus left. Absent: the plateau (recipes
   * recorded before the option match it).
   */
  lrSchedule?: 'cosine';
  /**
   * 'spans': the service (and the continuous and stream rows of an
   * evaluation) shows the model each window as two 2 s spans
   * (features/window-input.ts), recorded in aer.json. Absent: the window
   * whole (recipes recorded before the option match it).
   */
  windowInput?: 'spans';
  /**
   * The lowest Mel band edge in Hz (`--mel-fmin`), recorded in aer.json's
   * feature recipe: bands from there up, the band below unheard in training
   * and serving alike. Absent: the recipe's 0.
   */
  melFmin?: number;
  /**
   * Keep the mean of the weights at the end of each of the last
   * `averageEpochs` epochs (stochastic weight averaging), its batch norm
   * statistics measured again over one pass of training windows: an optimum
   * flatter than the last step's, with less of one run's chance in it. Only
   * without validation (the average is the run's result). Absent: the last
   * weights (recipes recorded before the option match it).
   */
  averageEpochs?: number;
  /**
   * Mixup's Beta(alpha, alpha): each training window blended with another of
   * its batch, features, targets and loss weight alike (train/mixup.ts).
   * Absent: no blending (recipes recorded before the option match it).
   */
  mixupAlpha?: number;
  /** The share of each target spread evenly over the classes. Absent: one-hot targets. */
  labelSmoothing?: number;
  /** Weight each clip's loss by n / (classes * count of its class). */
  classWeights: boolean;
  augment: AugmentOptions;
  model: AerNetOptions;
  workers: number;
  backend: BackendChoice;
  /** Windows per clip averaged at evaluation, the clip placed from the window's start to its end (1: the recipe's placement). */
  evalPositions: number;
}

export const DEFAULT_TRAIN_CONFIG: Omit<TrainConfig, 'data' | 'workers'> = {
  split: 'speaker',
  validationFraction: 0.2,
  seed: 42,
  epochs: 50,
  batchSize: 32,
  learningRate: 1e-4,
  earlyStoppingPatience: 10,
  lrPatience: 5,
  lrFactor: 0.5,
  minLearningRate: 1e-6,
  classWeights: true,
  augment: DEFAULT_AUGMENTATION,
  model: DEFAULT_OPTIONS,
  backend: 'auto',
  evalPositions: 3,
};

/** What a run learns from: the configuration less where it runs and where its data lies. Two runs with equal recipes train alike. */
export function recipeOf(config: TrainConfig): Omit<TrainConfig, 'workers' | 'backend' | 'data'> {
  const { workers: _w, backend: _b, data: _d, ...recipe } = config;
  return recipe;
}
