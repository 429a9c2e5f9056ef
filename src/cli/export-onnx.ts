/**
 * `aer export-onnx`: write model.onnx beside a model's model.json, and check
 * that it computes the same; with --int8, also model.int8.onnx, calibrated
 * on labelled speech and checked against the float graph on other clips.
 */
import path from 'node:path';
import { type Command, Option } from 'commander';
import { exportModelDir } from '../engine/onnx-export/export.ts';
import { exportInt8ModelDir, type Int8Export } from '../engine/onnx-export/export-int8.ts';
import { checkParity, PARITY_TOLERANCE } from '../engine/onnx-export/parity.ts';
import { AerError } from '../errors.ts';
import { WINDOW_VALUES } from '../features/recipe.ts';
import { selectBackend } from '../model/backend.ts';
import { DEFAULT_MODEL_DIR } from '../model/default-model.ts';
import { type LoadedModel, loadModelDir } from '../model/model-dir.ts';
import { melFminOf } from '../model/model-files.ts';
import type { LoadedClip } from '../train/clip-store.ts';
import { prepareData } from '../train/data.ts';
import { checkDatasetName } from '../train/datasets/scan.ts';
import { createRandom, gaussian } from '../train/random.ts';
import { type AugmentOptions, trainedOnTelephoneOnly } from '../train/augment.ts';
import { viaTelephone } from '../train/conditions/channel-sim.ts';
import { evaluationWindows, positionedWindows } from '../train/windows.ts';
import { action, parseNumberOption, printJson } from './run.ts';

interface ExportFlags {
  model: string;
  int8?: boolean;
  calibration: string[];
  dataset?: string;
  calibrationClips: number;
  cache?: string;
  json?: boolean;
}

/** Windows of seeded unit-normal values: the statistics of z-scored features, without needing audio. */
function checkWindows(count: number): Float32Array {
  const random = createRandom(1);
  return Float32Array.from({ length: count * WINDOW_VALUES }, () => gaussian(random));
}

/** Up to `count` clips spread evenly over `clips` (sorted by path, so the choice is the same on every run). */
function spread(clips: LoadedClip[], count: number): LoadedClip[] {
  const step = Math.max(1, clips.length / count);
  return Array.from({ length: Math.min(count, clips.length) }, (_, i) => clips[Math.floor(i * step)]);
}

async function int8(flags: ExportFlags, loaded: LoadedModel): Promise<Int8Export> {
  const data = await prepareData(flags.calibration, flags.dataset === undefined ? undefined : checkDatasetName(flags.dataset), { cacheDir: flags.cache });
  // Alternate clips: one half sets the ranges, the other checks the result on speech calibration did not see.
  const sorted = [...data.clips].sort((a, b) => a.path.localeCompare(b.path));
  const calibration = spread(
    sorted.filter((_, i) => i % 2 === 0),
    flags.calibrationClips,
  );
  const check = spread(
    sorted.filter((_, i) => i % 2 === 1),
    flags.calibrationClips,
  );
  if (check.length === 0)
    throw new AerError('invalid_dataset', `--calibration has ${sorted.length} usable clip(s); int8 needs at least 2 (one to calibrate on, one to check)`);
  const narrowband = trainedOnTelephoneOnly((loaded.metadata.training.config as { augment?: Partial<AugmentOptions> } | undefined)?.augment);
  const line = narrowband ? ' through a telephone line (8 kHz, 300-3400 Hz, mu-law), as the narrowband model hears speech' : '';
  const source = `${calibration.length} clips of ${flags.calibration.map((d) => path.basename(path.resolve(d))).join(' + ')}${line}`;
  const fmin = melFminOf(loaded.metadata);
  return exportInt8ModelDir(loaded, heardWindows(calibration, narrowband, fmin), heardWindows(check, narrowband, fmin), source);
}

/**
 * Each clip's first window as the model hears speech (its Mel bands from
 * `fmin`): a narrowband model's through a telephone line, so int8's ranges
 * are measured on what it will serve.
 */
function heardWindows(clips: LoadedClip[], narrowband: boolean, fmin: number): Float32Array {
  if (!narrowband) return evaluationWindows(clips, 1, fmin);
  const out = new Float32Array(clips.length * WINDOW_VALUES);
  clips.forEach((c, i) => out.set(positionedWindows(viaTelephone(c.signal, 'mulaw'), 1, fmin)[0], i * WINDOW_VALUES));
  return out;
}

async function run(flags: ExportFlags): Promise<void> {
  if (flags.int8 && flags.calibration.length === 0) {
    throw new AerError('invalid_argument', '--int8 needs --calibration DIR: speech like what the service will hear, to measure the activations on', {
      hint: 'e.g. aer export-onnx --int8 --calibration ../shared/datasets/emodb',
    });
  }
  if (!flags.int8 && flags.calibration.length > 0)
    throw new AerError('invalid_argument', '--calibration is for --int8', { hint: 'add --int8, or leave --calibration out' });
  await selectBackend('auto');
  const loaded = await loadModelDir(flags.model);
  const { file, bytes } = await exportModelDir(loaded);
  const parity = await checkParity(loaded.model, bytes, checkWindows(4));
  if (parity.probabilities > PARITY_TOLERANCE || parity.attention > PARITY_TOLERANCE) {
    throw new AerError(
      'unsupported_model',
      `the exported ${file} differs from the TF.js model by ${parity.probabilities.toExponential(2)} (probabilities) and ${parity.attention.toExponential(2)} (attention), more than ${PARITY_TOLERANCE}`,
      {
        hint: 'please report it with the model directory; serve this model with --engine tfjs meanwhile',
      },
    );
  }
  const quantized = flags.int8 ? await int8(flags, loaded) : undefined;
  if (flags.json) {
    printJson({
      onnx: file,
      parity,
      ...(quantized ? { int8: { onnx: quantized.file, agreement: quantized.agreement, calibration: quantized.calibration } } : {}),
    });
    return;
  }
  process.stdout.write(
    `wrote ${file}; onnxruntime matches TF.js on ${parity.batch} windows: max |difference| ${parity.probabilities.toExponential(1)} (probabilities), ${parity.attention.toExponential(1)} (attention)\n`,
  );
  if (quantized) {
    const a = quantized.agreement;
    process.stdout.write(
      `wrote ${quantized.file}; on ${a.windows} check windows it names the float model's label on ${(a.labels * 100).toFixed(1)} %, max |difference| ${a.probabilities.toFixed(3)} (probabilities), ${a.attention.toFixed(3)} (attention)\n`,
    );
  }
}

export function registerExportOnnx(command: Command): void {
  command
    .option('-m, --model <dir>', 'model directory', DEFAULT_MODEL_DIR)
    .option('--int8', 'also write model.int8.onnx, its convolutions in int8 (about 1.4x the throughput on the CPU)')
    .option(
      '-c, --calibration <[name=]dir>',
      'labelled speech to calibrate int8 on (a dataset folder, as for aer train); repeat to combine',
      (v: string, p: string[]) => [...p, v],
      [] as string[],
    )
    .option('--dataset <name>', 'how to read --calibration folders that name none (emodb, cremad, tess, ravdess, folders)')
    .addOption(
      new Option('--calibration-clips <n>', 'clips to calibrate on, and as many others to check on')
        .argParser(parseNumberOption('--calibration-clips', 1, 10000))
        .default(256),
    )
    .option('--cache <dir>', 'clip cache folder (default: ~/.cache/aer-stream/clips, or $AER_CACHE_DIR)')
    .option('--json', 'print the files and the checks as JSON')
    .action(action(run));
}
