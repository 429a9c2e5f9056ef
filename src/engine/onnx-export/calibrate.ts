/**
 * Measures what int8 needs to know of the activations: the range of each
 * quantizable convolution's input and output (after its folded batch norm),
 * read from the float ONNX graph itself, so the ranges are those of the
 * values the int8 graph will see. The extremes are percentiles: a handful of
 * outliers would otherwise coarsen the step for every other value.
 */
import type * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { AerError } from '../../errors.ts';
import { N_MELS, WINDOW_FRAMES, WINDOW_VALUES } from '../../features/recipe.ts';
import { createRandom } from '../../train/random.ts';
import { exportOnnx } from './export.ts';
import type { Calibration, Range } from './quantize.ts';
import { concatSamples } from '../../audio/concat.ts';

/** Share of values allowed outside the range at each end. */
export const CLIP_FRACTION = 1e-4;

const BATCH = 16;
/** A batch holds millions of values per tensor: a random sample of each keeps the sort cheap (a fixed stride would alias with the layout's rows). */
const SAMPLES_PER_BATCH = 1 << 16;

/** The values at fractions `clip` and 1 - `clip` of the samples. */
export function percentileRange(samples: Float32Array, clip: number): Range {
  const sorted = samples.slice().sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
  return { min: at(clip), max: at(1 - clip) };
}

/** `windows`: whole 130 x 128 feature windows back to back. */
export async function calibrate(model: tf.LayersModel, windows: Float32Array, clip = CLIP_FRACTION): Promise<Calibration> {
  const count = windows.length / WINDOW_VALUES;
  if (count < 1) throw new AerError('invalid_dataset', 'calibration needs at least one feature window');
  const convs: [string, string, string][] = [];
  const session = await ort.InferenceSession.create(exportOnnx(model, {}, { probes: (...probe) => convs.push(probe) }), { graphOptimizationLevel: 'all' });
  try {
    const names = [...new Set(convs.flatMap(([, input, output]) => [input, output]))];
    const random = createRandom(1);
    const samples = new Map<string, Float32Array[]>(names.map((n) => [n, []]));
    for (let start = 0; start < count; start += BATCH) {
      const n = Math.min(BATCH, count - start);
      const out = await session.run(
        { features: new ort.Tensor('float32', windows.subarray(start * WINDOW_VALUES, (start + n) * WINDOW_VALUES), [n, WINDOW_FRAMES, N_MELS, 1]) },
        names,
      );
      for (const name of names) {
        const values = out[name].data as Float32Array;
        samples
          .get(name)!
          .push(
            values.length <= SAMPLES_PER_BATCH
              ? values.slice()
              : Float32Array.from({ length: SAMPLES_PER_BATCH }, () => values[Math.floor(random() * values.length)]),
          );
      }
    }
    const ranges = new Map(names.map((name) => [name, percentileRange(concatSamples(samples.get(name)!), clip)]));
    return Object.fromEntries(convs.map(([layer, input, output]) => [layer, { input: ranges.get(input)!, output: ranges.get(output)! }]));
  } finally {
    await session.release();
  }
}
