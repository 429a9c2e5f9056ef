/**
 * A model directory as TF.js sees it: `model.json` and `weights.bin` (TF.js
 * Layers format, loadable with tf.loadLayersModel) beside `aer.json`
 * (model-files.ts). Loading checks all of it and says what is wrong rather
 * than serving a model that cannot be right.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { LayersModel } from '@tensorflow/tfjs';
import pkg from '../../package.json' with { type: 'json' };
import { AerError } from '../errors.ts';
import { N_MELS, WINDOW_FRAMES } from '../features/recipe.ts';
import './attention.ts';
import { memberCount } from './ensemble.ts';
import './temporal-mean.ts';
import { AER_JSON, type AerMetadata, MODEL_JSON, readJson, readModelMetadata, WEIGHTS_BIN, writeAtomically } from './model-files.ts';

export interface LoadedModel {
  dir: string;
  model: LayersModel;
  metadata: AerMetadata;
}

export async function saveModelDir(dir: string, model: LayersModel, metadata: AerMetadata): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData!);
      const modelJson = {
        format: 'layers-model',
        generatedBy: `aer-stream ${pkg.version}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
      };
      await writeAtomically(path.join(dir, WEIGHTS_BIN), new Uint8Array(weights));
      await writeAtomically(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  await writeAtomically(path.join(dir, AER_JSON), `${JSON.stringify(metadata, null, 2)}\n`);
}

export async function loadModelDir(dir: string): Promise<LoadedModel> {
  const metadata = await readModelMetadata(dir);
  const modelJson = await readJson(path.join(dir, MODEL_JSON), 'model.json');
  const manifest = modelJson.weightsManifest as { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] | undefined;
  if (!modelJson.modelTopology || !Array.isArray(manifest) || manifest.length === 0) {
    throw new AerError('invalid_model', `${path.join(dir, MODEL_JSON)} has no model topology or weights manifest`);
  }
  const weightSpecs = manifest.flatMap((group) => group.weights);
  const expected = weightSpecs.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  const buffers: Uint8Array[] = [];
  for (const file of manifest.flatMap((group) => group.paths)) {
    try {
      buffers.push(await fs.readFile(path.join(dir, file)));
    } catch {
      throw new AerError('invalid_model', `weights file ${path.join(dir, file)} is missing`, { hint: 'copy the whole model directory, weights included' });
    }
  }
  const total = buffers.reduce((n, b) => n + b.length, 0);
  if (total !== expected) {
    throw new AerError(
      'invalid_model',
      `the weights hold ${total} bytes but model.json describes ${expected}: the files do not belong together or are truncated`,
    );
  }
  const weightData = new Uint8Array(total);
  buffers.reduce((o, b) => (weightData.set(b, o), o + b.length), 0);
  let model: LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology as object, weightSpecs, weightData: weightData.buffer }));
  } catch (error) {
    throw new AerError('invalid_model', `model.json in ${dir} cannot be loaded: ${(error as Error).message}`, { cause: error });
  }
  const input = model.inputs[0]?.shape;
  if (JSON.stringify(input) !== JSON.stringify([null, WINDOW_FRAMES, N_MELS, 1])) {
    throw new AerError(
      'invalid_model',
      `the model takes input ${JSON.stringify(input)}, but the front end makes ${JSON.stringify([null, WINDOW_FRAMES, N_MELS, 1])}`,
    );
  }
  const [probabilities, attention] = model.outputs;
  if (!probabilities || !attention || probabilities.shape[1] !== metadata.labels.length) {
    throw new AerError(
      'invalid_model',
      `the model must output probabilities for its ${metadata.labels.length} labels and attention weights; it outputs ${JSON.stringify(model.outputs.map((o) => o.shape))}`,
    );
  }
  const members = memberCount(model);
  if ((metadata.ensemble?.length ?? 1) !== members) {
    throw new AerError(
      'invalid_model',
      `${path.join(dir, AER_JSON)} lists ${metadata.ensemble?.length ?? 1} network(s), but model.json holds ${members}: the files do not belong together`,
      { hint: 'copy the whole model directory as `aer ensemble` or `aer train` wrote it' },
    );
  }
  return { dir, model, metadata };
}
