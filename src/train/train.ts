/**
 * A whole training run, as `aer train` runs it: read the data, split it,
 * train with the replica pool, evaluate on the held-out clips, and write the
 * model directory with its metadata, history, curves, confusion matrix and
 * report. An interrupted run leaves a checkpoint in <out>/checkpoint that
 * `--resume` continues.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { AerError } from '../errors.ts';
import { saveModelDir } from '../model/model-dir.ts';
import { type AerMetadata, describeMetadata, writeAtomically } from '../model/model-files.ts';
import { unpackWeights } from '../model/weights.ts';
import { type Checkpoint, hasCheckpoint, loadCheckpoint } from './checkpoint.ts';
import { recipeOf, type TrainConfig } from './config.ts';
import { fingerprint, prepareData, summarizeData } from './data.ts';
import { speakersOf } from './datasets/clip.ts';
import { evaluateClips } from './evaluate-clips.ts';
import { fit, type FitEvents, type FitResult } from './fit.ts';
import { LABELS } from './labels.ts';
import type { Evaluation } from './metrics.ts';
import { ReplicaPool } from './parallel/pool.ts';
import { initialWeights } from './initial-weights.ts';
import { createRandom } from './random.ts';
import { confusionTable, metricsTable, skippedList } from './report/markdown.ts';
import { confusionMatrixSvg, trainingCurvesSvg } from './report/svg.ts';
import { splitClips } from './split.ts';

export interface TrainEvents extends FitEvents {
  onLoadProgress?(done: number, total: number): void;
  onStart?(info: {
    train: number;
    validation: number;
    skipped: Record<string, number>;
    cached: number;
    steps: number;
    backend: string;
    workers: number;
    resumedAt?: { epoch: number; step: number };
  }): void;
}

export interface TrainOutcome {
  out: string;
  fit: FitResult;
  evaluation?: Evaluation;
  metadata?: AerMetadata;
}

const checkpointDir = (out: string) => path.join(out, 'checkpoint');

async function refuseToOverwrite(out: string): Promise<void> {
  if (await hasCheckpoint(checkpointDir(out))) {
    throw new AerError('invalid_argument', `${out} holds the checkpoint of an interrupted run`, { hint: `continue it with --resume, or pick another --out` });
  }
  if (
    await fs.access(path.join(out, 'model.json')).then(
      () => true,
      () => false,
    )
  ) {
    throw new AerError('invalid_argument', `${out} already holds a trained model; training would overwrite it`, {
      hint: 'pick another --out, or delete that folder first',
    });
  }
}

export async function runTraining(
  given: TrainConfig,
  out: string,
  options: { resume?: boolean; signal?: AbortSignal; events?: TrainEvents; command?: string; cacheDir?: string } = {},
): Promise<TrainOutcome> {
  let checkpoint: Checkpoint | undefined;
  if (options.resume) {
    if (!(await hasCheckpoint(checkpointDir(out))))
      throw new AerError('invalid_checkpoint', `no checkpoint to resume in ${checkpointDir(out)}`, { hint: 'start the run without --resume' });
    checkpoint = await loadCheckpoint(checkpointDir(out));
  } else {
    await refuseToOverwrite(out);
  }
  // A resumed run keeps its own recipe; only where it runs may change.
  const config: TrainConfig = checkpoint ? { ...checkpoint.state.config, workers: given.workers, backend: given.backend } : given;
  const events = options.events ?? {};
  const data = await prepareData(config.data, config.dataset, { cacheDir: options.cacheDir, onProgress: events.onLoadProgress });
  const split =
    config.split === 'none'
      ? { train: data.clips, validation: [] }
      : splitClips(data.clips, config.split, config.validationFraction, createRandom(config.seed));
  if (checkpoint && checkpoint.state.dataFingerprint !== fingerprint([...split.train, ...split.validation])) {
    throw new AerError('invalid_checkpoint', 'the data differs from the data the interrupted run trained on', {
      hint: 'resume with the same --data folders and contents',
    });
  }

  const { model, weights: initial, trainableCount } = await initialWeights(config.model, config.seed, config.backend);

  const pool = await ReplicaPool.start(config.workers, config.model, config.backend);
  try {
    events.onStart?.({
      train: split.train.length,
      validation: split.validation.length,
      skipped: data.skipped,
      cached: data.cached,
      steps: Math.ceil(split.train.length / config.batchSize),
      backend: pool.detail,
      workers: pool.size,
      resumedAt: checkpoint ? { epoch: checkpoint.state.epoch, step: checkpoint.state.step } : undefined,
    });
    await fs.mkdir(out, { recursive: true });
    const result = await fit({
      config,
      train: split.train,
      validation: split.validation,
      pool,
      initialWeights: initial,
      trainableCount,
      checkpointDir: checkpointDir(out),
      resumeFrom: checkpoint,
      signal: options.signal,
      events,
    });
    if (result.ended === 'interrupted') return { out, fit: result };

    let evaluation: Evaluation | undefined;
    const metrics: Record<string, unknown> = {};
    if (split.validation.length > 0) {
      evaluation = (await evaluateClips(pool, result.weights, split.validation, [...LABELS], config.evalPositions, config.melFmin)).evaluation;
      metrics.validation = { positions: config.evalPositions, ...evaluation };
      if (config.evalPositions > 1)
        metrics.validation_recipe_placement = {
          positions: 1,
          ...(await evaluateClips(pool, result.weights, split.validation, [...LABELS], 1, config.melFmin)).evaluation,
        };
    }
    const training = {
      command: options.command,
      data: summarizeData(data),
      skipped: data.skipped,
      split: {
        kind: config.split,
        fraction: config.validationFraction,
        seed: config.seed,
        train: { clips: split.train.length, speakers: speakersOf(split.train) },
        validation: { clips: split.validation.length, speakers: speakersOf(split.validation) },
      },
      recipe: {
        optimizer: 'adam',
        learning_rate: config.learningRate,
        batch_size: config.batchSize,
        epochs: config.epochs,
        epochs_run: result.history.length,
        best_epoch: result.bestEpoch,
        ended: result.ended,
        early_stopping_patience: config.earlyStoppingPatience,
        lr_plateau: { patience: config.lrPatience, factor: config.lrFactor, min: config.minLearningRate },
        class_weights: config.classWeights ? 'balanced' : 'none',
        loss: lossName(config),
      },
      augmentation: config.augment,
      // The whole recipe as `aer crossval` records it, so a cross-validation can be matched to this model.
      config: recipeOf(config),
      backend: pool.detail,
      workers: pool.size,
      seconds: Math.round(result.seconds),
    };
    unpackWeights(model, result.weights);
    const metadata = {
      ...describeMetadata([...LABELS], config.model, (model.outputs[1].shape[1] as number) ?? 0, training, metrics, config.melFmin),
      ...(config.windowInput ? { window_input: config.windowInput } : {}),
    };
    await saveModelDir(out, model, metadata);
    await writeAtomically(path.join(out, 'history.json'), `${JSON.stringify(result.history, null, 1)}\n`);
    await writeAtomically(
      path.join(out, 'curves.svg'),
      trainingCurvesSvg(result.history, result.bestEpoch, `AER-Net (${config.model.variant}), ${split.train.length} training clips`),
    );
    if (evaluation)
      await writeAtomically(
        path.join(out, 'confusion.svg'),
        confusionMatrixSvg(evaluation, `Validation (${split.validation.length} clips, ${config.split} split)`),
      );
    await writeAtomically(path.join(out, 'report.md'), trainingReport(metadata, evaluation, data.skipped));
    await fs.rm(checkpointDir(out), { recursive: true, force: true });
    return { out, fit: result, evaluation, metadata };
  } finally {
    await pool.close();
  }
}

/** The training loss in words: against one-hot targets unless the recipe smooths or blends them. */
function lossName(config: TrainConfig): string {
  const soft = [
    ...(config.mixupAlpha ? [`mixup (Beta(${config.mixupAlpha}, ${config.mixupAlpha}))`] : []),
    ...(config.labelSmoothing ? [`labels smoothed by ${config.labelSmoothing}`] : []),
  ];
  return soft.length > 0 ? `categorical cross-entropy, ${soft.join(', ')}` : 'sparse categorical cross-entropy';
}

function trainingReport(metadata: AerMetadata, evaluation: Evaluation | undefined, skipped: Record<string, number>): string {
  const t = metadata.training as {
    recipe: Record<string, unknown>;
    split: { kind: string; train: { clips: number; speakers: string[] }; validation: { clips: number; speakers: string[] } };
    seconds: number;
    command?: string;
  };
  return [
    `# AER-Net (${metadata.variant}) training report`,
    '',
    `Trained ${metadata.created} with aer-stream ${metadata.version}${t.command ? `: \`${t.command}\`` : ''}.`,
    '',
    `- training: ${t.split.train.clips} clips, speakers ${t.split.train.speakers.join(', ')}`,
    `- validation (${t.split.kind} split): ${t.split.validation.clips} clips, speakers ${t.split.validation.speakers.join(', ') || 'none'}`,
    `- skipped: ${skippedList(skipped)}`,
    `- epochs run: ${t.recipe.epochs_run} (best ${t.recipe.best_epoch}, ${t.recipe.ended}), ${t.seconds} s`,
    '',
    '![training curves](curves.svg)',
    '',
    ...(evaluation ? ['## Validation', '', metricsTable(evaluation), '', confusionTable(evaluation), '', '![confusion matrix](confusion.svg)', ''] : []),
  ].join('\n');
}
