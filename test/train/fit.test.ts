import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isAerError } from '../../src/errors.ts';
import { DEFAULT_OPTIONS } from '../../src/model/aernet-options.ts';
import { hasCheckpoint, loadCheckpoint } from '../../src/train/checkpoint.ts';
import type { LoadedClip } from '../../src/train/clip-store.ts';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../src/train/config.ts';
import { prepareData } from '../../src/train/data.ts';
import { fit, type FitResult, type FitRun } from '../../src/train/fit.ts';
import { initialWeights } from '../../src/train/initial-weights.ts';
import { ReplicaPool } from '../../src/train/parallel/pool.ts';
import { emodbTree } from '../helpers/datasets.ts';
import { tempDir } from '../helpers/tools.ts';
import fs from 'node:fs/promises';

/** A narrow AER-Net and a few clips: a real training run in seconds. */
const config: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  data: [],
  workers: 2,
  epochs: 2,
  batchSize: 8,
  learningRate: 1e-3,
  model: { ...DEFAULT_OPTIONS, filters: [4, 8, 8], lstmUnits: 8, attentionUnits: 8, denseUnits: [8, 8] },
};

describe('the training loop', () => {
  let train: LoadedClip[];
  let validation: LoadedClip[];
  let pool: ReplicaPool;
  let initial: Awaited<ReturnType<typeof initialWeights>>;
  let uninterrupted: FitResult;

  before(async () => {
    const data = await prepareData([emodbTree(tempDir(), ['03', '08'], 2)], undefined, { cacheDir: tempDir() });
    train = data.clips.filter((c) => c.speaker === 'emodb:03');
    validation = data.clips.filter((c) => c.speaker === 'emodb:08');
    initial = await initialWeights(config.model, config.seed, 'wasm');
    pool = await ReplicaPool.start(config.workers, config.model, 'wasm');
    uninterrupted = await fitHere({});
  });
  after(() => pool.close());
  const fitHere = (run: Partial<FitRun>) =>
    fit({ config, train, validation, pool, initialWeights: initial.weights, trainableCount: initial.trainableCount, ...run });

  it('trains for the epochs asked, with a finite, falling loss and validation figures', () => {
    assert.equal(uninterrupted.history.length, 2);
    assert.equal(uninterrupted.ended, 'epochs');
    for (const r of uninterrupted.history) {
      assert.ok(Number.isFinite(r.loss) && Number.isFinite(r.val_loss!), JSON.stringify(r));
      assert.ok(r.val_accuracy! >= 0 && r.val_accuracy! <= 1);
    }
    assert.notDeepEqual(uninterrupted.weights, initial.weights);
  });

  // In its first epoch the plateaus have no best loss yet (Infinity, which JSON writes as null): a resume must not read that as a best of 0.
  for (const at of [
    { epoch: 0, step: 1 },
    { epoch: 1, step: 1 },
  ]) {
    it(`an interrupted run (epoch ${at.epoch + 1}, step ${at.step}) saves a checkpoint, and resuming it ends exactly where the uninterrupted run did`, async () => {
      const dir = path.join(tempDir(), 'checkpoint');
      const controller = new AbortController();
      const stopped = await fitHere({
        checkpointDir: dir,
        signal: controller.signal,
        events: {
          onStep: (p) => {
            if (p.epoch === at.epoch && p.step === at.step) controller.abort();
          },
        },
      });
      assert.equal(stopped.ended, 'interrupted');
      assert.ok(await hasCheckpoint(dir));
      const checkpoint = await loadCheckpoint(dir);
      assert.deepEqual([checkpoint.state.epoch, checkpoint.state.step], [at.epoch, at.step]);
      const resumed = await fitHere({
        checkpointDir: dir,
        resumeFrom: checkpoint,
      });
      assert.equal(resumed.ended, 'epochs');
      assert.deepEqual(
        resumed.history.map((r) => r.loss),
        uninterrupted.history.map((r) => r.loss),
      );
      assert.deepEqual(resumed.weights, uninterrupted.weights);
      assert.deepEqual(
        resumed.history.map((r) => r.learning_rate),
        uninterrupted.history.map((r) => r.learning_rate),
      );
    });
  }

  it('a cosine schedule anneals the learning rate over the epochs, whatever the losses', async () => {
    const cosine = await fitHere({ config: { ...config, epochs: 3, lrSchedule: 'cosine', minLearningRate: 0 } });
    const rates = cosine.history.map((r) => r.learning_rate);
    [1e-3, 7.5e-4, 2.5e-4].forEach((expected, i) => assert.ok(Math.abs(rates[i] - expected) < 1e-12, `epoch ${i + 1}: ${rates[i]}`));
  });

  it("averaging keeps the mean of the last epochs' trainable weights, batch norm measured again, and resumes to the same", async () => {
    const alone = { validation: [] };
    const two = await fitHere({ ...alone, config: { ...config, split: 'none' } });
    const three = await fitHere({ ...alone, config: { ...config, split: 'none', epochs: 3 } });
    const averagedConfig: TrainConfig = { ...config, split: 'none', epochs: 3, averageEpochs: 2 };
    const averaged = await fitHere({ ...alone, config: averagedConfig });
    assert.equal(averaged.ended, 'epochs');
    const { trainableCount } = initial;
    for (let i = 0; i < trainableCount; i++) {
      const mean = (two.weights[i] + three.weights[i]) / 2;
      assert.ok(Math.abs(averaged.weights[i] - mean) <= 1e-6 * Math.max(1, Math.abs(mean)), `weight ${i}: ${averaged.weights[i]} against ${mean}`);
    }
    // Batch norm's statistics are measured for the mean weights: neither epoch's, nor their mean.
    const frozen = (w: Float32Array) => Array.from(w.subarray(trainableCount));
    const meanFrozen = frozen(two.weights).map((v, i) => (v + frozen(three.weights)[i]) / 2);
    assert.ok(frozen(averaged.weights).every(Number.isFinite));
    assert.notDeepEqual(frozen(averaged.weights), meanFrozen);
    assert.notDeepEqual(frozen(averaged.weights), frozen(three.weights));

    const dir = path.join(tempDir(), 'checkpoint');
    const controller = new AbortController();
    const stopped = await fitHere({
      ...alone,
      config: averagedConfig,
      checkpointDir: dir,
      signal: controller.signal,
      events: { onStep: (p) => p.epoch === 2 && p.step === 1 && controller.abort() },
    });
    assert.equal(stopped.ended, 'interrupted');
    const resumed = await fitHere({ ...alone, config: averagedConfig, checkpointDir: dir, resumeFrom: await loadCheckpoint(dir) });
    assert.deepEqual(resumed.weights, averaged.weights);
  });

  it('mixup and label smoothing train another run from the same seed, the same one every time', async () => {
    const soft = { ...config, mixupAlpha: 0.4, labelSmoothing: 0.1 };
    const [first, again] = [await fitHere({ config: soft }), await fitHere({ config: soft })];
    assert.deepEqual(first.weights, again.weights);
    assert.notDeepEqual(first.weights, uninterrupted.weights);
    assert.ok(first.history.every((r) => Number.isFinite(r.loss) && Number.isFinite(r.val_loss!)));
  });

  it('averaging is refused with validation or more epochs than the run has', async () => {
    for (const run of [{ config: { ...config, averageEpochs: 1 } }, { validation: [], config: { ...config, split: 'none' as const, averageEpochs: 3 } }]) {
      await assert.rejects(fitHere(run), (e: unknown) => isAerError(e) && e.code === 'invalid_argument' && /--split none/.test(e.message));
    }
  });

  it("early stopping restores the best epoch's weights", async () => {
    const patient = { ...config, epochs: 6, earlyStoppingPatience: 1, learningRate: 0.05 };
    const result = await fitHere({ config: patient });
    if (result.ended === 'early_stopping') assert.ok(result.bestEpoch < result.history.length);
    const best = Math.min(...result.history.map((r) => r.val_loss!));
    assert.equal(result.history[result.bestEpoch - 1].val_loss, best);
  });

  it('a corrupt checkpoint is refused with the reason', async () => {
    const dir = path.join(tempDir(), 'checkpoint');
    const controller = new AbortController();
    controller.abort();
    await fitHere({ checkpointDir: dir, signal: controller.signal });
    await fs.truncate(path.join(dir, 'optimizer.bin'), 100);
    await assert.rejects(loadCheckpoint(dir), (e: unknown) => isAerError(e) && e.code === 'invalid_checkpoint' && /truncated/.test(e.message));
    await fs.writeFile(path.join(dir, 'state.json'), '{');
    await assert.rejects(loadCheckpoint(dir), (e: unknown) => isAerError(e) && /not JSON/.test(e.message));
  });
});
