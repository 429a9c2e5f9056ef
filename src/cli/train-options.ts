/** The options every training command takes (train, ablation, crossval), and the config they make. */
import { type Command, Option } from 'commander';
import { AerError } from '../errors.ts';
import { MAX_MEL_FMIN } from '../features/recipe.ts';
import { checkVariant, DEFAULT_OPTIONS } from '../model/aernet-options.ts';
import { BACKENDS, type BackendChoice } from '../model/backend.ts';
import { AUGMENT_KINDS, type AugmentOptions, parseAugment, withHighPassRange, withShare } from '../train/augment.ts';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../train/config.ts';
import { checkDatasetName, DATASET_NAMES } from '../train/datasets/scan.ts';
import { defaultWorkerCount } from '../train/parallel/pool.ts';
import { SPLITS } from '../train/split.ts';
import { parseNumberOption, parseRangeOption, parseWholeOption } from './run.ts';

export interface TrainingFlags {
  data: string[];
  dataset?: string;
  split: string;
  validation: number;
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  lrPatience: number;
  lrFactor: number;
  minLr: number;
  lrSchedule: string;
  averageEpochs?: number;
  mixup?: number;
  labelSmoothing?: number;
  windowInput: string;
  melFmin?: number;
  classWeights: boolean;
  augment: string;
  noiseProbability?: number;
  highPassProbability?: number;
  highPassHz?: [number, number];
  variant: string;
  lstmUnits: number;
  attentionUnits: number;
  convDropout: number;
  dropout: number;
  l2: number;
  evalPositions: number;
  workers: number;
  backend: BackendChoice;
  cache?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function addTrainingOptions(command: Command, options: { split?: boolean } = { split: true }): Command {
  const d = DEFAULT_TRAIN_CONFIG;
  command
    .option(
      '-d, --data <[name=]dir>',
      `a dataset folder; repeat to combine (name: ${DATASET_NAMES.join(', ')}; detected when left out)`,
      collect,
      [] as string[],
    )
    .option('--dataset <name>', `how to read the --data folders that name none (${DATASET_NAMES.join(', ')})`);
  if (options.split !== false) {
    command
      .addOption(
        new Option('--split <kind>', 'how validation clips are held out: whole speakers, per class at random (the paper), or none (train on all)')
          .choices([...SPLITS, 'none'])
          .default(d.split),
      )
      .option('--validation <fraction>', 'share of clips held out for validation', parseNumberOption('--validation', 0.05, 0.5), d.validationFraction);
  }
  return command
    .option('--seed <n>', 'seed for the split, initial weights, shuffling, augmentation and dropout', parseWholeOption('--seed', 0, 2 ** 31), d.seed)
    .option('--epochs <n>', 'most epochs to train', parseWholeOption('--epochs', 1, 10000), d.epochs)
    .option('--batch-size <n>', 'clips per step', parseWholeOption('--batch-size', 1, 4096), d.batchSize)
    .option('--learning-rate <lr>', 'Adam learning rate', parseNumberOption('--learning-rate', 1e-7, 1), d.learningRate)
    .option(
      '--patience <epochs>',
      'early stopping: epochs without a better validation loss (0: never stop early)',
      parseWholeOption('--patience', 0, 10000),
      d.earlyStoppingPatience,
    )
    .option('--lr-patience <epochs>', 'ReduceLROnPlateau: epochs without improvement before a cut', parseWholeOption('--lr-patience', 1, 10000), d.lrPatience)
    .option('--lr-factor <f>', 'ReduceLROnPlateau: factor of a cut', parseNumberOption('--lr-factor', 0.01, 0.99), d.lrFactor)
    .option('--min-lr <lr>', 'lowest learning rate (of the plateau cuts, or where the cosine ends)', parseNumberOption('--min-lr', 0, 1), d.minLearningRate)
    .addOption(
      new Option('--lr-schedule <kind>', 'the learning rate: cut on plateaus (ReduceLROnPlateau), or annealed along half a cosine over the epochs')
        .choices(['plateau', 'cosine'])
        .default('plateau'),
    )
    .option(
      '--average-epochs <n>',
      "keep the mean of the last n epochs' weights, batch norm measured again (stochastic weight averaging; with --split none)",
      parseWholeOption('--average-epochs', 1, 100_000),
    )
    .option(
      '--mixup <alpha>',
      'blend each training window with another of its batch by a Beta(alpha, alpha) share, labels alike (e.g. 0.2)',
      parseNumberOption('--mixup', 0.01, 10),
    )
    .option(
      '--label-smoothing <share>',
      'spread this share of each training target over every class (e.g. 0.1)',
      parseNumberOption('--label-smoothing', 0.001, 0.5),
    )
    .addOption(
      new Option('--window-input <how>', 'how the service shows the model a window: whole, or as its first and last 2 s spans, answers averaged')
        .choices(['whole', 'spans'])
        .default('whole'),
    )
    .option(
      '--mel-fmin <hz>',
      `lowest Mel band edge in Hz, recorded in the model (default 0; up to ${MAX_MEL_FMIN}): 100 leaves out the band VoIP paths and microphones filter away`,
      parseNumberOption('--mel-fmin', 0, MAX_MEL_FMIN),
    )
    .option('--no-class-weights', 'weigh every clip alike instead of balancing the classes')
    .option('--augment <kinds>', `augmentation: default, all, none, or a list of ${AUGMENT_KINDS.join(', ')}`, 'default')
    .option(
      '--noise-probability <p>',
      'share of the windows the noise or clip-noise augmentation adds white noise to (default 0.5)',
      parseNumberOption('--noise-probability', 0.01, 1),
    )
    .option(
      '--high-pass-probability <p>',
      'share of the windows the highpass augmentation filters (default 0.5)',
      parseNumberOption('--high-pass-probability', 0.01, 1),
    )
    .option('--high-pass-hz <low-high>', 'range the highpass augmentation draws its cutoff from (default 60-250)', parseRangeOption('--high-pass-hz', 20, 1000))
    .addOption(
      new Option('--variant <variant>', 'the model: full AER-Net, or an ablation').choices(['full', 'cnn_res', 'cnn']).default(DEFAULT_OPTIONS.variant),
    )
    .option('--lstm-units <n>', 'units of each direction of the BiLSTM', parseWholeOption('--lstm-units', 4, 2048), DEFAULT_OPTIONS.lstmUnits)
    .option('--attention-units <n>', 'width of the attention scoring layer', parseWholeOption('--attention-units', 4, 2048), DEFAULT_OPTIONS.attentionUnits)
    .option('--conv-dropout <rate>', 'dropout after each conv block', parseNumberOption('--conv-dropout', 0, 0.9), DEFAULT_OPTIONS.convDropout)
    .option('--dropout <rate>', 'dropout after the LSTM and between the dense layers', parseNumberOption('--dropout', 0, 0.9), DEFAULT_OPTIONS.denseDropout)
    .option('--l2 <lambda>', 'L2 weight decay on kernels (0: none)', parseNumberOption('--l2', 0, 1), DEFAULT_OPTIONS.l2)
    .option(
      '--eval-positions <n>',
      'windows per clip averaged at evaluation, the clip placed from the window start to its end',
      parseWholeOption('--eval-positions', 1, 16),
      d.evalPositions,
    )
    .option('--workers <n>', 'training threads (data parallel); default: one per core', parseWholeOption('--workers', 1, 64), defaultWorkerCount())
    .addOption(new Option('--backend <name>', 'TF.js backend: native TensorFlow when installed, else wasm').choices([...BACKENDS]).default(d.backend))
    .option('--cache <dir>', 'where decoded clips and features are cached between runs (default: ~/.cache/aer-stream/clips, or $AER_CACHE_DIR)')
    .option('--json', 'print the result as JSON on stdout (progress still goes to stderr)');
}

/** `--average-epochs`, refused where the run has validation or fewer epochs: the average is the run's result. */
function averaging(flags: TrainingFlags): { averageEpochs?: number } {
  if (flags.averageEpochs === undefined) return {};
  if ((flags.split ?? DEFAULT_TRAIN_CONFIG.split) !== 'none' || flags.averageEpochs > flags.epochs) {
    throw new AerError('invalid_argument', `--average-epochs ${flags.averageEpochs} needs --split none and at least that many --epochs`);
  }
  return { averageEpochs: flags.averageEpochs };
}

/** `--augment` with `--noise-probability`, `--high-pass-probability` and `--high-pass-hz` applied. */
function augmentOf(flags: TrainingFlags): AugmentOptions {
  let options = parseAugment(flags.augment);
  if (flags.noiseProbability !== undefined) options = withShare(options, 'noiseProbability', flags.noiseProbability);
  if (flags.highPassProbability !== undefined) options = withShare(options, 'highPassProbability', flags.highPassProbability);
  if (flags.highPassHz !== undefined) options = withHighPassRange(options, flags.highPassHz);
  return options;
}

export function trainConfigFrom(flags: TrainingFlags): TrainConfig {
  return {
    data: flags.data,
    dataset: flags.dataset === undefined ? undefined : checkDatasetName(flags.dataset),
    split: (flags.split ?? DEFAULT_TRAIN_CONFIG.split) as TrainConfig['split'],
    validationFraction: flags.validation ?? DEFAULT_TRAIN_CONFIG.validationFraction,
    seed: flags.seed,
    epochs: flags.epochs,
    batchSize: flags.batchSize,
    learningRate: flags.learningRate,
    earlyStoppingPatience: flags.patience,
    lrPatience: flags.lrPatience,
    lrFactor: flags.lrFactor,
    minLearningRate: flags.minLr,
    ...(flags.lrSchedule === 'cosine' ? { lrSchedule: 'cosine' as const } : {}),
    ...averaging(flags),
    ...(flags.mixup ? { mixupAlpha: flags.mixup } : {}),
    ...(flags.labelSmoothing ? { labelSmoothing: flags.labelSmoothing } : {}),
    ...(flags.windowInput === 'spans' ? { windowInput: 'spans' as const } : {}),
    // Absent at 0, so recipes recorded before the option match it.
    ...(flags.melFmin ? { melFmin: flags.melFmin } : {}),
    classWeights: flags.classWeights,
    augment: augmentOf(flags),
    model: {
      ...DEFAULT_OPTIONS,
      variant: checkVariant(flags.variant),
      lstmUnits: flags.lstmUnits,
      attentionUnits: flags.attentionUnits,
      convDropout: flags.convDropout,
      denseDropout: flags.dropout,
      l2: flags.l2,
    },
    workers: flags.workers,
    backend: flags.backend,
    evalPositions: flags.evalPositions,
  };
}

/** Ctrl-C once: finish the step, save a checkpoint, stop. Twice: stop now (the last checkpoint stays valid). */
export function interruptOnSigint(onFirst: () => void): AbortController {
  const controller = new AbortController();
  const handler = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    onFirst();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return controller;
}
