/**
 * One replica's part of a training step, and batched inference. The loss is
 * the class-weighted cross-entropy of the clips in this shard (against their
 * target distributions: one-hot, smoothed or blended) divided by the
 * whole batch's size, plus this shard's share of the L2 penalty, so that the
 * shards' gradients add up to the batch's.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayersModel } from '@tensorflow/tfjs';
import { N_MELS, WINDOW_FRAMES, WINDOW_VALUES } from '../features/recipe.ts';
import type { TrainingBatch } from './mixup.ts';

/** Keras's clip for log(0). */
const EPSILON = 1e-7;

export interface ShardGradients {
  gradients: Float32Array;
  loss: number;
  correct: number;
}

/** Per-clip cross-entropy of predicted probabilities against target distributions (n x classes). */
export function crossEntropy(probabilities: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(targets, tf.log(tf.clipByValue(probabilities, EPSILON, 1))), 1)) as tf.Tensor1D);
}

export function shardGradients(model: LayersModel, { features, labels, targets, sampleWeights }: TrainingBatch, batchSize: number): ShardGradients {
  const n = labels.length;
  const variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  let correct = 0;
  // Tensors out of the tidy, values read after: tidy walks any returned container element by element.
  const { value, grads } = tf.tidy(() => {
    const x = tf.tensor4d(features, [n, WINDOW_FRAMES, N_MELS, 1]);
    const y = tf.tensor1d(labels, 'int32');
    const t = tf.tensor2d(targets, [n, targets.length / n]);
    const w = tf.tensor1d(sampleWeights);
    return tf.variableGrads(() => {
      const [probabilities] = model.apply(x, { training: true }) as tf.Tensor[];
      correct = tf.sum(tf.cast(tf.equal(tf.argMax(probabilities, 1), y), 'float32')).dataSync()[0];
      const data = tf.div(tf.sum(tf.mul(crossEntropy(probabilities as tf.Tensor2D, t), w)), batchSize);
      const penalties = model.calculateLosses();
      const penalty = penalties.length > 0 ? tf.mul(tf.addN(penalties), n / batchSize) : tf.scalar(0);
      return tf.add(data, penalty) as tf.Scalar;
    }, variables);
  });
  const gradients = new Float32Array(variables.reduce((s, v) => s + v.size, 0));
  let offset = 0;
  for (const v of variables) {
    const g = grads[v.name];
    gradients.set(g.dataSync() as Float32Array, offset);
    offset += g.size;
    g.dispose();
  }
  const loss = value.dataSync()[0];
  value.dispose();
  return { gradients, loss, correct };
}

/** Probabilities (n x classes) and attention weights (n x steps) of n model inputs, in batches of `batch`. */
export function predictFeatures(model: LayersModel, features: Float32Array, batch = 32): { probabilities: Float32Array; attention: Float32Array } {
  const n = features.length / WINDOW_VALUES;
  const probabilities: Float32Array[] = [];
  const attention: Float32Array[] = [];
  for (let start = 0; start < n; start += batch) {
    const count = Math.min(batch, n - start);
    tf.tidy(() => {
      const x = tf.tensor4d(features.subarray(start * WINDOW_VALUES, (start + count) * WINDOW_VALUES), [count, WINDOW_FRAMES, N_MELS, 1]);
      const [p, a] = model.predict(x) as tf.Tensor[];
      probabilities.push(p.dataSync() as Float32Array);
      attention.push(a.dataSync() as Float32Array);
    });
  }
  const join = (parts: Float32Array[]) => {
    const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    parts.reduce((o, p) => (out.set(p, o), o + p.length), 0);
    return out;
  };
  return { probabilities: join(probabilities), attention: join(attention) };
}
