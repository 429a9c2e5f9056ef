/** `aer ensemble`: trained models of one recipe as one model directory that every command and engine takes. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_OPTIONS } from '../../src/model/aernet-options.ts';
import { memberCount } from '../../src/model/ensemble.ts';
import { loadModelDir } from '../../src/model/model-dir.ts';
import { aer } from '../helpers/cli.ts';
import { emodbTree } from '../helpers/datasets.ts';
import { seededModel, writeModelDir } from '../helpers/models.ts';
import { tempDir } from '../helpers/tools.ts';

const options = { ...DEFAULT_OPTIONS, filters: [4, 8, 8] as [number, number, number], lstmUnits: 8, attentionUnits: 8, denseUnits: [8, 8] as [number, number] };
const work = tempDir();
const error = (run: { stdout: string }) => (JSON.parse(run.stdout) as { error: { code: string; message: string } }).error;

describe('aer ensemble', () => {
  test('writes one model of the networks, which export-onnx, eval and classify take; bad members are refused by name', async () => {
    const [a, b, narrow] = ['a', 'b', 'narrow'].map((d) => path.join(work, d));
    await writeModelDir(a, await seededModel(options, 3), options);
    await writeModelDir(b, await seededModel(options, 4), options);
    await writeModelDir(narrow, await seededModel({ ...options, lstmUnits: 4 }, 5), { ...options, lstmUnits: 4 });
    const out = path.join(work, 'ensemble');

    const run = aer('ensemble', a, b, '--out', out, '--json');
    assert.equal(run.status, 0, run.stderr);
    const loaded = await loadModelDir(out);
    assert.equal(memberCount(loaded.model), 2);
    assert.deepEqual(
      loaded.metadata.ensemble?.map((m) => m.from),
      [a, b],
    );
    assert.match(loaded.metadata.ensemble?.[0].weights_sha256 ?? '', /^[0-9a-f]{64}$/);

    const exported = aer('export-onnx', '--model', out, '--json');
    assert.equal(exported.status, 0, exported.stderr);
    assert.ok(fs.existsSync(path.join(out, 'model.onnx')));
    const data = emodbTree(tempDir(), ['03', '08'], 1);
    const evaluated = aer('eval', '--model', out, '--data', data, '--cache', tempDir(), '--json', '--conditions', 'clean');
    assert.equal(evaluated.status, 0, evaluated.stderr);
    assert.equal((JSON.parse(evaluated.stdout) as { n: number }).n, 12);
    const classified = aer('classify', path.join(data, fs.readdirSync(data).find((f) => f.endsWith('.wav'))!), '--model', out, '--no-vad', '--json');
    assert.equal(classified.status, 0, classified.stderr);

    assert.match(error(aer('ensemble', a, '--out', path.join(work, 'one'), '--json')).message, /needs 2 or more model directories, got 1/);
    assert.match(
      error(aer('ensemble', a, narrow, '--out', path.join(work, 'mixed'), '--json')).message,
      /differ in options: an ensemble averages models of one recipe/,
    );
    assert.match(error(aer('ensemble', a, a, '--out', path.join(work, 'twice'), '--json')).message, /is the same network as another member/);
    assert.match(error(aer('ensemble', out, a, '--out', path.join(work, 'nested'), '--json')).message, /is an ensemble already/);
    assert.match(error(aer('ensemble', a, b, '--out', a, '--json')).message, /--out is one of the members/);

    // aer.json and model.json that disagree on the networks are not served.
    const meta = path.join(out, 'aer.json');
    const written = JSON.parse(fs.readFileSync(meta, 'utf8')) as { ensemble: unknown[] };
    fs.writeFileSync(meta, JSON.stringify({ ...written, ensemble: [...written.ensemble, written.ensemble[0]] }));
    await assert.rejects(loadModelDir(out), /lists 3 network\(s\), but model\.json holds 2/);
    fs.writeFileSync(meta, JSON.stringify({ ...written, ensemble: [{ from: 'x' }, { from: 'y' }] }));
    await assert.rejects(loadModelDir(out), /does not list 2 or more networks with their weights_sha256/);
  });
});
