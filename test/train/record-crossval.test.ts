import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isAerError } from '../../src/errors.ts';
import { checkRecordable, recordCrossval } from '../../src/train/experiments/record-crossval.ts';
import type { MethodSummary } from '../../src/train/experiments/summary.ts';

const data = [{ name: 'emodb', root: '/somewhere', clips: 350 }];
const trained = { epochs: 45, learningRate: 1e-3, seed: 42 };

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'aer-record-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

function modelDir(metadata: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(work, 'model-'));
  fs.writeFileSync(path.join(dir, 'aer.json'), JSON.stringify(metadata));
  return dir;
}

describe('recording a cross-validation in a model', () => {
  it('matches the window input the model is served with, not the one it was trained with', async () => {
    const spans = { ...trained, windowInput: 'spans' };
    // Trained whole (spans change no weight), then served as spans: a spans cross-validation measures it, a whole one does not.
    const served = modelDir({ window_input: 'spans', training: { config: trained, data } });
    await checkRecordable(served, spans, [{ ...data[0], root: '/elsewhere' }]);
    await assert.rejects(
      checkRecordable(served, trained, data),
      (e: unknown) => isAerError(e) && /windowInput: "spans" in the model, undefined here/.test(e.message),
    );
    // Trained as spans, served whole by its operator: only the whole cross-validation is its.
    const whole = modelDir({ training: { config: spans, data } });
    await checkRecordable(whole, trained, data);
    await assert.rejects(
      checkRecordable(whole, spans, data),
      (e: unknown) => isAerError(e) && /windowInput: undefined in the model, "spans" here/.test(e.message),
    );
    await assert.rejects(
      checkRecordable(served, { ...spans, epochs: 2 }, data),
      (e: unknown) => isAerError(e) && /epochs: 45 in the model, 2 here/.test(e.message),
    );
  });

  it('an ensemble is what --repeats N --ensemble measures: its network k the recipe with seed + k; its averaged figures are recorded first', async () => {
    const spans = { ...trained, windowInput: 'spans' };
    const network = (seed: number) => ({ config: { ...trained, seed }, data });
    const ensemble = modelDir({ window_input: 'spans', training: { ensemble_of: [network(42), network(43)] }, metrics: {} });
    await checkRecordable(ensemble, spans, data, 2);
    await assert.rejects(
      checkRecordable(ensemble, spans, data),
      (e: unknown) =>
        isAerError(e) && /holds 2 network\(s\), and this cross-validation measures one/.test(e.message) && /--repeats 2 --ensemble/.test(e.hint ?? ''),
    );
    const single = modelDir({ window_input: 'spans', training: network(42) });
    await assert.rejects(
      checkRecordable(single, spans, data, 2),
      (e: unknown) => isAerError(e) && /holds 1 network\(s\), and this cross-validation measures 2 averaged/.test(e.message),
    );
    const reseeded = modelDir({ window_input: 'spans', training: { ensemble_of: [network(42), network(44)] } });
    await assert.rejects(
      checkRecordable(reseeded, spans, data, 2),
      (e: unknown) => isAerError(e) && /network 2 of .* was trained with another recipe \(seed: 44 in the model, 43 here\)/.test(e.message),
    );

    const method = (name: string, accuracy: number, titles: string[]) =>
      ({
        method: name,
        runs: titles.map((title) => ({ title, accuracy, macro_f1: accuracy, n: 90 })),
        mean: { accuracy, macro_f1: accuracy },
        std: { accuracy: 0, macro_f1: 0 },
        min_accuracy: accuracy,
        max_accuracy: accuracy,
        pooled: { labels: [name], confusion: [[1]] },
      }) as unknown as MethodSummary;
    const summaries = [
      method('AER-Net (full)', 0.7, ['fold 1', 'fold 1, seed 43']),
      method('AER-Net, 2 runs averaged', 0.75, ['fold 1']),
      method('SVM (PCA 200, RBF)', 0.67, ['fold 1']),
    ];
    const record = await recordCrossval(ensemble, 'aer crossval --repeats 2 --ensemble', summaries, undefined, 2);
    assert.deepEqual(
      record.methods.map((m) => m.method),
      ['AER-Net, 2 runs averaged', 'AER-Net (full)', 'SVM (PCA 200, RBF)'],
    );
    assert.deepEqual(record.folds, ['fold 1']);
    assert.deepEqual(record.pooled_confusion.labels, ['AER-Net, 2 runs averaged']);
    const written = JSON.parse(fs.readFileSync(path.join(ensemble, 'aer.json'), 'utf8')) as { metrics: { crossval: { methods: { method: string }[] } } };
    assert.equal(written.metrics.crossval.methods[0].method, 'AER-Net, 2 runs averaged');
    assert.match(fs.readFileSync(path.join(ensemble, 'report.md'), 'utf8'), /## Cross-validation of this recipe/);
  });
});
