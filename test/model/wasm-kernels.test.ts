import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { buildAerNet } from '../../src/model/aernet.ts';
import { installWasmTrainingKernels } from '../../src/model/wasm-kernels.ts';
import { seedMathRandom } from '../../src/train/random.ts';
import { random } from '../helpers/signals.ts';

/** Run `fn` on a backend with inputs given as plain arrays, returning plain arrays. */
async function on(backend: 'cpu' | 'wasm', fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  await tf.ready();
  if (backend === 'wasm') installWasmTrainingKernels();
  return tf
    .tidy(() => [fn()].flat())
    .map((t) => {
      const values = t.dataSync() as Float32Array;
      t.dispose();
      return values;
    });
}

function values(n: number, seed: number, scale = 1): number[] {
  const r = random(seed);
  return Array.from({ length: n }, () => scale * (2 * r() - 1));
}

/** Relative agreement: max |a - b| over max |b|. */
function relativeError(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

async function agree(name: string, fn: () => tf.Tensor | tf.Tensor[], tolerance = 1e-4): Promise<void> {
  const cpu = await on('cpu', fn);
  const wasm = await on('wasm', fn);
  cpu.forEach((c, i) => {
    const e = relativeError(wasm[i], c);
    assert.ok(e <= tolerance, `${name}, output ${i}: relative error ${e}`);
  });
}

describe('wasm training kernels agree with the cpu backend', () => {
  for (const [shape, kernel] of [
    [
      [2, 9, 8, 3],
      [3, 3, 3, 5],
    ],
    [
      [3, 7, 6, 1],
      [3, 3, 1, 4],
    ],
    [
      [2, 6, 5, 4],
      [1, 1, 4, 6],
    ],
  ] as [number[], number[]][]) {
    test(`conv2d gradients, input ${shape}, kernel ${kernel}`, async () => {
      const xv = values(
        shape.reduce((a, b) => a * b),
        1,
      );
      const wv = values(
        kernel.reduce((a, b) => a * b),
        2,
      );
      await agree('conv2d', () => {
        const x = tf.tensor4d(xv, shape as [number, number, number, number]);
        const w = tf.tensor4d(wv, kernel as [number, number, number, number]);
        const f = (a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(
            tf.mul(
              tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'),
              tf
                .range(0, shape[0] * shape[1] * shape[2] * kernel[3])
                .reshape([shape[0], shape[1], shape[2], kernel[3]])
                .div(100),
            ),
          );
        return tf.grads(f)([x, w]);
      });
    });
  }

  for (const shape of [
    [2, 6, 4, 3],
    [2, 5, 4, 3],
    [1, 7, 7, 2],
    [3, 130, 128, 2],
  ] as [number, number, number, number][]) {
    test(`max pooling gradient, input ${shape}, all-negative windows included`, async () => {
      // Shifted down so that many windows hold only negative values (as ELU and GELU outputs can).
      const xv = values(
        shape.reduce((a, b) => a * b),
        3,
      ).map((v) => v - 0.8);
      await agree('maxPool', () => {
        const x = tf.tensor4d(xv, shape);
        return tf.grad((t: tf.Tensor) =>
          tf.sum(
            tf.mul(
              tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'),
              tf
                .range(1, 1 + Math.floor(shape[1] / 2) * Math.floor(shape[2] / 2) * shape[3] * shape[0])
                .reshape([shape[0], Math.floor(shape[1] / 2), Math.floor(shape[2] / 2), shape[3]]),
            ),
          ),
        )(x);
      });
    });
  }

  test('max pooling gradient with tied maxima goes to the first of each window only, as TF does', async () => {
    // A constant region (a short clip's zero padding after normalisation) and zeros (ReLU) tie within windows.
    const shape: [number, number, number, number] = [2, 8, 6, 3];
    const xv = values(
      shape.reduce((a, b) => a * b),
      12,
    ).map((v, i) => (i % 48 < 24 ? 0.7 : i % 5 === 0 ? 0 : Math.min(v, 0)));
    await agree(
      'maxPool ties',
      () => {
        const x = tf.tensor4d(xv, shape);
        return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'), tf.range(1, 1 + 2 * 4 * 3 * 3).reshape([2, 4, 3, 3]))))(x);
      },
      0,
    );
  });

  test('sums and means over batch, height and width, and other axes', async () => {
    const xv = values(2 * 5 * 4 * 3, 4);
    await agree('reductions', () => {
      const x = tf.tensor4d(xv, [2, 5, 4, 3]);
      return [tf.sum(x, [0, 1, 2]), tf.mean(x, [0, 1, 2]), tf.sum(x, [0, 1, 2], true), tf.sum(x, [1, 2]), tf.mean(x, -1), tf.sum(x)];
    });
  });

  test('matrix products with every combination of transposed operands, batched too', async () => {
    const av = values(2 * 3 * 4, 5);
    const bv = values(2 * 4 * 5, 6);
    await agree('matMul', () => {
      const out: tf.Tensor[] = [];
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const a = tf.tensor3d(av, ta ? [2, 4, 3] : [2, 3, 4]);
          const b = tf.tensor3d(bv, tb ? [2, 5, 4] : [2, 4, 5]);
          out.push(tf.matMul(a, b, ta, tb), tf.fused.matMul({ a, b, transposeA: ta, transposeB: tb, bias: tf.ones([5]), activation: 'relu' }));
          // A large transposed operand with small others takes the (B A^T)^T route.
          const big = tf.tensor2d(values(64 * 48, 7), [64, 48]);
          const small = tf.tensor2d(values(2 * 48, 8), [2, 48]);
          out.push(tf.matMul(small, big, false, true));
        }
      }
      return out;
    });
  });

  test('slices (contiguous or not, any rank) and unstacking along every axis', async () => {
    const xv = values(3 * 5 * 4 * 6, 11);
    await agree('slice', () => {
      const x = tf.tensor4d(xv, [3, 5, 4, 6]);
      return [
        tf.slice(x, [1, 0, 0, 0], [2, 5, 4, 6]),
        tf.slice(x, [0, 1, 1, 0], [3, 3, 2, 6]),
        tf.slice(x, [2, 4, 3, 5], [1, 1, 1, 1]),
        tf.slice(x, [0, 0, 0, 2], [3, 5, 4, 3]),
        tf.slice(tf.reshape(x, [15, 24]), [3, 5], [7, 11]),
        tf.slice(tf.reshape(x, [360]), [17], [100]),
        ...tf.unstack(x, 0),
        ...tf.unstack(x, 1),
        ...tf.unstack(x, 3),
      ];
    });
  });

  test('a clone outlives its original, and the original its clone', async () => {
    await on('wasm', () => tf.tensor1d([0]));
    const original = tf.tensor1d([1, 2, 3]);
    const copy = tf.clone(original);
    original.dispose();
    assert.deepEqual(Array.from(copy.dataSync()), [1, 2, 3]);
    const again = tf.clone(copy);
    again.dispose();
    assert.deepEqual(Array.from(copy.dataSync()), [1, 2, 3]);
    copy.dispose();
  });

  test('batch normalisation gradients', async () => {
    const xv = values(4 * 3 * 3 * 2, 9);
    await agree('batchNorm', () => {
      const x = tf.tensor4d(xv, [4, 3, 3, 2]);
      const f = (t: tf.Tensor) => {
        const { mean, variance } = tf.moments(t, [0, 1, 2]);
        return tf.sum(tf.mul(tf.batchNorm(t, mean, variance, tf.tensor1d([0.5, -1]), tf.tensor1d([2, 3]), 1e-3), tf.range(0, 72).reshape([4, 3, 3, 2])));
      };
      return tf.grad(f)(x);
    });
  });

  for (const variant of ['full', 'cnn_res'] as const) {
    // A narrow AER-Net: the same layers and kernels, small enough for the cpu backend to be quick.
    const narrow = {
      variant,
      filters: [4, 8, 16] as [number, number, number],
      lstmUnits: 8,
      attentionUnits: 8,
      denseUnits: [8, 8] as [number, number],
      convDropout: 0,
      denseDropout: 0,
    };
    test(`gradients of a narrow AER-Net (${variant}) with respect to every weight`, async () => {
      const xv = values(2 * 130 * 128, 10);
      // The same initial weights on both backends, and in every run: unseeded, an unlucky draw made a near-cancelling
      // gradient whose relative error reached 1e-2 once in many runs.
      tf.engine().startScope();
      await tf.setBackend('cpu');
      seedMathRandom(7);
      const initial = buildAerNet(narrow)
        .getWeights()
        .map((w) => ({ shape: w.shape, data: w.dataSync().slice() }));
      tf.engine().endScope();
      const grads = (backend: 'cpu' | 'wasm') =>
        on(backend, () => {
          const model = buildAerNet(narrow);
          model.setWeights(initial.map((w) => tf.tensor(w.data, w.shape)));
          const x = tf.tensor4d(xv, [2, 130, 128, 1]);
          const { grads: g } = tf.variableGrads(
            () => {
              const [probs] = model.apply(x, { training: true }) as tf.Tensor[];
              return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([1, 4], 'int32'), 6), probs) as tf.Scalar;
            },
            model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val),
          );
          return Object.values(g);
        });
      const cpu = await grads('cpu');
      const wasm = await grads('wasm');
      assert.equal(cpu.length, wasm.length);
      // Batch-norm and conv gradients sum 33 k float32 terms in another order on each backend: with random initial weights their
      // relative error reached 1.2e-4 in one run in many; a wrong kernel is off by orders of magnitude more.
      cpu.forEach((c, i) => assert.ok(relativeError(wasm[i], c) <= 5e-4, `weight ${i}: relative error ${relativeError(wasm[i], c)}`));
    });
  }
});
