import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { isAerError } from '../../src/errors.ts';
import { DEFAULT_OPTIONS, type Variant } from '../../src/model/aernet-options.ts';
import { loadModelDir } from '../../src/model/model-dir.ts';
import { melFminOf, windowInputOf } from '../../src/model/model-files.ts';
import { featureWindows, seededModel, writeModelDir } from '../helpers/models.ts';
import { maxAbsDiff } from '../helpers/signals.ts';
import { tempDir } from '../helpers/tools.ts';

const small = { ...DEFAULT_OPTIONS, filters: [4, 8, 8] as [number, number, number], lstmUnits: 8, attentionUnits: 8, denseUnits: [8, 8] as [number, number] };
const windows = featureWindows(3);
const predict = (model: tf.LayersModel) =>
  tf.tidy(() => (model.predict(tf.tensor4d(windows, [3, 130, 128, 1])) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array));

describe('AER-Net and its model directory', () => {
  for (const variant of ['cnn', 'cnn_res', 'full'] as Variant[]) {
    test(`${variant}: the layers of its variant, probabilities and attention that each sum to 1`, async () => {
      const model = await seededModel({ ...small, variant });
      const kinds = model.layers.map((l) => l.getClassName());
      assert.equal(kinds.includes('Bidirectional'), variant === 'full');
      assert.equal(kinds.includes('AerAttentionPooling'), variant === 'full');
      assert.equal(
        model.layers.some((l) => l.name === 'block3_shortcut'),
        variant !== 'cnn',
      );
      assert.deepEqual(kinds.filter((k) => k === 'Conv2D').length, variant === 'cnn' ? 3 : 4);
      const [p, a] = predict(model);
      assert.equal(p.length, 3 * 6);
      assert.equal(a.length, 3 * 16);
      for (let i = 0; i < 3; i++) {
        assert.ok(Math.abs(p.subarray(i * 6, i * 6 + 6).reduce((s, v) => s + v, 0) - 1) < 1e-5);
        assert.ok(Math.abs(a.subarray(i * 16, i * 16 + 16).reduce((s, v) => s + v, 0) - 1) < 1e-5);
      }
    });
  }

  test('a saved model reloads (tf.loadLayersModel, custom attention layer included) with identical outputs', async () => {
    const model = await seededModel({ ...small, variant: 'full' });
    const dir = tempDir();
    await writeModelDir(dir, model, { ...small, variant: 'full' });
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
      modelTopology: object;
      weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
    };
    const bin = fs.readFileSync(path.join(dir, 'weights.bin'));
    const reloaded = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
      }),
    );
    const [p0, a0] = predict(model);
    const [p1, a1] = predict(reloaded);
    assert.equal(maxAbsDiff(p0, p1), 0);
    assert.equal(maxAbsDiff(a0, a1), 0);
    const loaded = await loadModelDir(dir);
    assert.equal(maxAbsDiff(predict(loaded.model)[0], p0), 0);
    assert.deepEqual(loaded.metadata.labels, ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad']);
    assert.equal(loaded.metadata.attention_steps, 16);
  });

  test('loading explains what is wrong: missing, truncated or corrupt files, another recipe or input shape', async () => {
    const model = await seededModel({ ...small, variant: 'cnn' });
    const good = tempDir();
    await writeModelDir(good, model, { ...small, variant: 'cnn' });
    const broken = (change: (dir: string) => void) => {
      const dir = tempDir();
      for (const f of fs.readdirSync(good)) fs.copyFileSync(path.join(good, f), path.join(dir, f));
      change(dir);
      return dir;
    };
    const rejects = (dir: string, pattern: RegExp) =>
      assert.rejects(loadModelDir(dir), (e: unknown) => isAerError(e) && e.code === 'invalid_model' && pattern.test(e.message));
    const edit = (dir: string, file: string, f: (j: Record<string, unknown>) => void) => {
      const j = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>;
      f(j);
      fs.writeFileSync(path.join(dir, file), JSON.stringify(j));
    };
    await rejects(path.join(good, 'nope'), /does not exist/);
    await rejects(
      broken((d) => fs.rmSync(path.join(d, 'weights.bin'))),
      /weights file .* is missing/,
    );
    await rejects(
      broken((d) => fs.truncateSync(path.join(d, 'weights.bin'), 100)),
      /truncated/,
    );
    await rejects(
      broken((d) => fs.writeFileSync(path.join(d, 'model.json'), '{"modelTopology": {')),
      /model.json is corrupt/,
    );
    await rejects(
      broken((d) => fs.rmSync(path.join(d, 'aer.json'))),
      /aer.json .* is missing/,
    );
    await rejects(
      broken((d) => edit(d, 'aer.json', (j) => ((j.feature_recipe as Record<string, unknown>).n_mels = 64))),
      /other features .*n_mels: model 64, front end 128/,
    );
    await rejects(
      broken((d) => edit(d, 'aer.json', (j) => (j.labels = ['angry']))),
      /at least two distinct labels/,
    );
    await rejects(
      broken((d) => edit(d, 'aer.json', (j) => (j.window_input = 'halves'))),
      /window_input "halves", not one of whole, spans/,
    );
    const spans = broken((d) => edit(d, 'aer.json', (j) => (j.window_input = 'spans')));
    assert.equal(windowInputOf((await loadModelDir(spans)).metadata), 'spans');
    assert.equal(windowInputOf((await loadModelDir(good)).metadata), 'whole');
    // A model trained with --mel-fmin differs from the front end's recipe in fmin only, and loads.
    const fmin100 = broken((d) => edit(d, 'aer.json', (j) => ((j.feature_recipe as Record<string, unknown>).fmin = 100)));
    assert.equal(melFminOf((await loadModelDir(fmin100)).metadata), 100);
    assert.equal(melFminOf((await loadModelDir(good)).metadata), 0);
    for (const fmin of [-1, 301, '100', null]) {
      await rejects(
        broken((d) => edit(d, 'aer.json', (j) => ((j.feature_recipe as Record<string, unknown>).fmin = fmin))),
        /feature_recipe.fmin .*not a number of Hz from 0 to 300/,
      );
    }
    await rejects(
      broken((d) =>
        edit(d, 'model.json', (j) => {
          const layers = ((j.modelTopology as Record<string, unknown>).config as { layers: { config: { batch_input_shape?: unknown[] } }[] }).layers;
          layers[0].config.batch_input_shape = [null, 100, 128, 1];
        }),
      ),
      /input \[null,100,128,1\]|cannot be loaded/,
    );
  });
});
