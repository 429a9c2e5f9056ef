/** `aer ablation`: the paper's Table 5 on one split: CNN, CNN + residual, full AER-Net, and both baselines. */
import type { Command } from 'commander';
import { AerError } from '../errors.ts';
import type { TrainConfig } from '../train/config.ts';
import { ablationJobs } from '../train/experiments/plans.ts';
import type { Job } from '../train/experiments/run-jobs.ts';
import type { SplitKind } from '../train/split.ts';
import { addExperimentOptions, type ExperimentFlags, runExperiment } from './experiment.ts';
import { action } from './run.ts';
import { addTrainingOptions } from './train-options.ts';

/** The paper's figures (CREMA-D + TESS, six classes, random split). */
export const PAPER_TABLE_5: Record<string, string> = {
  'AER-Net (cnn)': '80.39 %',
  'AER-Net (cnn_res)': '78.86 %',
  'AER-Net (full)': '87.7 %',
  'SVM (PCA 200, RBF)': '86.1 %',
  'Random forest (300 trees)': '85.55 %',
};

function describe(config: TrainConfig, jobs: Job[]): string {
  const { train, test } = jobs[0];
  const speakers = (clips: Job['test']) => [...new Set(clips.map((c) => c.speaker))].sort().join(', ');
  return [
    '# Ablation: CNN, CNN + residual shortcut, full AER-Net, and the baselines',
    '',
    `One ${config.split} split (seed ${config.seed}): ${train.length} training clips, ${test.length} test clips${config.split === 'speaker' ? ` from speakers ${speakers(test)}, none of whom is in training` : ' (the same speakers on both sides, as in the paper)'}. Each network stops early on a ${config.split} split of its own training clips.`,
    '',
    `Recipe: Adam ${config.learningRate}, batch ${config.batchSize}, at most ${config.epochs} epochs, patience ${config.earlyStoppingPatience}, augmentation ${JSON.stringify(config.augment)}, ${config.evalPositions} window position(s) per test clip. The paper's column is CREMA-D + TESS on a random split: a reference, not the same measurement.`,
  ].join('\n');
}

export function registerAblation(program: Command): void {
  const command = program.command('ablation').description("train and measure the three variants and both baselines on one split: the paper's Table 5 for your data");
  addExperimentOptions(addTrainingOptions(command))
    .addHelpText(
      'after',
      `
Example:
  aer ablation --data ../shared/datasets/emodb --out runs/ablation`,
    )
    .action(
      action((flags: ExperimentFlags) => {
        if (flags.split === 'none') throw new AerError('invalid_argument', 'the ablation measures on held-out clips; --split none holds none out', { hint: 'use --split speaker or --split stratified' });
        return runExperiment({ name: 'ablation', plan: (clips, config) => ablationJobs(clips, config, config.split as SplitKind), describe, paper: PAPER_TABLE_5 }, flags);
      }),
    );
}
