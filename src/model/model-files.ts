/**
 * The files of a model directory that can be read without TF.js: its names,
 * `aer.json` (what the model is: labels, feature recipe, variant and
 * options, training data and recipe, measured metrics), checked against this
 * front end, and the weights' digest that exported graphs record. Serving a
 * current ONNX graph needs nothing more (model-dir.ts loads the TF.js model).
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import { AerError } from '../errors.ts';
import { FEATURE_RECIPE, type FeatureRecipe, featureRecipe, MAX_MEL_FMIN, N_MELS, SAMPLE_RATE, WINDOW_FRAMES, WINDOW_SAMPLES } from '../features/recipe.ts';
import { WINDOW_INPUTS, type WindowInput } from '../features/window-input.ts';
import { type AerNetOptions, checkVariant, type Variant } from './aernet-options.ts';

export const MODEL_FORMAT = 'aer-model-1';
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const AER_JSON = 'aer.json';
/** The float graph aer export-onnx writes (model.int8.onnx beside it: int8-session.ts). */
export const ONNX_FILE = 'model.onnx';

export interface AerMetadata {
  format: typeof MODEL_FORMAT;
  /** aer-stream version that wrote it. */
  version: string;
  created: string;
  labels: string[];
  /** The front end's recipe; only `fmin` may differ from this version's (a model trained with --mel-fmin). */
  feature_recipe: FeatureRecipe;
  variant: Variant;
  options: AerNetOptions;
  input_shape: [number, number, number];
  /** Attention weights per window, and the stretch of audio each covers. */
  attention_steps: number;
  attention_hop_s: number;
  /**
   * How the service shows it a window (features/window-input.ts): absent is
   * `whole`; `spans` for a model trained on 2 s clips that reads windows full
   * of speech better as two 2 s spans (chosen by measurement, docs/model.md).
   */
  window_input?: WindowInput;
  /** An ensemble (`aer ensemble`): the networks averaged in it, in the graph's order (model/ensemble.ts). */
  ensemble?: { from: string; weights_sha256: string; seed?: number }[];
  /** How it was trained: data, split, recipe, augmentation, the command. */
  training: Record<string, unknown>;
  /** What it measured: validation and cross-validation results, baselines. */
  metrics: Record<string, unknown>;
}

export function describeMetadata(
  labels: string[],
  options: AerNetOptions,
  attentionSteps: number,
  training: Record<string, unknown>,
  metrics: Record<string, unknown>,
  melFmin = 0,
): AerMetadata {
  return {
    format: MODEL_FORMAT,
    version: pkg.version,
    created: new Date().toISOString(),
    labels,
    feature_recipe: featureRecipe(melFmin),
    variant: options.variant,
    options,
    input_shape: [WINDOW_FRAMES, N_MELS, 1],
    attention_steps: attentionSteps,
    attention_hop_s: WINDOW_SAMPLES / SAMPLE_RATE / attentionSteps,
    training,
    metrics,
  };
}

/** How the service shows the model a window. */
export function windowInputOf(metadata: Pick<AerMetadata, 'window_input'>): WindowInput {
  return metadata.window_input ?? 'whole';
}

/** The model's lowest Mel band edge in Hz: 0 unless it was trained with --mel-fmin. */
export function melFminOf(metadata: Pick<AerMetadata, 'feature_recipe'>): number {
  return metadata.feature_recipe.fmin;
}

/** SHA-256 of the weights, which files derived from them (model.onnx) record to be told apart when stale. */
export async function weightsDigest(dir: string): Promise<string> {
  const file = path.join(dir, WEIGHTS_BIN);
  const weights = await fs
    .readFile(file)
    .catch(() =>
      Promise.reject(new AerError('invalid_model', `weights file ${file} is missing`, { hint: 'copy the whole model directory, weights included' })),
    );
  return crypto.createHash('sha256').update(weights).digest('hex');
}

/** Write next to the target, then rename: a crash never leaves half a file. */
export async function writeAtomically(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

export async function readJson(file: string, what: string): Promise<Record<string, unknown>> {
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
    .filter(([key]) => key !== 'fmin')
    .filter(([key, value]) => JSON.stringify(recipe?.[key]) !== JSON.stringify(value))
    .map(([key, value]) => `${key}: model ${JSON.stringify(recipe?.[key])}, front end ${JSON.stringify(value)}`);
  if (differences.length > 0) {
    throw new AerError('invalid_model', `the model was trained on other features than this front end computes (${differences.join('; ')})`, {
      hint: 'retrain it with this version of aer-stream, or use the version that trained it',
    });
  }
  const fmin = recipe?.fmin;
  if (typeof fmin !== 'number' || !Number.isFinite(fmin) || fmin < 0 || fmin > MAX_MEL_FMIN) {
    throw new AerError('invalid_model', `${file} has feature_recipe.fmin ${JSON.stringify(fmin)}, not a number of Hz from 0 to ${MAX_MEL_FMIN}`, {
      hint: 'set it to the --mel-fmin the model was trained with (0 when none), or retrain it',
    });
  }
  checkVariant(String(raw.variant));
  if (raw.window_input !== undefined && !(WINDOW_INPUTS as readonly unknown[]).includes(raw.window_input))
    throw new AerError('invalid_model', `${file} has window_input ${JSON.stringify(raw.window_input)}, not one of ${WINDOW_INPUTS.join(', ')}`, {
      hint: 'remove it (the window whole) or set it to spans',
    });
  const networks = raw.ensemble;
  const network = (m: unknown) => typeof m === 'object' && m !== null && typeof (m as Record<string, unknown>).weights_sha256 === 'string';
  if (networks !== undefined && !(Array.isArray(networks) && networks.length >= 2 && networks.every(network)))
    throw new AerError('invalid_model', `${file} has an ensemble entry that does not list 2 or more networks with their weights_sha256`, {
      hint: 'restore aer.json as `aer ensemble` wrote it',
    });
  return raw as unknown as AerMetadata;
}

/** A model directory's aer.json, checked, without loading the model. */
export async function readModelMetadata(dir: string): Promise<AerMetadata> {
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory())
    throw new AerError('invalid_model', `model directory ${dir} does not exist`, { hint: 'pass the folder that holds model.json, weights.bin and aer.json' });
  return checkMetadata(await readJson(path.join(dir, AER_JSON), "aer.json (the model's labels and feature recipe)"), path.join(dir, AER_JSON));
}
