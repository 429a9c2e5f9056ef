/** Messages between the training coordinator (main thread) and its model replicas (worker threads). */
import type { AerNetOptions } from '../../model/aernet-options.ts';
import type { BackendChoice } from '../../model/backend.ts';
import type { TrainingBatch } from '../mixup.ts';

export interface ReplicaData {
  modelOptions: AerNetOptions;
  backend: BackendChoice;
  /** Networks in the model: above 1, an ensemble graph of them (model/ensemble.ts), for prediction. */
  members?: number;
}

/** A replica's part of a batch (model inputs, targets, labels, weights), and the seed of its dropout masks. */
export interface Shard extends TrainingBatch {
  seed: number;
}

export interface StepRequest extends Shard {
  type: 'step';
  id: number;
  /** All weights (trainable first), as packWeights lays them out. */
  weights: Float32Array;
  /** The whole batch's size, across all shards: the loss is a mean over it. */
  batchSize: number;
}

export interface PredictRequest {
  type: 'predict';
  id: number;
  /** New weights to use from now on, or null to keep the current ones. */
  weights: Float32Array | null;
  features: Float32Array;
}

export type ToReplica = StepRequest | PredictRequest;

export interface StepResult {
  type: 'step';
  id: number;
  /** d(loss)/d(weight) for the trainable weights; summed over shards, the whole batch's gradient. */
  gradients: Float32Array;
  /** The non-trainable weights (batch-norm moving statistics) after this shard's forward pass. */
  frozen: Float32Array;
  /** This shard's share of the batch loss (class-weighted cross-entropy plus regularisation). */
  loss: number;
  correct: number;
}

export interface PredictResult {
  type: 'predict';
  id: number;
  probabilities: Float32Array;
  attention: Float32Array;
}

export type FromReplica =
  | { type: 'ready'; backend: string; detail: string }
  | StepResult
  | PredictResult
  | { type: 'error'; id?: number; message: string; stack?: string };
