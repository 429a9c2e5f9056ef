/**
 * What the service runs the model with: one small interface (docs/architecture.md,
 * "Engines") over onnxruntime and TF.js. A batch is `batch` feature windows
 * back to back (130 x 128 float32 each); the result holds, per window, the
 * class probabilities and the attention weights per model time step.
 */
export const ENGINES = ['auto', 'onnx', 'tfjs', 'simulated'] as const;
export type EngineChoice = (typeof ENGINES)[number];

/** The onnx engine's graph: int8 (model.int8.onnx), fp32 (model.onnx), or auto (int8 on the CPU when the model has it). */
export const PRECISIONS = ['auto', 'fp32', 'int8'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** The simulated engine's delay when none is given: about what a GPU takes for a batch. */
export const DEFAULT_SIMULATED_MS = 2;

export interface Prediction {
  /** batch x labels, row-major. */
  probabilities: Float32Array;
  /** batch x attentionSteps, row-major. */
  attention: Float32Array;
}

import type { AerMetadata } from '../model/model-files.ts';

export interface Engine {
  readonly name: 'onnx' | 'tfjs' | 'simulated';
  /** The model's aer.json: labels, variant, attention steps, metrics. */
  readonly metadata: AerMetadata;
  /** What runs it, for logs, /v1/models and metrics (e.g. "onnxruntime-node 1.30.0, cpu"). */
  readonly detail: string;
  readonly labels: string[];
  readonly attentionSteps: number;
  predict(windows: Float32Array, batch: number): Promise<Prediction>;
  dispose(): Promise<void>;
}
