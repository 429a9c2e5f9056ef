/** The `aer` command line: one sub-command per task, each with its own help. */
import { Command } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { registerFeatures } from './cli/features.ts';
import { registerAblation } from './cli/ablation.ts';
import { registerBaselines } from './cli/baselines.ts';
import { registerClassify } from './cli/classify.ts';
import { registerCrossval } from './cli/crossval.ts';
import { registerDatasets } from './cli/datasets.ts';
import { registerEval } from './cli/eval.ts';
import { registerExportOnnx } from './cli/export-onnx.ts';
import { registerInfo } from './cli/info.ts';
import { registerServe } from './cli/serve.ts';
import { registerTrain } from './cli/train.ts';
import { reportError } from './cli/run.ts';

export function buildProgram(): Command {
  const program = new Command('aer')
    .description('aer-stream: realtime speech emotion recognition (AER-Net) as a service, and the tools around it')
    .version(pkg.version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerInfo(program);
  registerFeatures(program);
  registerClassify(program);
  registerDatasets(program);
  registerTrain(program);
  registerEval(program);
  registerBaselines(program);
  registerAblation(program);
  registerCrossval(program);
  registerExportOnnx(program);
  registerServe(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    process.exitCode = reportError(error, argv.includes('--json'));
  }
}
