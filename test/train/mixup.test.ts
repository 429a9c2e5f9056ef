import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gammaDraw, mixBatch, mixupShare, softTargets, type TrainingBatch } from '../../src/train/mixup.ts';
import { createRandom } from '../../src/train/random.ts';

const moments = (draws: number[]) => {
  const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
  return { mean, variance: draws.reduce((s, x) => s + (x - mean) ** 2, 0) / draws.length };
};

describe('soft targets', () => {
  it('are one-hot without smoothing, and spread the smoothing share evenly over the classes', () => {
    assert.deepEqual([...softTargets([2, 0], 3)], [0, 0, 1, 1, 0, 0]);
    const smoothed = softTargets([1], 4, 0.2);
    assert.deepEqual(
      [...smoothed].map((v) => Math.round(v * 1e6) / 1e6),
      [0.05, 0.85, 0.05, 0.05],
    );
    assert.ok(Math.abs(smoothed.reduce((s, v) => s + v, 0) - 1) < 1e-6);
  });
});

describe('mixup draws', () => {
  // A Gamma(k, 1) has mean k and variance k; 20000 draws put both within a few percent.
  for (const shape of [0.2, 1, 3.5]) {
    it(`Gamma(${shape}) draws have its mean and variance`, () => {
      const random = createRandom(11);
      const { mean, variance } = moments(Array.from({ length: 20000 }, () => gammaDraw(shape, random)));
      assert.ok(Math.abs(mean - shape) < 0.05 * shape + 0.01, `mean ${mean}`);
      assert.ok(Math.abs(variance - shape) < 0.1 * shape + 0.01, `variance ${variance}`);
    });
  }

  it('a share from Beta(1, 1) folded is uniform on [0.5, 1]; a small alpha keeps most windows nearly whole', () => {
    const random = createRandom(5);
    const uniform = Array.from({ length: 20000 }, () => mixupShare(1, random));
    assert.ok(uniform.every((s) => s >= 0.5 && s <= 1));
    const { mean, variance } = moments(uniform);
    assert.ok(Math.abs(mean - 0.75) < 0.005, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1 / 48) < 0.001, `variance ${variance}`);
    const small = Array.from({ length: 20000 }, () => mixupShare(0.1, random));
    assert.ok(small.filter((s) => s > 0.95).length > 0.6 * small.length);
  });
});

describe('mixBatch', () => {
  // Four windows of three values each, every value naming its window, and their one-hot targets.
  const batch: TrainingBatch = {
    features: Float32Array.from({ length: 12 }, (_, k) => Math.floor(k / 3) * 10 + (k % 3)),
    targets: softTargets([0, 1, 2, 1], 3),
    labels: Int32Array.from([0, 1, 2, 1]),
    sampleWeights: Float32Array.from([1, 2, 3, 4]),
  };

  it('blends every window with one partner by one share, features, targets and weights alike; labels stay', () => {
    const mixed = mixBatch(batch, 0.4, createRandom(3));
    assert.deepEqual([...mixed.labels], [0, 1, 2, 1]);
    for (let i = 0; i < 4; i++) {
      // Solve the blend from the first feature (window i's is 10 i): it must explain the targets and the weight too.
      const candidates = [0, 1, 2, 3].filter((j) => {
        const s = j === i ? 1 : (mixed.features[i * 3] - 10 * j) / (10 * i - 10 * j);
        if (!(s >= 0.5 - 1e-5 && s <= 1 + 1e-5)) return false;
        const near = (a: number, b: number) => Math.abs(a - b) < 1e-4;
        return (
          [0, 1, 2].every((k) => near(mixed.features[i * 3 + k], s * batch.features[i * 3 + k] + (1 - s) * batch.features[j * 3 + k])) &&
          [0, 1, 2].every((k) => near(mixed.targets[i * 3 + k], s * batch.targets[i * 3 + k] + (1 - s) * batch.targets[j * 3 + k])) &&
          near(mixed.sampleWeights[i], s * batch.sampleWeights[i] + (1 - s) * batch.sampleWeights[j])
        );
      });
      assert.ok(candidates.length > 0, `window ${i} is no blend of two windows`);
      assert.ok(Math.abs(mixed.targets.subarray(i * 3, i * 3 + 3).reduce((s, v) => s + v, 0) - 1) < 1e-6);
    }
    assert.notDeepEqual(mixed.features, batch.features);
  });

  it('draws the same blends from the same seed, and leaves the batch it was given alone', () => {
    const before = batch.features.slice();
    assert.deepEqual(mixBatch(batch, 0.4, createRandom(9)), mixBatch(batch, 0.4, createRandom(9)));
    assert.notDeepEqual(mixBatch(batch, 0.4, createRandom(9)).features, mixBatch(batch, 0.4, createRandom(10)).features);
    assert.deepEqual(batch.features, before);
  });
});
