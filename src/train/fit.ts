/**
 * The training loop. The coordinator (this thread) keeps the weights and
 * Adam's state as flat arrays, makes each batch's augmented features while
 * the replicas compute the previous one, adds up their gradients, and after
 * every epoch validates, applies early stopping and ReduceLROnPlateau (or
 * the cosine schedule), keeps the running mean of the last epochs'
 * weights when asked to average them, and saves a checkpoint. An abort
 * (Ctrl-C) saves one at the next step and returns; the same call with the
 * checkpoint resumes where it stopped.
 */
import { AerError } from '../errors.ts';
import { WINDOW_VALUES } from '../features/recipe.ts';
import { Adam } from './adam.ts';
import { augmentedFeatures } from './augment.ts';
import { cosineLearningRate, freshPlateau, observe, plateauLearningRate } from './callbacks.ts';
import { type Checkpoint, CHECKPOINT_FORMAT, type EpochRecord, saveCheckpoint, type TrainingState } from './checkpoint.ts';
import { balancedClassWeights } from './class-weights.ts';
import type { LoadedClip } from './clip-store.ts';
import type { TrainConfig } from './config.ts';
import { fingerprint, labelIndices } from './data.ts';
import { LABELS } from './labels.ts';
import { argmaxRows } from './metrics.ts';
import { mixBatch, softTargets, type TrainingBatch } from './mixup.ts';
import type { ReplicaPool } from './parallel/pool.ts';
import type { Shard } from './parallel/protocol.ts';
import { deriveRandom, shuffled } from './random.ts';
import { prepareTrainingAudio, type TrainingAudio } from './training-audio.ts';
import { evaluationWindows, meanCrossEntropy } from './windows.ts';

export interface StepProgress {
  epoch: number;
  step: number;
  steps: number;
  loss: number;
  accuracy: number;
}

export interface FitEvents {
  onStep?(progress: StepProgress): void;
  onEpoch?(record: EpochRecord, info: { improved: boolean; stopping: boolean; learningRateCut: boolean }): void;
}

export interface FitRun {
  config: TrainConfig;
  train: LoadedClip[];
  /** Empty: no validation, no early stopping; the last weights are the result. */
  validation: LoadedClip[];
  pool: ReplicaPool;
  /** Initial weights (trainable first), as packWeights lays them out. */
  initialWeights: Float32Array;
  trainableCount: number;
  checkpointDir?: string;
  resumeFrom?: Checkpoint;
  signal?: AbortSignal;
  events?: FitEvents;
}

export interface FitResult {
  /** The weights to keep: the best epoch's when validating, the last epochs' mean when averaging, else the last. */
  weights: Float32Array;
  history: EpochRecord[];
  bestEpoch: number;
  /** Why it ended: all epochs run, early stopping, or an interruption (a checkpoint was saved). */
  ended: 'epochs' | 'early_stopping' | 'interrupted';
  seconds: number;
}

/** A batch's shards: features made with each clip's own augmentation draw, blended by mixup when the recipe asks. */
function makeShards(
  run: FitRun,
  audio: TrainingAudio,
  order: number[],
  labels: Int32Array,
  sampleWeights: Float32Array,
  epoch: number,
  step: number,
): { shards: Shard[]; size: number } {
  const { config, pool } = run;
  const ids = order.slice(step * config.batchSize, (step + 1) * config.batchSize);
  const features = new Float32Array(ids.length * WINDOW_VALUES);
  // Each clip's augmentation draw depends on its place in the epoch only, not on how the batch is sharded.
  ids.forEach((id, j) =>
    features.set(
      augmentedFeatures(audio, id, config.augment, deriveRandom(config.seed, 2, epoch, step * config.batchSize + j), config.melFmin),
      j * WINDOW_VALUES,
    ),
  );
  const batchLabels = Int32Array.from(ids, (id) => labels[id]);
  let batch: TrainingBatch = {
    features,
    targets: softTargets(batchLabels, LABELS.length, config.labelSmoothing),
    labels: batchLabels,
    sampleWeights: Float32Array.from(ids, (id) => sampleWeights[id]),
  };
  if (config.mixupAlpha) batch = mixBatch(batch, config.mixupAlpha, deriveRandom(config.seed, 4, epoch, step));
  const shards: Shard[] = [];
  let at = 0;
  pool.shardSizes(ids.length).forEach((size, k) => {
    const part = <T extends Float32Array | Int32Array>(values: T): T =>
      values.slice((at * values.length) / ids.length, ((at + size) * values.length) / ids.length) as T;
    shards.push({
      features: part(batch.features),
      targets: part(batch.targets),
      labels: part(batch.labels),
      sampleWeights: part(batch.sampleWeights),
      seed: deriveRandom(config.seed, 3, epoch, step, k)() * 2 ** 32,
    });
    at += size;
  });
  return { shards, size: ids.length };
}

/** Of the epochs whose weights are averaged, how many have ended once `epochsDone` have: 0 before the first of them. */
function epochsAveraged(config: TrainConfig, epochsDone: number): number {
  return config.averageEpochs ? Math.max(0, epochsDone - (config.epochs - config.averageEpochs)) : 0;
}

/**
 * Batch norm's moving statistics measured again for averaged weights: the
 * mean of the epochs' statistics is not that of the mean weights. One pass
 * of training batches through them updates the statistics, as training
 * does; the trainable weights are left as they are. False if interrupted.
 */
async function remeasureBatchNorm(
  run: FitRun,
  audio: TrainingAudio,
  order: number[],
  steps: number,
  labels: Int32Array,
  sampleWeights: Float32Array,
  weights: Float32Array,
): Promise<boolean> {
  const { config, pool, trainableCount } = run;
  for (let step = 0; step < steps; step++) {
    if (run.signal?.aborted) return false;
    const { shards, size } = makeShards(run, audio, order, labels, sampleWeights, config.epochs, step);
    weights.set((await pool.step(weights, shards, size)).frozen, trainableCount);
  }
  return true;
}

export async function fit(run: FitRun): Promise<FitResult> {
  const { config, train, validation, pool, trainableCount } = run;
  if (config.averageEpochs && (validation.length > 0 || config.averageEpochs > config.epochs)) {
    throw new AerError(
      'invalid_argument',
      `averaging the last ${config.averageEpochs} epochs' weights needs a run without validation (--split none) of at least that many epochs`,
    );
  }
  const started = Date.now();
  const labels = labelIndices(train);
  const classWeights = config.classWeights ? balancedClassWeights(labels, LABELS.length) : new Float32Array(LABELS.length).fill(1);
  const sampleWeights = Float32Array.from(labels, (l) => classWeights[l]);
  const validationLabels = labelIndices(validation);
  const validationWindows = validation.length > 0 ? evaluationWindows(validation, 1, config.melFmin) : undefined;
  const steps = Math.ceil(train.length / config.batchSize);
  const audio = prepareTrainingAudio(train, config.augment, config.seed);
  const trainOrder = train.map((_, i) => i);
  const epochOrder = (epoch: number) => shuffled(trainOrder, deriveRandom(config.seed, 1, epoch));

  const adam = new Adam(trainableCount);
  let weights = run.initialWeights.slice();
  let best = weights.slice();
  let state: TrainingState = {
    format: CHECKPOINT_FORMAT,
    config,
    dataFingerprint: fingerprint([...train, ...validation]),
    epoch: 0,
    step: 0,
    epochLoss: 0,
    epochCorrect: 0,
    epochSeen: 0,
    learningRate: config.learningRate,
    earlyStopping: freshPlateau(),
    lrPlateau: freshPlateau(),
    bestEpoch: -1,
    history: [],
    elapsedSeconds: 0,
    optimizer: adam.save().layout,
  };
  if (run.resumeFrom) {
    state = run.resumeFrom.state;
    weights = run.resumeFrom.weights.slice();
    best = run.resumeFrom.best.slice();
    adam.restore(run.resumeFrom.optimizer);
  }
  const elapsedBefore = state.elapsedSeconds;
  const checkpoint = async () => {
    if (!run.checkpointDir) return;
    state.elapsedSeconds = elapsedBefore + (Date.now() - started) / 1000;
    state.optimizer = adam.save().layout;
    await saveCheckpoint(run.checkpointDir, { state, weights, best, optimizer: adam.save().values });
  };

  let ended: FitResult['ended'] = 'epochs';
  while (state.epoch < config.epochs) {
    const epochStarted = Date.now();
    const order = epochOrder(state.epoch);
    let next = state.step < steps ? makeShards(run, audio, order, labels, sampleWeights, state.epoch, state.step) : undefined;
    for (; state.step < steps; state.step++) {
      if (run.signal?.aborted) break;
      const current = next!;
      const pending = pool.step(weights, current.shards, current.size);
      next = state.step + 1 < steps ? makeShards(run, audio, order, labels, sampleWeights, state.epoch, state.step + 1) : undefined;
      const result = await pending;
      adam.step(weights.subarray(0, trainableCount), result.gradients, state.learningRate);
      weights.set(result.frozen, trainableCount);
      state.epochLoss += result.loss * current.size;
      state.epochCorrect += result.correct;
      state.epochSeen += current.size;
      run.events?.onStep?.({
        epoch: state.epoch,
        step: state.step + 1,
        steps,
        loss: state.epochLoss / state.epochSeen,
        accuracy: state.epochCorrect / state.epochSeen,
      });
    }
    if (run.signal?.aborted) {
      // Mid-epoch: the checkpoint holds the position and the epoch's running totals.
      await checkpoint();
      ended = 'interrupted';
      break;
    }

    const record: EpochRecord = {
      epoch: state.epoch + 1,
      loss: state.epochLoss / state.epochSeen,
      accuracy: state.epochCorrect / state.epochSeen,
      learning_rate: state.learningRate,
      seconds: (Date.now() - epochStarted) / 1000,
    };
    if (validationWindows) {
      const { probabilities } = await pool.predict(weights, validationWindows);
      record.val_loss = meanCrossEntropy(probabilities, validationLabels, LABELS.length);
      const predicted = argmaxRows(probabilities, LABELS.length);
      record.val_accuracy = predicted.reduce((n, p, i) => n + (p === validationLabels[i] ? 1 : 0), 0) / validation.length;
    }
    state.history.push(record);
    state.epochLoss = state.epochCorrect = state.epochSeen = 0;

    let improved = true;
    let stopping = false;
    if (record.val_loss !== undefined) {
      improved = observe(state.earlyStopping, record.val_loss);
      stopping = config.earlyStoppingPatience > 0 && state.earlyStopping.wait >= config.earlyStoppingPatience;
    }
    const averaged = epochsAveraged(config, record.epoch);
    if (averaged > 0) {
      // `best` holds the running mean of the averaged epochs' weights, so a checkpoint carries it.
      if (averaged === 1) best = weights.slice();
      else for (let i = 0; i < best.length; i++) best[i] += (weights[i] - best[i]) / averaged;
      state.bestEpoch = record.epoch;
    } else if (improved) {
      best = weights.slice();
      state.bestEpoch = record.epoch;
    }
    const before = state.learningRate;
    const cosine = config.lrSchedule === 'cosine';
    state.learningRate = cosine
      ? cosineLearningRate(state.epoch + 1, config.epochs, config.learningRate, config.minLearningRate)
      : plateauLearningRate(state.lrPlateau, record.val_loss ?? record.loss, state.learningRate, {
          patience: config.lrPatience,
          factor: config.lrFactor,
          minLearningRate: config.minLearningRate,
        });
    run.events?.onEpoch?.(record, { improved, stopping, learningRateCut: !cosine && state.learningRate < before });
    state.epoch++;
    state.step = 0;
    if (stopping) {
      ended = 'early_stopping';
      // The run is over: stop the epoch count here, so a resume does not train on.
      state.epoch = config.epochs;
    }
    await checkpoint();
    if (stopping) break;
  }
  // The pass after the last epoch draws its batches as an epoch more would.
  if (ended === 'epochs' && config.averageEpochs && !(await remeasureBatchNorm(run, audio, epochOrder(config.epochs), steps, labels, sampleWeights, best))) {
    ended = 'interrupted';
  }
  return { weights: best, history: state.history, bestEpoch: state.bestEpoch, ended, seconds: elapsedBefore + (Date.now() - started) / 1000 };
}
