import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { exportOnnx } from '../../src/engine/onnx-export/export.ts';
import { calibrate } from '../../src/engine/onnx-export/calibrate.ts';
import { checkAgreement, checkParity, PARITY_TOLERANCE } from '../../src/engine/onnx-export/parity.ts';
import { INT8_SESSION_OPTIONS } from '../../src/engine/int8-session.ts';
import { isAerError } from '../../src/errors.ts';
import { DEFAULT_OPTIONS } from '../../src/model/aernet-options.ts';
import { buildEnsemble, joinEnsemble, memberCount } from '../../src/model/ensemble.ts';
import { loadModelDir } from '../../src/model/model-dir.ts';
import { packWeights } from '../../src/model/weights.ts';
import { ReplicaPool } from '../../src/train/parallel/pool.ts';
import { featureWindows, seededModel, writeModelDir } from '../helpers/models.ts';
import { tempDir } from '../helpers/tools.ts';

const options = { ...DEFAULT_OPTIONS, filters: [4, 8, 8] as [number, number, number], lstmUnits: 8, attentionUnits: 8, denseUnits: [8, 8] as [number, number] };

/** Probabilities and attention of a model on windows, as arrays. */
function outputs(model: tf.LayersModel, windows: Float32Array, batch: number): [Float32Array, Float32Array] {
  return tf.tidy(() => {
    const [p, a] = model.predict(tf.tensor4d(windows, [batch, 130, 128, 1])) as tf.Tensor[];
    return [p.dataSync() as Float32Array, a.dataSync() as Float32Array];
  });
}

const maxDiff = (a: Float32Array, b: ArrayLike<number>) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('an ensemble of networks as one graph', () => {
  test('reads each window with every member and averages their probabilities and attention', async () => {
    const members = [await seededModel(options, 3), await seededModel(options, 4), await seededModel(options, 5)];
    const ensemble = joinEnsemble(members, options);
    const windows = featureWindows(4);
    const each = members.map((m) => outputs(m, windows, 4));
    const [p, a] = outputs(ensemble, windows, 4);
    const mean = (which: 0 | 1) => each[0][which].map((_, i) => each.reduce((s, o) => s + o[which][i], 0) / each.length);
    assert.ok(maxDiff(p, mean(0)) < 1e-6 && maxDiff(a, mean(1)) < 1e-6);
    // The members really differ, so the mean is not any one of them.
    assert.ok(maxDiff(each[0][0], each[1][0]) > 1e-3);
    assert.equal(memberCount(ensemble), 3);
    assert.equal(memberCount(members[0]), 1);
  });

  test('saves and loads as a model directory, and exports to ONNX with the same outputs', async () => {
    const ensemble = joinEnsemble([await seededModel(options, 3), await seededModel(options, 4)], options);
    const dir = tempDir();
    await writeModelDir(dir, ensemble, options);
    const meta = path.join(dir, 'aer.json');
    const networks = [3, 4].map((seed) => ({ from: `seed-${seed}`, weights_sha256: String(seed).repeat(64) }));
    fs.writeFileSync(meta, JSON.stringify({ ...JSON.parse(fs.readFileSync(meta, 'utf8')), ensemble: networks }));
    const loaded = await loadModelDir(dir);
    const windows = featureWindows(3);
    const [p, a] = outputs(ensemble, windows, 3);
    const [q, b] = outputs(loaded.model, windows, 3);
    assert.ok(maxDiff(p, q) === 0 && maxDiff(a, b) === 0);
    const parity = await checkParity(ensemble, exportOnnx(ensemble), windows);
    assert.ok(parity.probabilities <= PARITY_TOLERANCE && parity.attention <= PARITY_TOLERANCE, JSON.stringify(parity));
  });

  test("int8: each network's wide convolutions calibrated on their own, and the int8 graph follows the float one", async () => {
    // Block 2 needs 8 input channels to be worth int8 (quantize.ts).
    const wide = { ...options, filters: [8, 16, 16] as [number, number, number] };
    const ensemble = joinEnsemble([await seededModel(wide, 3), await seededModel(wide, 4)], wide);
    const calibration = await calibrate(ensemble, featureWindows(6));
    assert.deepEqual(Object.keys(calibration).sort(), [
      'm1_block2_conv',
      'm1_block3_conv',
      'm1_block3_shortcut',
      'm2_block2_conv',
      'm2_block3_conv',
      'm2_block3_shortcut',
    ]);
    const agreement = await checkAgreement(exportOnnx(ensemble), exportOnnx(ensemble, {}, { quantize: calibration }), featureWindows(8), INT8_SESSION_OPTIONS);
    assert.ok(agreement.probabilities < 0.05 && agreement.attention < 0.05, JSON.stringify(agreement));
  });

  test('a replica pool asked for its networks scores the ensemble as TF.js does (what aer eval and baselines use)', async () => {
    const ensemble = joinEnsemble([await seededModel(options, 3), await seededModel(options, 4)], options);
    const windows = featureWindows(3);
    const pool = await ReplicaPool.start(1, options, 'wasm', memberCount(ensemble));
    try {
      const { probabilities, attention } = await pool.predict(packWeights(ensemble), windows);
      const [p, a] = outputs(ensemble, windows, 3);
      assert.ok(maxDiff(probabilities, p) < 1e-6 && maxDiff(attention, a) < 1e-6);
    } finally {
      await pool.close();
    }
  });

  test('one network is not an ensemble', () => {
    assert.throws(
      () => buildEnsemble(options, 1),
      (e: unknown) => isAerError(e) && e.code === 'invalid_argument' && /2 or more networks, not 1/.test(e.message),
    );
  });
});
