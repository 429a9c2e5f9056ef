/**
 * The tfjs engine: the model.json as trained, on TensorFlow's native library
 * when @tensorflow/tfjs-node(-gpu) is installed, else the wasm backend.
 */
import * as tf from '@tensorflow/tfjs';
import { N_MELS, WINDOW_FRAMES } from '../features/recipe.ts';
import type { SelectedBackend } from '../model/backend.ts';
import type { LoadedModel } from '../model/model-dir.ts';
import type { AerMetadata } from '../model/model-files.ts';
import type { Engine, Prediction } from './engine.ts';

export class TfjsEngine implements Engine {
  readonly name = 'tfjs';
  readonly detail: string;
  readonly labels: string[];
  readonly attentionSteps: number;
  readonly metadata: AerMetadata;

  /** The model must have been loaded on `backend` (model weights live in the backend that was active). */
  constructor(
    private readonly loaded: LoadedModel,
    backend: SelectedBackend,
  ) {
    this.detail = backend.detail;
    this.metadata = loaded.metadata;
    this.labels = loaded.metadata.labels;
    this.attentionSteps = loaded.metadata.attention_steps;
  }

  async predict(windows: Float32Array, batch: number): Promise<Prediction> {
    const outputs = tf.tidy(() => this.loaded.model.predict(tf.tensor4d(windows, [batch, WINDOW_FRAMES, N_MELS, 1])) as tf.Tensor[]);
    try {
      const [probabilities, attention] = await Promise.all(outputs.map((t) => t.data() as Promise<Float32Array>));
      return { probabilities, attention };
    } finally {
      tf.dispose(outputs);
    }
  }

  async dispose(): Promise<void> {
    this.loaded.model.dispose();
  }
}
