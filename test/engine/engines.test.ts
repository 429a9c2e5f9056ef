import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { exportModelDir } from '../../src/engine/onnx-export/export.ts';
import { loadEngine } from '../../src/engine/load-engine.ts';
import { DEFAULT_OPTIONS } from '../../src/model/aernet-options.ts';
import { loadModelDir } from '../../src/model/model-dir.ts';
import { featureWindows, seededModel, writeModelDir } from '../helpers/models.ts';
import { maxAbsDiff } from '../helpers/signals.ts';
import { PROJECT_ROOT } from '../helpers/shared.ts';
import { tempDir } from '../helpers/tools.ts';

const options = { ...DEFAULT_OPTIONS, filters: [4, 8, 8] as [number, number, number], lstmUnits: 8, attentionUnits: 8 };
const windows = featureWindows(4);

async function modelDir(seed: number): Promise<string> {
  const dir = tempDir();
  await writeModelDir(dir, await seededModel(options, seed), options);
  return dir;
}

describe('engines', () => {
  test('serving a model with a current ONNX graph never loads TF.js (the server, the CLI command and the engine)', () => {
    const code = [
      "import { loadEngine } from './src/engine/load-engine.ts';",
      "await import('./src/server/server.ts');",
      "await import('./src/cli/serve.ts');",
      "const engine = await loadEngine('auto', 'models/default');",
      "process.stdout.write(engine.detail + ' | TF.js loaded: ' + (globalThis._tfengine !== undefined));",
      'await engine.dispose();',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    assert.match(out, /onnxruntime-node .* \| TF\.js loaded: false$/);
  });

  test('onnx and tfjs engines give the same probabilities and attention; auto picks onnx', async () => {
    const dir = await modelDir(1);
    await exportModelDir(await loadModelDir(dir));
    const notices: string[] = [];
    const onnx = await loadEngine('auto', dir, { onNotice: (m) => notices.push(m) });
    const tfjs = await loadEngine('tfjs', dir);
    assert.equal(onnx.name, 'onnx');
    assert.match(onnx.detail, /onnxruntime-node .*, cpu/);
    assert.deepEqual(notices, []);
    const [a, b] = [await onnx.predict(windows, 4), await tfjs.predict(windows, 4)];
    assert.equal(a.probabilities.length, 4 * 6);
    assert.equal(a.attention.length, 4 * onnx.attentionSteps);
    assert.ok(maxAbsDiff(a.probabilities, b.probabilities) < 1e-4);
    assert.ok(maxAbsDiff(a.attention, b.attention) < 1e-4);
    await Promise.all([onnx.dispose(), tfjs.dispose()]);
  });

  test('a missing, stale or corrupt model.onnx is exported again in memory, and the engine says so', async () => {
    const dir = await modelDir(2);
    const reference = await loadEngine('tfjs', dir);
    const expected = await reference.predict(windows, 4);
    const check = async (pattern: RegExp) => {
      const notices: string[] = [];
      const engine = await loadEngine('onnx', dir, { onNotice: (m) => notices.push(m) });
      assert.match(notices.join('\n'), pattern);
      assert.ok(maxAbsDiff((await engine.predict(windows, 4)).probabilities, expected.probabilities) < 1e-4);
      await engine.dispose();
    };
    await check(/model.onnx is missing; exported it again in memory \(run aer export-onnx/);
    // An export of another model's weights is stale here.
    const other = await modelDir(3);
    await exportModelDir(await loadModelDir(other));
    fs.copyFileSync(path.join(other, 'model.onnx'), path.join(dir, 'model.onnx'));
    await check(/was exported from other weights/);
    fs.writeFileSync(path.join(dir, 'model.onnx'), 'not a protobuf at all, just text');
    await check(/is corrupt/);
    await reference.dispose();
  });
});
