import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import onnxProto from 'onnx-proto';
import { readAudioFile } from '../../src/audio/load.ts';
import { loadEngine } from '../../src/engine/load-engine.ts';
import { calibrate, percentileRange } from '../../src/engine/onnx-export/calibrate.ts';
import { exportModelDir, exportOnnx } from '../../src/engine/onnx-export/export.ts';
import { INT8_FILE, INT8_SESSION_OPTIONS } from '../../src/engine/int8-session.ts';
import { exportInt8ModelDir } from '../../src/engine/onnx-export/export-int8.ts';
import { checkAgreement, MIN_LABEL_AGREEMENT } from '../../src/engine/onnx-export/parity.ts';
import { activationParameters } from '../../src/engine/onnx-export/quantize.ts';
import { isAerError } from '../../src/errors.ts';
import { clipFeatures } from '../../src/features/extract.ts';
import { WINDOW_VALUES } from '../../src/features/recipe.ts';
import { modelSignal } from '../../src/features/signal.ts';
import { DEFAULT_OPTIONS } from '../../src/model/aernet-options.ts';
import { DEFAULT_MODEL_DIR } from '../../src/model/default-model.ts';
import { loadModelDir } from '../../src/model/model-dir.ts';
import { weightsDigest } from '../../src/model/model-files.ts';
import { aer } from '../helpers/cli.ts';
import { emodbTree } from '../helpers/datasets.ts';
import { featureWindows, seededModel, writeModelDir } from '../helpers/models.ts';
import { EMODB_DIR, emodbFiles, needsEmodb } from '../helpers/shared.ts';
import { maxAbsDiff } from '../helpers/signals.ts';
import { tempDir } from '../helpers/tools.ts';

const { onnx } = onnxProto;
// Wide enough that block 2 reads 8 channels, so all three int8 convolutions are there.
const options = { ...DEFAULT_OPTIONS, filters: [8, 16, 16] as [number, number, number], lstmUnits: 8, attentionUnits: 8 };
const windows = featureWindows(6);

const nodes = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes).graph!.node!;
const metadata = (bytes: Uint8Array) => Object.fromEntries((onnx.ModelProto.decode(bytes).metadataProps ?? []).map((p) => [p.key, p.value]));

/** A copy of the shipped model, to write beside. */
function defaultModelCopy(): string {
  const dir = tempDir();
  for (const f of ['model.json', 'weights.bin', 'aer.json', 'model.onnx']) fs.copyFileSync(path.join(DEFAULT_MODEL_DIR, f), path.join(dir, f));
  return dir;
}

describe('int8', () => {
  test('activation parameters cover the range and hold 0 exactly (zero padding stays zero)', () => {
    for (const range of [
      { min: 0, max: 5 },
      { min: -1, max: 6.2 },
      { min: -14.4, max: 3.6 },
      { min: 2, max: 3 },
    ]) {
      const { scale, zeroPoint } = activationParameters(range);
      assert.ok(Number.isInteger(zeroPoint) && zeroPoint >= 0 && zeroPoint <= 255);
      assert.ok(scale * (0 - zeroPoint) <= Math.min(0, range.min) + scale / 2, JSON.stringify({ range, scale, zeroPoint }));
      assert.ok(scale * (255 - zeroPoint) >= range.max - scale / 2, JSON.stringify({ range, scale, zeroPoint }));
    }
    assert.equal(activationParameters({ min: 0, max: 5 }).zeroPoint, 0);
  });

  test('percentile ranges leave out only the outliers', () => {
    const values = Float32Array.from({ length: 10_000 }, (_, i) => i);
    values[5] = 1e9;
    // The 10th and 9989th of the sorted values: 0-4, 6-9999, then the outlier.
    assert.deepEqual(percentileRange(values, 1e-3), { min: 11, max: 9990 });
  });

  test('calibration measures the three wide convolutions; block 3 and its shortcut share the input range', async () => {
    const calibration = await calibrate(await seededModel(options), windows);
    assert.deepEqual(Object.keys(calibration).sort(), ['block2_conv', 'block3_conv', 'block3_shortcut']);
    assert.deepEqual(calibration.block3_conv.input, calibration.block3_shortcut.input);
    // Block 2 reads block 1's pooled ReLU: nothing below zero.
    assert.ok(calibration.block2_conv.input.min >= 0 && calibration.block2_conv.input.max > 0);
    for (const { output } of Object.values(calibration)) assert.ok(output.min < 0 && output.max > 0, JSON.stringify(output));
  });

  test('the int8 graph: QDQ around the wide convolutions only, int8 kernels, and it follows the float graph', async () => {
    const model = await seededModel(options);
    const float = exportOnnx(model);
    const int8 = exportOnnx(model, {}, { quantize: await calibrate(model, windows) });
    const ops = nodes(int8).map((n) => n.opType);
    assert.equal(ops.filter((o) => o === 'Conv').length, 4);
    // Inputs of block 2 and of block 3 (shared with the shortcut), outputs of the three.
    assert.equal(ops.filter((o) => o === 'QuantizeLinear').length, 5);
    const block1 = nodes(int8).find((n) => n.name === 'block1_conv')!;
    assert.equal(nodes(int8).find((n) => n.output!.includes(block1.input![0]))?.opType, 'Transpose', 'block 1 reads the features in float');
    const kernels = onnx.ModelProto.decode(int8).graph!.initializer!.filter((t) => t.name!.endsWith('/kernel/quantized'));
    assert.equal(kernels.length, 3);
    assert.ok(kernels.every((k) => k.dataType === onnx.TensorProto.DataType.INT8));
    const agreement = await checkAgreement(float, int8, featureWindows(8), INT8_SESSION_OPTIONS);
    assert.ok(agreement.probabilities < 0.05 && agreement.attention < 0.05, JSON.stringify(agreement));
  });

  test('the float graph pools before ELU (the same values, a quarter of the ELUs)', async () => {
    const graph = nodes(exportOnnx(await seededModel(options)));
    const elu = graph.find((n) => n.opType === 'Elu')!;
    assert.equal(graph.find((n) => n.output!.includes(elu.input![0]))?.opType, 'MaxPool');
  });

  test('a calibration that does not fit the speech is refused, and nothing is written', async () => {
    const dir = defaultModelCopy();
    const loaded = await loadModelDir(dir);
    // Silence-only calibration: every range collapses to (almost) nothing, so real windows saturate.
    await assert.rejects(
      exportInt8ModelDir(loaded, new Float32Array(4 * WINDOW_VALUES), featureWindows(8), 'zeros'),
      (e: unknown) => isAerError(e) && e.code === 'unsupported_model' && /names the float model's label on .* under 97 %/.test(e.message),
    );
    assert.equal(fs.existsSync(path.join(dir, INT8_FILE)), false);
  });

  test('the engine: int8 when the model has a current model.int8.onnx, fp32 otherwise, and says why', async () => {
    const dir = tempDir();
    await writeModelDir(dir, await seededModel(options, 4), options);
    await exportModelDir(await loadModelDir(dir));
    const notices: string[] = [];
    const onNotice = (m: string) => notices.push(m);
    await assert.rejects(
      loadEngine('auto', dir, { precision: 'int8' }),
      (e: unknown) =>
        isAerError(e) && e.code === 'invalid_model' && /model.int8.onnx is missing/.test(e.message) && /aer export-onnx .*--int8/.test(e.hint ?? ''),
    );
    await assert.rejects(loadEngine('tfjs', dir, { precision: 'int8' }), (e: unknown) => isAerError(e) && e.code === 'invalid_argument');
    const fp32 = await loadEngine('auto', dir, { onNotice });
    assert.match(fp32.detail, /cpu, fp32$/);
    assert.deepEqual(notices, []);

    await exportInt8ModelDir(await loadModelDir(dir), windows, featureWindows(8), 'tones');
    const int8 = await loadEngine('auto', dir, { onNotice });
    assert.match(int8.detail, /cpu, int8$/);
    const [a, b] = [await fp32.predict(windows, 6), await int8.predict(windows, 6)];
    assert.ok(maxAbsDiff(a.probabilities, b.probabilities) < 0.05);
    const forced = await loadEngine('onnx', dir, { precision: 'fp32' });
    assert.match(forced.detail, /fp32$/);

    // Weights trained on after the export: the int8 graph is stale, and cannot be remade without data.
    await writeModelDir(dir, await seededModel(options, 5), options);
    const stale = await loadEngine('auto', dir, { onNotice });
    assert.match(stale.detail, /fp32$/);
    assert.match(notices.join('\n'), /model.int8.onnx was exported from other weights; running fp32/);
    await Promise.all([fp32, int8, forced, stale].map((e) => e.dispose()));
  });

  test('aer export-onnx --int8 calibrates on a dataset folder and reports the agreement; without data it says what to give', () => {
    const dir = defaultModelCopy();
    const missing = aer('export-onnx', '--model', dir, '--int8');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /error \[invalid_argument\]: --int8 needs --calibration DIR/);
    assert.equal(fs.existsSync(path.join(dir, INT8_FILE)), false);
    const data = emodbTree(tempDir(), ['03', '08'], 2, 1.5);
    const run = aer('export-onnx', '--model', dir, '--int8', '--calibration', data, '--json');
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as { int8: { onnx: string; agreement: { labels: number; windows: number } } };
    assert.equal(result.int8.onnx, path.join(dir, INT8_FILE));
    assert.equal(result.int8.agreement.windows, 12);
    assert.ok(result.int8.agreement.labels >= MIN_LABEL_AGREEMENT);
    assert.equal(metadata(fs.readFileSync(result.int8.onnx)).precision, 'int8');
  });

  test('the shipped model.int8.onnx is current and names the float label on EmoDB', { skip: needsEmodb }, async () => {
    const int8 = fs.readFileSync(path.join(DEFAULT_MODEL_DIR, INT8_FILE));
    assert.equal(metadata(int8).weights_sha256, await weightsDigest(DEFAULT_MODEL_DIR));
    const files = emodbFiles().filter((_, i) => i % 4 === 1);
    const features = new Float32Array(files.length * WINDOW_VALUES);
    for (const [i, f] of files.entries()) features.set(clipFeatures(modelSignal(await readAudioFile(path.join(EMODB_DIR, f)), 'mix')), i * WINDOW_VALUES);
    const agreement = await checkAgreement(fs.readFileSync(path.join(DEFAULT_MODEL_DIR, 'model.onnx')), int8, features, INT8_SESSION_OPTIONS);
    assert.ok(agreement.labels >= 0.98, JSON.stringify(agreement));
  });
});
