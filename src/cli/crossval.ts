/** `aer crossval`: AER-Net and both baselines on the same speaker-grouped folds. */
import { type Command, InvalidArgumentError } from 'commander';
import { AerError } from '../errors.ts';
import { recipeOf, type TrainConfig } from '../train/config.ts';
import { checkRecordable, recordCrossval } from '../train/experiments/record-crossval.ts';
import { CONDITIONS, type Condition } from '../train/conditions/names.ts';
import { crossvalJobs } from '../train/experiments/plans.ts';
import type { Job } from '../train/experiments/run-jobs.ts';
import { addExperimentOptions, type ExperimentFlags, runExperiment } from './experiment.ts';
import { action, conditionList, parseNumberOption, parseWholeOption } from './run.ts';
import { addTrainingOptions } from './train-options.ts';

interface CrossvalFlags extends ExperimentFlags {
  folds: number;
  only?: number[];
  repeats: number;
  ensemble?: boolean;
  recordIn?: string;
  foldSeed?: number;
  conditions: Condition[];
}

function foldList(value: string): number[] {
  const folds = value.split(',').map((v) => Number(v.trim()));
  if (folds.some((k) => !Number.isInteger(k) || k < 1)) throw new InvalidArgumentError('--only takes fold numbers from 1, e.g. 1 or 1,3');
  return folds;
}

function describe(config: TrainConfig, jobs: Job[], folds: number, repeats: number, ensemble: boolean, foldSeed: number): string {
  return [
    `# Speaker cross-validation: AER-Net (${config.model.variant}) against SVM and random forest`,
    '',
    `${folds} folds of whole speakers (men and women dealt evenly where the corpus says who is who). Each fold is the test set of a network and of both baselines trained on the other folds; the network stops early on speakers split off its own training folds (${config.split} split, ${config.validationFraction}), never on the test fold.`,
    '',
    `Folds: ${jobs
      .filter((j) => j.kind === 'baselines')
      .map((j) => `${j.title}, ${j.test.length} clips`)
      .join('; ')}.`,
    '',
    ...(foldSeed === config.seed ? [] : [`The folds and the condition audio are dealt by seed ${foldSeed} (--fold-seed), not by the networks' seed.`, '']),
    `Recipe: Adam ${config.learningRate}, batch ${config.batchSize}, at most ${config.epochs} epochs, patience ${config.earlyStoppingPatience}, class weights ${config.classWeights ? 'balanced' : 'none'}, augmentation ${JSON.stringify(config.augment)}, model ${JSON.stringify(config.model)}, ${config.evalPositions} window position(s) per test clip, seed ${config.seed}.`,
    ...(repeats > 1
      ? [
          '',
          `Each fold's network is trained ${repeats} times, with seeds ${config.seed} to ${config.seed + repeats - 1} (runs named by their seed; the unnamed one is seed ${config.seed}); the folds, the baselines and the condition audio are seed ${foldSeed}'s, so a fold's runs differ by the run's chance alone. The network's means and spreads are over every run.`,
        ]
      : []),
    ...(ensemble
      ? [
          '',
          `"AER-Net, ${repeats} runs averaged" is each fold's ${repeats} networks as one model: every window's probabilities averaged over them (a deep ensemble), on the same clips and condition audio.`,
        ]
      : []),
  ].join('\n');
}

/** How many networks the measured model averages: an ensemble's repeats, or one. */
const networks = (flags: CrossvalFlags) => (flags.ensemble ? flags.repeats : 1);

export function registerCrossval(command: Command): void {
  command
    .option('--folds <k>', 'speaker folds', parseNumberOption('--folds', 2, 100), 4)
    .option('--only <folds>', 'run only these folds (e.g. 1 or 1,3): a quick look while choosing a recipe', foldList)
    .option(
      '--repeats <n>',
      "train each fold's network n times, with --seed and the next seeds (the same folds, baselines and condition audio): how much of a difference is one run's chance",
      parseNumberOption('--repeats', 1, 20),
      1,
    )
    .option(
      '--fold-seed <n>',
      "deal the folds and draw the condition audio with this seed instead of --seed: other seeds measured on a record's folds",
      parseWholeOption('--fold-seed', 0, 2 ** 31),
    )
    .option('--ensemble', "also score each fold with its --repeats networks' probabilities averaged (a deep ensemble, reported as its own method)")
    .option(
      '--record-in <model>',
      'a model trained with this same recipe on this data (aer train --split none): record the figures in its aer.json and report.md',
    )
    .option('--conditions <list>', `also measure every fold under the service's conditions: all, or some of ${CONDITIONS.join(', ')}`, conditionList, [
      ...CONDITIONS,
    ]);
  addExperimentOptions(addTrainingOptions(command))
    .addHelpText(
      'after',
      `
--split and --validation choose the early-stopping speakers inside each fold's training speakers;
--split none trains each fold for --epochs, as aer train --split none trains a model on every speaker.

Examples:
  aer crossval --data ../shared/datasets/emodb --folds 4 --out runs/crossval
  aer train --data ../shared/datasets/emodb --split none --epochs 45 --out models/emodb
  aer crossval --data ../shared/datasets/emodb --split none --epochs 45 --out runs/cv --record-in models/emodb`,
    )
    .action(
      action((flags: CrossvalFlags) =>
        runExperiment(
          {
            name: 'crossval',
            conditions: flags.conditions,
            plan: (clips, config) => {
              if (flags.only?.some((k) => k > flags.folds))
                throw new AerError('invalid_argument', `--only ${flags.only.join(',')} names a fold past --folds ${flags.folds}`);
              if (flags.only && flags.recordIn) throw new AerError('invalid_argument', '--record-in needs every fold; leave --only out');
              if (flags.repeats > 1 && flags.recordIn && !flags.ensemble)
                throw new AerError('invalid_argument', '--record-in records one run per fold; leave --repeats out', {
                  hint: 'measure the spread with --repeats in its own --out, then record the run that matches the model (or add --ensemble for a model of that many networks)',
                });
              if (flags.ensemble && flags.repeats < 2)
                throw new AerError('invalid_argument', '--ensemble averages the networks of --repeats, which is 1', {
                  hint: 'add --repeats 2 or more',
                });
              return crossvalJobs(clips, config, flags.folds, flags.only, flags.repeats, flags.ensemble === true, flags.foldSeed);
            },
            describe: (config, jobs) => describe(config, jobs, flags.folds, flags.repeats, flags.ensemble === true, flags.foldSeed ?? config.seed),
            check: async (config, data) => (flags.recordIn ? checkRecordable(flags.recordIn, recipeOf(config), data, networks(flags)) : undefined),
            finished: async (summaries, command, conditions) => {
              if (flags.recordIn) await recordCrossval(flags.recordIn, command, summaries, conditions, networks(flags));
            },
          },
          flags,
        ),
      ),
    );
}
