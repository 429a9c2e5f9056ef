/**
 * Where the shipped models lie: models/default in the project, which every
 * command loads unless told otherwise, and models/telephone, its
 * telephone-band companion for 8 kHz calls.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AerError, isAerError } from '../errors.ts';

const MODELS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../models');
export const DEFAULT_MODEL_DIR = path.join(MODELS, 'default');
export const DEFAULT_NARROWBAND_MODEL_DIR = path.join(MODELS, 'telephone');

/**
 * The narrowband model to serve beside `model`: the one named (`none`: no
 * companion), else the shipped one when `model` is the shipped default
 * (another model's companion is its trainer's to name).
 */
export function narrowbandModelDir(flag: string | undefined, model: string): string | undefined {
  if (flag !== undefined) return flag === 'none' ? undefined : flag;
  const shipped = path.resolve(model) === DEFAULT_MODEL_DIR && fs.existsSync(path.join(DEFAULT_NARROWBAND_MODEL_DIR, 'aer.json'));
  return shipped ? DEFAULT_NARROWBAND_MODEL_DIR : undefined;
}

/** A narrowband model that would not load, said as such: the user named it with --narrowband-model, or got the shipped one by default. */
export function narrowbandFailure(error: unknown): unknown {
  if (!isAerError(error)) return error;
  return new AerError(error.code, `the narrowband (telephone-band) model: ${error.message}`, {
    hint: `${error.hint ? `${error.hint}; or ` : ''}--narrowband-model none to do without one`,
    cause: error,
  });
}
