/**
 * AER-Net's attention pooling: a learned score per time step
 * (v . tanh(W h_t + b)), a softmax over time, and the weighted sum of the
 * steps. It returns both the pooled vector and the weights, so inference can
 * show where in the window the emotion was heard. Registered with TF.js so a
 * saved model reloads with tf.loadLayersModel.
 */
import * as tf from '@tensorflow/tfjs';
import { initializers, type LayerVariable, layers } from '@tensorflow/tfjs';

type Shape = (number | null)[];

export interface AttentionPoolingArgs {
  /** Width of the scoring layer. */
  units: number;
  name?: string;
}

export class AttentionPooling extends layers.Layer {
  static className = 'AerAttentionPooling';
  private readonly units: number;
  private w!: LayerVariable;
  private b!: LayerVariable;
  private v!: LayerVariable;

  constructor(args: AttentionPoolingArgs) {
    super({ name: args.name });
    this.units = args.units;
  }

  override build(inputShape: Shape | Shape[]): void {
    const features = (inputShape as Shape)[2];
    if (typeof features !== 'number') throw new Error(`attention pooling needs a known feature size, got shape ${JSON.stringify(inputShape)}`);
    this.w = this.addWeight('w', [features, this.units], 'float32', initializers.glorotUniform({}));
    this.b = this.addWeight('b', [this.units], 'float32', initializers.zeros());
    this.v = this.addWeight('v', [this.units, 1], 'float32', initializers.glorotUniform({}));
    this.built = true;
  }

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
      const [batch, steps, features] = h.shape;
      const flat = tf.reshape(h, [batch * steps, features]);
      const hidden = tf.tanh(tf.add(tf.matMul(flat, this.w.read()), this.b.read()));
      const scores = tf.reshape(tf.matMul(hidden, this.v.read()), [batch, steps]);
      const weights = tf.softmax(scores);
      const pooled = tf.sum(tf.mul(h, tf.expandDims(weights, 2)), 1);
      return [pooled, weights];
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units };
  }
}

tf.serialization.registerClass(AttentionPooling);
