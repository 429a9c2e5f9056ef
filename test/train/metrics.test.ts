import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { balancedClassWeights } from '../../src/train/class-weights.ts';
import { argmaxRows, evaluate } from '../../src/train/metrics.ts';
import { averageOverPositions, meanCrossEntropy } from '../../src/train/windows.ts';

describe('metrics', () => {
  it('accuracy, per-class and macro precision/recall/F1, confusion', () => {
    // truth:     a a a b b c
    // predicted: a a b b c c
    const e = evaluate(['a', 'b', 'c'], [0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2]);
    assert.deepEqual(e.confusion, [
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    assert.equal(e.accuracy, 4 / 6);
    assert.deepEqual(e.per_class.a, { precision: 1, recall: 2 / 3, f1: 0.8, support: 3 });
    assert.deepEqual(e.per_class.b, { precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    assert.deepEqual(e.per_class.c, { precision: 0.5, recall: 1, f1: 2 / 3, support: 1 });
    assert.ok(Math.abs(e.macro_f1 - (0.8 + 0.5 + 2 / 3) / 3) < 1e-12);
    assert.ok(Math.abs(e.macro_precision - 2 / 3) < 1e-12);
  });

  it('macro means leave out classes absent from the truth', () => {
    const e = evaluate(['a', 'b', 'c'], [0, 0], [0, 2]);
    assert.equal(e.per_class.b.support, 0);
    assert.equal(e.macro_recall, 0.5);
  });

  it('argmax, averaging over positions, cross-entropy, balanced class weights', () => {
    assert.deepEqual([...argmaxRows(Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.2, 0.3]), 3)], [1, 0]);
    const averaged = averageOverPositions(Float32Array.from([1, 0, 0, 1, 0.5, 0.5, 0.5, 0.5]), 2, 2);
    assert.deepEqual([...averaged], [0.5, 0.5, 0.5, 0.5]);
    assert.ok(Math.abs(meanCrossEntropy(Float32Array.from([0.5, 0.5, 0, 1]), [0, 1], 2) - Math.log(2) / 2) < 1e-7);
    assert.ok(meanCrossEntropy(Float32Array.from([0, 1]), [0], 2) < 17, 'log(0) is clipped');
    assert.deepEqual([...balancedClassWeights([0, 0, 0, 1], 3)], [Math.fround(4 / 6), 2, 0]);
  });
});
