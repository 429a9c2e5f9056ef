/**
 * The ablation variants' stand-in for attention: the mean over time steps,
 * returned with the (uniform) weights it used, so every variant of the model
 * has the same two outputs.
 */
import * as tf from '@tensorflow/tfjs';
import { layers } from '@tensorflow/tfjs';

type Shape = (number | null)[];

export class TemporalMean extends layers.Layer {
  static className = 'AerTemporalMean';

  override computeOutputShape(inputShape: Shape | Shape[]): Shape[] {
    const [batch, steps, features] = inputShape as Shape;
    return [
      [batch, features],
      [batch, steps],
    ];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    return tf.tidy(() => {
      const h = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const [batch, steps] = h.shape;
      return [tf.mean(h, 1), tf.fill([batch, steps], 1 / steps)];
    });
  }
}

tf.serialization.registerClass(TemporalMean);
