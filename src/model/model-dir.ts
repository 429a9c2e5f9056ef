/**
 * A model directory: `model.json` and `weights.bin` (TF.js Layers format,
 * loadable with tf.loadLayersModel) and `aer.json` (what the model is: its
 * labels, the feature recipe it was trained on, variant and options, the
 * training data and recipe, and its measured metrics). Loading checks all of
 * it and says what is wrong rather than serving a model that cannot be right.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { LayersModel } from '@tensorflow/tfjs';
import pkg from '../../package.json' with { type: 'json' };
import { AerError } from '../errors.ts';
import { FEATURE_RECIPE, N_MELS, WINDOW_FRAMES, WINDOW_SAMPLES, SAMPLE_RATE } from '../features/recipe.ts';
import { type AerNetOptions, checkVariant, type Variant } from './aernet-options.ts';
import './attention.ts';
import './temporal-mean.ts';

export const MODEL_FORMAT = 'aer-model-1';
const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';
const AER_JSON = 'aer.json';

export interface AerMetadata {
  format: typeof MODEL_FORMAT;
  /** aer-stream version that wrote it. */
  version: string;
  created: string;
  labels: string[];
  feature_recipe: typeof FEATURE_RECIPE;
  variant: Variant;
  options: AerNetOptions;
  input_shape: [number, number, number];
  /** Attention weights per window, and the stretch of audio each covers. */
  attention_steps: number;
  attention_hop_s: number;
  /** How it was trained: data, split, recipe, augmentation, the command. */
  training: Record<string, unknown>;
  /** What it measured: validation and cross-validation results, baselines. */
  metrics: Record<string, unknown>;
}

export interface LoadedModel {
  dir: string;
  model: LayersModel;
  metadata: AerMetadata;
}

export function describeMetadata(
  labels: string[],
  options: AerNetOptions,
  attentionSteps: number,
  training: Record<string, unknown>,
  metrics: Record<string, unknown>,
): AerMetadata {
  return {
    format: MODEL_FORMAT,
    version: pkg.version,
    created: new Date().toISOString(),
    labels,
    feature_recipe: FEATURE_RECIPE,
    variant: options.variant,
    options,
    input_shape: [WINDOW_FRAMES, N_MELS, 1],
    attention_steps: attentionSteps,
    attention_hop_s: WINDOW_SAMPLES / SAMPLE_RATE / attentionSteps,
    training,
    metrics,
  };
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

/** SHA-256 of the weights, which files derived from them (model.onnx) record to be told apart when stale. */
export async function weightsDigest(dir: string): Promise<string> {
  return crypto
    .createHash('sha256')
    .update(await fs.readFile(path.join(dir, WEIGHTS_BIN)))
    .digest('hex');
}

/** Write next to the target, then rename: a crash never leaves half a file. */
export async function writeAtomically(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

async function readJson(file: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new AerError('invalid_model', `${what} is missing: ${file}`, { hint: 'point --model at a directory written by `aer train`' });
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new AerError('invalid_model', `${file} is corrupt: ${(error as Error).message}`, { hint: 'restore the file, or train the model again' });
  }
}

/** Check aer.json against this front end; returns it typed. */
export function checkMetadata(raw: Record<string, unknown>, file: string): AerMetadata {
  if (raw.format !== MODEL_FORMAT) throw new AerError('invalid_model', `${file} has format ${JSON.stringify(raw.format)}, not ${MODEL_FORMAT}`);
  const labels = raw.labels;
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === 'string' && l.length > 0) || new Set(labels).size !== labels.length) {
    throw new AerError('invalid_model', `${file} must list at least two distinct labels, found ${JSON.stringify(labels)}`);
  }
  const recipe = raw.feature_recipe as Record<string, unknown> | undefined;
  const differences = Object.entries(FEATURE_RECIPE)
    .filter(([key, value]) => JSON.stringify(recipe?.[key]) !== JSON.stringify(value))
    .map(([key, value]) => `${key}: model ${JSON.stringify(recipe?.[key])}, front end ${JSON.stringify(value)}`);
  if (differences.length > 0) {
    throw new AerError('invalid_model', `the model was trained on other features than this front end computes (${differences.join('; ')})`, {
      hint: 'retrain it with this version of aer-stream, or use the version that trained it',
    });
  }
  checkVariant(String(raw.variant));
  return raw as unknown as AerMetadata;
}

/** A model directory's aer.json, checked, without loading the model. */
export async function readModelMetadata(dir: string): Promise<AerMetadata> {
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory())
    throw new AerError('invalid_model', `model directory ${dir} does not exist`, { hint: 'pass the folder that holds model.json, weights.bin and aer.json' });
  return checkMetadata(await readJson(path.join(dir, AER_JSON), "aer.json (the model's labels and feature recipe)"), path.join(dir, AER_JSON));
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
  return { dir, model, metadata };
}
