/**
 * The `aer` command line: one sub-command per task, each with its own help.
 * Only the invoked command's module is loaded (most pull in TF.js or
 * onnxruntime, seconds of start-up); the others are listed by name and
 * description, so `aer --help` answers at once.
 */
import { Command } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { reportError } from './cli/run.ts';

interface CommandEntry {
  description: string;
  /** The function that gives the command its arguments, options and action. */
  load(): Promise<(command: Command) => void>;
}

const COMMANDS: Record<string, CommandEntry> = {
  info: {
    description: 'show the format, sample rate, channels and duration of an audio file as the readers see it',
    load: async () => (await import('./cli/info.ts')).registerInfo,
  },
  features: {
    description: 'write the model input (Mel features) of an audio file as raw little-endian float32',
    load: async () => (await import('./cli/features.ts')).registerFeatures,
  },
  classify: {
    description: 'tag audio files on this machine, no server: a label per window, or a summary per channel',
    load: async () => (await import('./cli/classify.ts')).registerClassify,
  },
  datasets: {
    description: 'get public emotion corpora into the layout training reads',
    load: async () => (await import('./cli/datasets.ts')).registerDatasets,
  },
  train: {
    description: "train AER-Net on labelled speech clips (the paper's recipe by default) and write a model directory",
    load: async () => (await import('./cli/train.ts')).registerTrain,
  },
  eval: {
    description: 'measure a model on labelled clips: accuracy, per-class and macro precision/recall/F1, confusion matrix',
    load: async () => (await import('./cli/eval.ts')).registerEval,
  },
  baselines: {
    description: 'SVM and random forest on flattened spectrograms, on the same split as `aer train`, beside AER-Net',
    load: async () => (await import('./cli/baselines.ts')).registerBaselines,
  },
  ablation: {
    description: "train and measure the three variants and both baselines on one split: the paper's Table 5 for your data",
    load: async () => (await import('./cli/ablation.ts')).registerAblation,
  },
  crossval: {
    description: 'speaker-grouped cross-validation of AER-Net and both baselines on the same folds (mean and spread)',
    load: async () => (await import('./cli/crossval.ts')).registerCrossval,
  },
  ensemble: {
    description: 'average several trained models of one recipe (other seeds) as one model directory: steadier answers, each window scored once per model',
    load: async () => (await import('./cli/ensemble.ts')).registerEnsemble,
  },
  'export-onnx': {
    description: 'export a model directory to ONNX (model.onnx beside model.json) for the onnx engine, checked against TF.js; --int8 adds model.int8.onnx',
    load: async () => (await import('./cli/export-onnx.ts')).registerExportOnnx,
  },
  serve: {
    description: 'run the realtime streaming service (WebSocket /v1/stream, HTTP /v1/classify, /metrics, /healthz, /readyz)',
    load: async () => (await import('./cli/serve.ts')).registerServe,
  },
};

/** The command `argv` runs or asks help for (`aer serve ...`, `aer help serve`), if any. */
function invokedCommand(argv: string[]): string | undefined {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/** The program, with the full definition of the command `argv` invokes. */
async function buildProgram(argv: string[]): Promise<Command> {
  const program = new Command('aer')
    .description('aer-stream: realtime speech emotion recognition (AER-Net) as a service, and the tools around it')
    .version(pkg.version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const invoked = invokedCommand(argv);
  for (const [name, entry] of Object.entries(COMMANDS)) {
    const command = program.command(name).description(entry.description);
    if (name === invoked) (await entry.load())(command);
  }
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await (await buildProgram(argv)).parseAsync(argv);
  } catch (error) {
    process.exitCode = reportError(error, argv.includes('--json'));
  }
}
