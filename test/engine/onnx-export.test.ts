import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import { exportOnnx } from '../../src/engine/onnx-export/export.ts';
import { checkParity, PARITY_TOLERANCE } from '../../src/engine/onnx-export/parity.ts';
import { isAerError } from '../../src/errors.ts';
import { DEFAULT_OPTIONS, type Variant } from '../../src/model/aernet-options.ts';
import { readAudioFile } from '../../src/audio/load.ts';
import { clipFeatures } from '../../src/features/extract.ts';
import { modelSignal } from '../../src/features/signal.ts';
import { aer } from '../helpers/cli.ts';
import { featureWindows, seededModel, writeModelDir } from '../helpers/models.ts';
import { EMODB_DIR, emodbFiles, needsEmodb } from '../helpers/shared.ts';
import { tempDir } from '../helpers/tools.ts';

const { onnx } = onnxProto;

describe('ONNX export', () => {
  for (const variant of ['full', 'cnn_res', 'cnn'] as Variant[]) {
    test(`${variant}: onnxruntime gives the TF.js probabilities and attention (batch 1 and 5)`, async () => {
      const model = await seededModel({ ...DEFAULT_OPTIONS, variant });
      const bytes = exportOnnx(model);
      for (const batch of [1, 5]) {
        const parity = await checkParity(model, bytes, featureWindows(batch));
        assert.ok(parity.probabilities <= PARITY_TOLERANCE && parity.attention <= PARITY_TOLERANCE, JSON.stringify(parity));
      }
    });
  }

  test('the graph: a dynamic batch, named input and outputs, batch norm folded away, opset 17', async () => {
    const decoded = onnx.ModelProto.decode(exportOnnx(await seededModel({ ...DEFAULT_OPTIONS, filters: [4, 8, 8], lstmUnits: 8, attentionUnits: 8 })));
    const graph = decoded.graph!;
    const dims = (v: onnxProto.onnx.IValueInfoProto) => v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
    assert.deepEqual(
      graph.input!.map((i) => [i.name, dims(i)]),
      [['features', ['batch', 130, 128, 1]]],
    );
    assert.deepEqual(
      graph.output!.map((o) => [o.name, dims(o)]),
      [
        ['probabilities', ['batch', 6]],
        ['attention', ['batch', 16]],
      ],
    );
    const ops = graph.node!.map((n) => n.opType);
    assert.equal(ops.includes('BatchNormalization'), false);
    assert.equal(ops.filter((o) => o === 'Conv').length, 4);
    assert.equal(ops.filter((o) => o === 'LSTM').length, 1);
    assert.equal(Number(decoded.opsetImport![0].version), 17);
  });

  test('a layer it does not cover is named in a typed error', () => {
    const input = tf.input({ shape: [130, 128, 1] });
    const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [tf.layers.dense({ units: 6, activation: 'softmax' }).apply(pooled) as tf.SymbolicTensor, pooled] });
    assert.throws(
      () => exportOnnx(model),
      (e: unknown) => isAerError(e) && e.code === 'unsupported_model' && /gap \(GlobalAveragePooling2D\)/.test(e.message),
    );
  });

  test('on EmoDB clips: parity on real speech features', { skip: needsEmodb }, async () => {
    const model = await seededModel({ ...DEFAULT_OPTIONS, variant: 'full' }, 9);
    const files = emodbFiles().filter((_, i) => i % 50 === 0);
    const windows = new Float32Array(files.length * 130 * 128);
    for (const [i, f] of files.entries()) windows.set(clipFeatures(modelSignal(await readAudioFile(path.join(EMODB_DIR, f)), 'mix')), i * 130 * 128);
    const parity = await checkParity(model, exportOnnx(model), windows);
    assert.ok(parity.probabilities <= PARITY_TOLERANCE && parity.attention <= PARITY_TOLERANCE, JSON.stringify(parity));
  });

  test('aer export-onnx writes model.onnx beside model.json and reports the parity check', async () => {
    const options = { ...DEFAULT_OPTIONS, filters: [4, 8, 8] as [number, number, number], lstmUnits: 8, attentionUnits: 8 };
    const dir = tempDir();
    await writeModelDir(dir, await seededModel(options), options);
    const run = aer('export-onnx', '--model', dir, '--json');
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { onnx: string; parity: { probabilities: number; attention: number } };
    assert.equal(result.onnx, path.join(dir, 'model.onnx'));
    assert.ok(fs.statSync(result.onnx).size > 10_000);
    assert.ok(result.parity.probabilities <= PARITY_TOLERANCE);
    const missing = aer('export-onnx', '--model', path.join(dir, 'nothing'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /error \[invalid_model\]: model directory .* does not exist/);
  });
});
