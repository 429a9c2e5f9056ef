/** `aer ablation`: the paper's Table 5 on one split: CNN, CNN + residual, full AER-Net, and both baselines. */
import { type Command, Option } from 'commander';
import type { TrainConfig } from '../train/config.ts';
import { speakersOf } from '../train/datasets/clip.ts';
import { ablationJobs } from '../train/experiments/plans.ts';
import type { Job } from '../train/experiments/run-jobs.ts';
import { SPLITS, type SplitKind } from '../train/split.ts';
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

function describe(testSplit: SplitKind, config: TrainConfig, jobs: Job[]): string {
  const { train, test } = jobs[0];
  const stopping =
    config.split === 'none'
      ? `Each network trains for ${config.epochs} epochs on all its training clips (--split none: no early stopping).`
      : `Each network stops early on a ${config.split} split of its own training clips.`;
  return [
    '# Ablation: CNN, CNN + residual shortcut, full AER-Net, and the baselines',
    '',
    `One ${testSplit} split (seed ${config.seed}): ${train.length} training clips, ${test.length} test clips${testSplit === 'speaker' ? ` from speakers ${speakersOf(test).join(', ')}, none of whom is in training` : ' (the same speakers on both sides, as in the paper)'}. ${stopping}`,
    '',
    `Recipe: Adam ${config.learningRate}, batch ${config.batchSize}, at most ${config.epochs} epochs, patience ${config.earlyStoppingPatience}, augmentation ${JSON.stringify(config.augment)}, ${config.evalPositions} window position(s) per test clip. The paper's column is CREMA-D + TESS on a random split: a reference, not the same measurement.`,
  ].join('\n');
}

export function registerAblation(command: Command): void {
  addExperimentOptions(addTrainingOptions(command))
    .addOption(
      new Option('--test-split <kind>', "how the test clips (--validation's share) are held out: whole speakers, or per class at random (the paper's Table 5)")
        .choices([...SPLITS])
        .default('speaker'),
    )
    .addHelpText(
      'after',
      `
--split and --validation then choose each network's early-stopping clips inside the training side;
--split none trains each network for --epochs on the whole training side.

Examples:
  aer ablation --data ../shared/datasets/emodb --out runs/ablation
  aer ablation --data ../shared/datasets/emodb --split none --epochs 45 --out runs/ablation   # as the shipped model trains`,
    )
    .action(
      action((flags: ExperimentFlags & { testSplit: SplitKind }) =>
        runExperiment(
          {
            name: 'ablation',
            plan: (clips, config) => ablationJobs(clips, config, flags.testSplit),
            describe: (config, jobs) => describe(flags.testSplit, config, jobs),
            paper: PAPER_TABLE_5,
          },
          flags,
        ),
      ),
    );
}
