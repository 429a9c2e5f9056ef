import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Matrix, SVD } from 'ml-matrix';
import { forestProbabilities, trainForest } from '../../src/train/baselines/forest.ts';
import { fitPca, projectPca } from '../../src/train/baselines/pca.ts';
import { svmPredict } from '../../src/train/baselines/svm.ts';
import { random } from '../helpers/signals.ts';

/** Gaussian-ish blobs: class k is centred at k * separation on a few features, noise elsewhere. */
function blobs(perClass: number, classes: number, dims: number, separation: number, seed: number): { rows: Float32Array[]; labels: number[] } {
  const r = random(seed);
  const rows: Float32Array[] = [];
  const labels: number[] = [];
  for (let k = 0; k < classes; k++) {
    for (let i = 0; i < perClass; i++) {
      rows.push(Float32Array.from({ length: dims }, (_, j) => (j % classes === k ? separation : 0) + (r() + r() + r() - 1.5)));
      labels.push(k);
    }
  }
  return { rows, labels };
}

describe('PCA', () => {
  it('matches the SVD of the standardised data: variances, and coordinates up to sign', () => {
    const { rows } = blobs(8, 3, 40, 2, 1);
    const pca = fitPca(rows, 5);
    const n = rows.length;
    const z = new Matrix(rows.map((r) => Array.from(r)));
    for (let j = 0; j < z.columns; j++) {
      const col = z.getColumn(j);
      const mean = col.reduce((a, b) => a + b, 0) / n;
      const std = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
      z.setColumn(
        j,
        col.map((v) => (v - mean) / std),
      );
    }
    const svd = new SVD(z, { autoTranspose: true });
    svd.diagonal.slice(0, 5).forEach((s, k) => assert.ok(Math.abs(pca.variances[k] - (s * s) / (n - 1)) < 1e-6 * pca.variances[0], `variance ${k}`));
    const scores = svd.leftSingularVectors.mmul(Matrix.diag(svd.diagonal));
    rows.forEach((row, i) => {
      const projected = projectPca(pca, row);
      for (let k = 0; k < 5; k++) assert.ok(Math.abs(Math.abs(projected[k]) - Math.abs(scores.get(i, k))) < 1e-4, `row ${i} component ${k}`);
    });
    for (const a of pca.axes) assert.ok(Math.abs(a.reduce((s, v) => s + v * v, 0) - 1) < 1e-9);
  });

  it('keeps fewer components than rows, and ignores constant features', () => {
    const rows = Array.from({ length: 6 }, (_, i) => Float32Array.from([i, 5, (i * 7) % 3, -i]));
    const pca = fitPca(rows, 200);
    assert.ok(pca.axes.length <= 5);
    assert.equal(pca.inverseStd[1], 0);
  });
});

describe('random forest', () => {
  it('separates well-separated classes, and is seeded', () => {
    const train = blobs(20, 3, 30, 3, 2);
    const test = blobs(10, 3, 30, 3, 3);
    const forest = trainForest(train.rows, train.labels, 3, { trees: 30, minSamplesSplit: 2, seed: 1 });
    const predict = (f: typeof forest) =>
      test.rows.map((r) => {
        const p = forestProbabilities(f, r);
        return p.indexOf(Math.max(...p));
      });
    const predicted = predict(forest);
    const accuracy = predicted.filter((p, i) => p === test.labels[i]).length / test.rows.length;
    assert.ok(accuracy >= 0.9, `accuracy ${accuracy}`);
    const p = forestProbabilities(forest, test.rows[0]);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.deepEqual(predict(trainForest(train.rows, train.labels, 3, { trees: 30, minSamplesSplit: 2, seed: 1 })), predicted);
  });

  it('grows pure leaves on its training data and splits exactly at float32 thresholds', () => {
    // Neighbouring float32 values whose midpoint rounds to the upper one.
    const a = Math.fround(1 + 2 ** -23);
    const b = Math.fround(1 + 2 ** -22);
    assert.equal(Math.fround((a + b) / 2), b);
    const rows = [Float32Array.of(a), Float32Array.of(b), Float32Array.of(a), Float32Array.of(b)];
    const forest = trainForest(rows, [0, 1, 0, 1], 2, { trees: 5, minSamplesSplit: 2, seed: 4 });
    const bootstrapHasBoth = forest.trees.filter((t) => t.feature[0] === 0);
    assert.ok(bootstrapHasBoth.length > 0);
    for (const t of bootstrapHasBoth) {
      assert.equal(t.threshold[0], a);
      assert.deepEqual([...t.shares.subarray(2, 6)], [1, 0, 0, 1]);
    }
  });
});

describe('SVM', () => {
  it('separates well-separated classes', async () => {
    const train = blobs(20, 3, 30, 3, 5);
    const test = blobs(10, 3, 30, 3, 6);
    const predicted = await svmPredict(train.rows, train.labels, test.rows, { components: 10, cost: 10 });
    const accuracy = [...predicted].filter((p, i) => p === test.labels[i]).length / test.rows.length;
    assert.ok(accuracy >= 0.9, `accuracy ${accuracy}`);
  });
});
