/** `aer train`: train AER-Net on labelled clips and write a model directory. */
import type { Command } from 'commander';
import { runTraining } from '../train/train.ts';
import { formatDuration, TrainingProgress } from './progress.ts';
import { action, printJson } from './run.ts';
import { addTrainingOptions, interruptOnSigint, trainConfigFrom, type TrainingFlags } from './train-options.ts';

interface TrainFlags extends TrainingFlags {
  out: string;
  resume?: boolean;
}

async function run(flags: TrainFlags): Promise<void> {
  const config = trainConfigFrom(flags);
  const progress = new TrainingProgress(config.epochs);
  const controller = interruptOnSigint(() => progress.message('stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)...'));
  const outcome = await runTraining(config, flags.out, {
    resume: flags.resume,
    signal: controller.signal,
    cacheDir: flags.cache,
    command: `aer ${process.argv.slice(2).join(' ')}`,
    events: {
      onLoadProgress: (done, total) => progress.bar('reading clips', done, total),
      onStart: (info) => {
        const skipped = Object.entries(info.skipped)
          .map(([k, n]) => `${n} ${k}`)
          .join('; ');
        progress.message(
          `${info.train} training clips, ${info.validation} validation clips (${info.cached} from the cache)${skipped ? `; skipped: ${skipped}` : ''}`,
        );
        progress.message(`${info.workers} training thread(s) on ${info.backend}; ${info.steps} steps per epoch`);
        if (info.resumedAt) progress.message(`resuming at epoch ${info.resumedAt.epoch + 1}, step ${info.resumedAt.step}`);
      },
      onStep: (p) => progress.step(p),
      onEpoch: (record, info) => progress.epoch(record, info),
    },
  });
  if (outcome.fit.ended === 'interrupted') {
    progress.message(`interrupted: checkpoint saved in ${flags.out}/checkpoint; continue with: aer train --resume --out ${flags.out} --data ...`);
    if (flags.json) printJson({ ended: 'interrupted', checkpoint: `${flags.out}/checkpoint` });
    process.exitCode = 130;
    return;
  }
  const e = outcome.evaluation;
  progress.message(
    `done in ${formatDuration(outcome.fit.seconds)} (${outcome.fit.ended === 'early_stopping' ? `early stopping; best epoch ${outcome.fit.bestEpoch}` : `${outcome.fit.history.length} epochs`}); model written to ${flags.out}` +
      (e
        ? `\nvalidation: accuracy ${(e.accuracy * 100).toFixed(1)} %, macro-F1 ${e.macro_f1.toFixed(3)} (${e.n} clips, ${config.evalPositions} position(s) each); see ${flags.out}/report.md`
        : ''),
  );
  if (flags.json)
    printJson({
      ended: outcome.fit.ended,
      out: flags.out,
      best_epoch: outcome.fit.bestEpoch,
      epochs_run: outcome.fit.history.length,
      seconds: Math.round(outcome.fit.seconds),
      validation: e ?? null,
    });
}

export function registerTrain(command: Command): void {
  command
    .requiredOption('-o, --out <dir>', 'model directory to write (model.json, weights.bin, aer.json, history, curves, report)')
    .option('--resume', 'continue the interrupted run whose checkpoint is in --out (its recipe is kept)');
  addTrainingOptions(command)
    .addHelpText(
      'after',
      `
Defaults are the paper's recipe (Adam 1e-4, batch 32, 50 epochs, balanced class weights, early
stopping with best-weight restore, ReduceLROnPlateau) with validation on whole held-out speakers.
Ctrl-C saves a checkpoint; --resume continues from it. Decoded clips are cached between runs.

Examples:
  aer train --data ../shared/datasets/emodb --out models/emodb
  aer train --data ../shared/datasets/emodb --split none --epochs 45 --out models/emodb
  aer train --data cremad=/data/CREMA-D --data tess=/data/TESS --split stratified --out models/paper`,
    )
    .action(action(run));
}
