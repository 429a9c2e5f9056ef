/** `aer export-onnx`: write model.onnx beside a model's model.json, and check that it computes the same. */
import type { Command } from 'commander';
import { exportModelDir } from '../engine/onnx-export/export.ts';
import { checkParity, PARITY_TOLERANCE } from '../engine/onnx-export/parity.ts';
import { AerError } from '../errors.ts';
import { WINDOW_VALUES } from '../features/recipe.ts';
import { selectBackend } from '../model/backend.ts';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { loadModelDir } from '../model/model-dir.ts';
import { createRandom, gaussian } from '../train/random.ts';
import { action, printJson } from './run.ts';

interface ExportFlags {
  model: string;
  json?: boolean;
}

/** Windows of seeded unit-normal values: the statistics of z-scored features, without needing audio. */
function checkWindows(count: number): Float32Array {
  const random = createRandom(1);
  return Float32Array.from({ length: count * WINDOW_VALUES }, () => gaussian(random));
}

async function run(flags: ExportFlags): Promise<void> {
  await selectBackend('auto');
  const loaded = await loadModelDir(flags.model);
  const { file, bytes } = await exportModelDir(loaded);
  const parity = await checkParity(loaded.model, bytes, checkWindows(4));
  if (parity.probabilities > PARITY_TOLERANCE || parity.attention > PARITY_TOLERANCE) {
    throw new AerError('unsupported_model', `the exported ${file} differs from the TF.js model by ${parity.probabilities.toExponential(2)} (probabilities) and ${parity.attention.toExponential(2)} (attention), more than ${PARITY_TOLERANCE}`, {
      hint: 'please report it with the model directory; serve this model with --engine tfjs meanwhile',
    });
  }
  if (flags.json) printJson({ onnx: file, parity });
  else process.stdout.write(`wrote ${file}; onnxruntime matches TF.js on ${parity.batch} windows: max |difference| ${parity.probabilities.toExponential(1)} (probabilities), ${parity.attention.toExponential(1)} (attention)\n`);
}

export function registerExportOnnx(program: Command): void {
  program
    .command('export-onnx')
    .description('export a model directory to ONNX (model.onnx beside model.json) for the onnx engine, checked against TF.js')
    .option('-m, --model <dir>', 'model directory', DEFAULT_MODEL_DIR)
    .option('--json', 'print the file and the parity check as JSON')
    .action(action(run));
}
