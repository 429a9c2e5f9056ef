/**
 * Where the shipped models lie: models/default in the project, which every
 * command loads unless told otherwise, and models/telephone, its
 * telephone-band companion for 8 kHz calls.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
