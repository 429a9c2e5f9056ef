/** Seeded AER-Net models for tests, with batch-norm statistics that are not the identity, so folding and inference modes are exercised. */
import * as tf from '@tensorflow/tfjs';
import type { LayersModel } from '@tensorflow/tfjs';
import type { AerNetOptions } from '../../src/model/aernet-options.ts';
import { buildAerNet } from '../../src/model/aernet.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { saveModelDir } from '../../src/model/model-dir.ts';
import { describeMetadata } from '../../src/model/model-files.ts';
import { LABELS } from '../../src/train/labels.ts';
import { seedMathRandom } from '../../src/train/random.ts';
import { windowFeatures } from '../../src/features/extract.ts';
import { WINDOW_SAMPLES } from '../../src/features/recipe.ts';
import { noise, tone } from './signals.ts';

export async function seededModel(options: Partial<AerNetOptions> = {}, seed = 3): Promise<LayersModel> {
  await selectBackend('wasm');
  seedMathRandom(seed);
  const model = buildAerNet(options);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    // gamma ~ 1, beta ~ 0, mean ~ 0, variance in [0.5, 2].
    layer.setWeights(
      layer
        .getWeights()
        .map((w, i) =>
          tf.tidy(() => (i === 3 ? tf.randomUniform(w.shape, 0.5, 2, 'float32', seed) : tf.randomNormal(w.shape, i === 0 ? 1 : 0, 0.3, 'float32', seed + i))),
        ),
    );
  }
  return model;
}

export async function writeModelDir(dir: string, model: LayersModel, options: AerNetOptions): Promise<void> {
  await saveModelDir(dir, model, describeMetadata([...LABELS], options, model.outputs[1].shape[1] as number, { test: true }, {}));
}

/** `count` feature windows of synthetic voiced sound (tones and noise at several pitches and levels) through the real front end. */
export function featureWindows(count: number): Float32Array {
  const out: Float32Array[] = [];
  for (let i = 0; i < count; i++) {
    const t = tone(140 + 60 * i, 22050, WINDOW_SAMPLES, 0.1 + 0.1 * (i % 3));
    const n = noise(WINDOW_SAMPLES, 0.01 + 0.02 * i, i + 1);
    out.push(windowFeatures(t.map((v, k) => v * (0.5 + 0.5 * Math.sin(k / 3000 + i)) + n[k])));
  }
  const all = new Float32Array(out.reduce((a, w) => a + w.length, 0));
  out.reduce((o, w) => (all.set(w, o), o + w.length), 0);
  return all;
}
