/** Where the shipped default model lies: models/default in the project, which every command loads unless told otherwise. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_MODEL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../models/default');
