/**
 * `aer baselines`: SVM and random forest on flattened spectrograms, on the
 * split `aer train` makes with the same --split/--validation/--seed, and
 * (with --model) the network trained on that split, in one table.
 */
import path from 'node:path';
import { type Command, Option } from 'commander';
import { AerError } from '../errors.ts';
import { BACKENDS, type BackendChoice, selectBackend } from '../model/backend.ts';
import { type LoadedModel, loadModelDir } from '../model/model-dir.ts';
import { melFminOf, writeAtomically } from '../model/model-files.ts';
import { runBaselines } from '../train/baselines/run.ts';
import type { LoadedClip } from '../train/clip-store.ts';
import { DEFAULT_TRAIN_CONFIG } from '../train/config.ts';
import { prepareData } from '../train/data.ts';
import { speakersOf } from '../train/datasets/clip.ts';
import { checkDatasetName } from '../train/datasets/scan.ts';
import { evaluateModel } from '../train/evaluate-clips.ts';
import { heldOutSplit } from '../train/experiments/plans.ts';
import type { JobResult } from '../train/experiments/run-jobs.ts';
import { summarize, summaryTable } from '../train/experiments/summary.ts';
import { defaultWorkerCount } from '../train/parallel/pool.ts';
import { SPLITS, type SplitKind } from '../train/split.ts';
import { TrainingProgress } from './progress.ts';
import { action, parseNumberOption, printJson } from './run.ts';

interface BaselinesFlags {
  data: string[];
  dataset?: string;
  split: SplitKind;
  validation: number;
  seed: number;
  model?: string;
  positions: number;
  out?: string;
  workers: number;
  backend: BackendChoice;
  cache?: string;
  json?: boolean;
}

/** The model must have trained on exactly this split's training side, or the comparison is not on the same split. */
function checkSameSplit(loaded: LoadedModel, flags: BaselinesFlags, train: LoadedClip[]): void {
  const split = (loaded.metadata.training as { split?: { kind?: string; fraction?: number; seed?: number; train?: { clips?: number; speakers?: string[] } } })
    .split;
  const ours = { kind: flags.split, fraction: flags.validation, seed: flags.seed, clips: train.length, speakers: speakersOf(train).join(',') };
  const theirs = { kind: split?.kind, fraction: split?.fraction, seed: split?.seed, clips: split?.train?.clips, speakers: split?.train?.speakers?.join(',') };
  const differs = (Object.keys(ours) as (keyof typeof ours)[]).filter((k) => ours[k] !== theirs[k]);
  if (differs.length > 0) {
    throw new AerError(
      'invalid_argument',
      `${loaded.dir} was not trained on this split (${differs.map((k) => `${k}: model ${theirs[k]}, here ${ours[k]}`).join('; ')})`,
      {
        hint: 'pass the --data, --split, --validation and --seed the model was trained with (see its aer.json), or leave out --model',
      },
    );
  }
}

async function run(flags: BaselinesFlags): Promise<void> {
  const progress = new TrainingProgress(0);
  const data = await prepareData(flags.data, flags.dataset === undefined ? undefined : checkDatasetName(flags.dataset), {
    cacheDir: flags.cache,
    onProgress: (d, t) => progress.bar('reading clips', d, t),
  });
  const { train, test } = heldOutSplit(data.clips, flags.split, flags.validation, flags.seed);
  let loaded: LoadedModel | undefined;
  if (flags.model) {
    await selectBackend(flags.backend);
    loaded = await loadModelDir(flags.model);
    checkSameSplit(loaded, flags, train);
  }
  progress.message(`${flags.split} split (seed ${flags.seed}): ${train.length} training clips, ${test.length} test clips; training SVM and random forest...`);
  const sides = { train: { clips: train.length, speakers: speakersOf(train) }, test: { clips: test.length, speakers: speakersOf(test) } };
  const baselines = await runBaselines(train, test);
  const results: JobResult[] = [
    {
      id: 'baselines',
      title: `${flags.split} split`,
      kind: 'baselines',
      evaluations: Object.fromEntries(baselines.map((b) => [b.name, b.evaluation])),
      seconds: Object.fromEntries(baselines.map((b) => [b.name, b.seconds])),
      ...sides,
    },
  ];
  if (loaded) {
    const { metadata } = loaded;
    const evaluation = await evaluateModel(
      loaded.model,
      metadata.options,
      test,
      metadata.labels,
      flags.positions,
      flags.workers,
      flags.backend,
      melFminOf(metadata),
    );
    results.unshift({
      id: 'aernet',
      title: `${flags.split} split`,
      kind: 'network',
      evaluations: { aernet: evaluation },
      seconds: {},
      ...sides,
      network: { variant: loaded.metadata.variant, validationSpeakers: sides.test.speakers, bestEpoch: 0, epochsRun: 0, ended: 'loaded' },
    });
  }
  const summaries = summarize(results);
  const table = summaryTable(summaries);
  if (flags.out) {
    await writeAtomically(
      path.join(flags.out, 'baselines.json'),
      `${JSON.stringify({ command: `aer ${process.argv.slice(2).join(' ')}`, split: { kind: flags.split, fraction: flags.validation, seed: flags.seed, ...sides }, summaries }, null, 1)}\n`,
    );
  }
  if (flags.json)
    printJson({
      split: { kind: flags.split, fraction: flags.validation, seed: flags.seed, ...sides },
      summaries,
      seconds: Object.fromEntries(baselines.map((b) => [b.name, b.seconds])),
    });
  else process.stdout.write(`${table}\n${loaded ? '' : '\n(pass --model DIR, trained with the same split options, to add AER-Net to the table)\n'}`);
}

export function registerBaselines(command: Command): void {
  const d = DEFAULT_TRAIN_CONFIG;
  command
    .requiredOption('-d, --data <[name=]dir>', 'a dataset folder; repeat to combine', (v: string, p: string[]) => [...p, v], [] as string[])
    .option('--dataset <name>', 'how to read --data folders that name none (emodb, cremad, tess, ravdess, folders)')
    .addOption(new Option('--split <kind>', 'the held-out clips: whole speakers, or per class at random').choices([...SPLITS]).default(d.split))
    .option('--validation <fraction>', 'share of clips held out', parseNumberOption('--validation', 0.05, 0.5), d.validationFraction)
    .option('--seed <n>', 'seed of the split and the forest', parseNumberOption('--seed', 0, 2 ** 31), d.seed)
    .option('-m, --model <dir>', 'an AER-Net model trained with the same --data, --split, --validation and --seed, to measure on the same clips')
    .option('--positions <n>', "the network's window positions per clip", parseNumberOption('--positions', 1, 16), d.evalPositions)
    .option('-o, --out <dir>', 'also write baselines.json there')
    .option('--workers <n>', 'inference threads for --model', parseNumberOption('--workers', 1, 64), defaultWorkerCount())
    .addOption(new Option('--backend <name>', 'TF.js backend for --model').choices([...BACKENDS]).default('auto'))
    .option('--cache <dir>', 'clip cache folder (default: ~/.cache/aer-stream/clips, or $AER_CACHE_DIR)')
    .option('--json', 'print the results as JSON')
    .addHelpText(
      'after',
      `
The SVM standardises each value, keeps 200 principal components and uses an RBF kernel (C = 10,
gamma 'scale'); the forest grows 300 trees with sqrt(d) features tried per split.

Example:
  aer train --data ../shared/datasets/emodb --out runs/emodb
  aer baselines --data ../shared/datasets/emodb --model runs/emodb`,
    )
    .action(action(run));
}
