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
    const [p, a] = tf.tidy(() =>
      (model.predict(tf.tensor4d(windows, [batch, WINDOW_FRAMES, N_MELS, 1])) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array),
    );
    return { probabilities: maxDifference(p, out.probabilities.data as Float32Array), attention: maxDifference(a, out.attention.data as Float32Array), batch };
  } finally {
    await session.release();
  }
}

export interface Agreement {
  /** Share of windows whose most likely label is the same. */
  labels: number;
  /** Largest absolute differences. */
  probabilities: number;
  attention: number;
  windows: number;
}

/** The least share of windows on which an int8 graph must name the float graph's label. */
export const MIN_LABEL_AGREEMENT = 0.97;

const argmax = (a: Float32Array) => a.reduce((best, v, i) => (v > a[best] ? i : best), 0);

/** How closely a quantized graph follows the float one on the same windows (not to 1e-4: int8 rounds). */
export async function checkAgreement(
  reference: Uint8Array,
  candidate: Uint8Array,
  windows: Float32Array,
  sessionOptions: ort.InferenceSession.SessionOptions = {},
): Promise<Agreement> {
  const batch = windows.length / WINDOW_VALUES;
  const run = async (bytes: Uint8Array) => {
    const session = await ort.InferenceSession.create(bytes, sessionOptions);
    try {
      const out = await session.run({ features: new ort.Tensor('float32', windows, [batch, WINDOW_FRAMES, N_MELS, 1]) });
      return { p: out.probabilities.data as Float32Array, a: out.attention.data as Float32Array };
    } finally {
      await session.release();
    }
  };
  const [r, c] = [await run(reference), await run(candidate)];
  const classes = r.p.length / batch;
  let same = 0;
  for (let i = 0; i < batch; i++) if (argmax(r.p.subarray(i * classes, (i + 1) * classes)) === argmax(c.p.subarray(i * classes, (i + 1) * classes))) same++;
  return { labels: same / batch, probabilities: maxDifference(r.p, c.p), attention: maxDifference(r.a, c.a), windows: batch };
}
