/**
 * Does an exported graph compute what the TF.js model computes? Runs both on
 * the same batch of feature windows and gives the largest absolute
 * difference of the probabilities and of the attention weights.
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { N_MELS, WINDOW_FRAMES, WINDOW_VALUES } from '../../features/recipe.ts';

export interface Parity {
  probabilities: number;
  attention: number;
  batch: number;
}

/** The largest tolerated difference (float32 noise through 3 convolutions and an LSTM is ~1e-6). */
export const PARITY_TOLERANCE = 1e-4;

const maxDifference = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** `windows` holds whole 130 x 128 windows back to back. */
export async function checkParity(model: tf.LayersModel, onnx: Uint8Array, windows: Float32Array): Promise<Parity> {
  const batch = windows.length / WINDOW_VALUES;
  const session = await ort.InferenceSession.create(onnx);
  try {
    const out = await session.run({ features: new ort.Tensor('float32', windows, [batch, WINDOW_FRAMES, N_MELS, 1]) });
    const [p, a] = tf.tidy(() => (model.predict(tf.tensor4d(windows, [batch, WINDOW_FRAMES, N_MELS, 1])) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array));
    return { probabilities: maxDifference(p, out.probabilities.data as Float32Array), attention: maxDifference(a, out.attention.data as Float32Array), batch };
  } finally {
    await session.release();
  }
}
