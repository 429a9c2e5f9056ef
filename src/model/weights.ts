/**
 * A model's weights as one flat Float32Array, trainable ones first, in the
 * model's own order: how the training threads exchange them, and how
 * checkpoints store them.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayersModel, LayerVariable } from '@tensorflow/tfjs';

export function weightVariables(model: LayersModel): { trainable: LayerVariable[]; frozen: LayerVariable[] } {
  return { trainable: model.trainableWeights, frozen: model.nonTrainableWeights };
}

const sizeOf = (v: LayerVariable) => (v.shape as number[]).reduce((a, b) => a * b, 1);

export function weightCount(variables: LayerVariable[]): number {
  return variables.reduce((n, v) => n + sizeOf(v), 0);
}

export function packVariables(variables: LayerVariable[]): Float32Array {
  const out = new Float32Array(weightCount(variables));
  let offset = 0;
  for (const v of variables) {
    const values = v.read().dataSync() as Float32Array;
    out.set(values, offset);
    offset += values.length;
  }
  return out;
}

export function unpackVariables(variables: LayerVariable[], values: Float32Array): void {
  if (values.length !== weightCount(variables)) throw new Error(`expected ${weightCount(variables)} weight values, got ${values.length}`);
  let offset = 0;
  for (const v of variables) {
    const n = sizeOf(v);
    const value = tf.tensor(values.subarray(offset, offset + n), v.shape as number[]);
    v.write(value);
    value.dispose();
    offset += n;
  }
}

/** Every weight, trainable first. */
export function packWeights(model: LayersModel): Float32Array {
  const { trainable, frozen } = weightVariables(model);
  return packVariables([...trainable, ...frozen]);
}

export function unpackWeights(model: LayersModel, values: Float32Array): void {
  const { trainable, frozen } = weightVariables(model);
  unpackVariables([...trainable, ...frozen], values);
}
