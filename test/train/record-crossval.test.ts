import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isAerError } from '../../src/errors.ts';
import { checkRecordable } from '../../src/train/experiments/record-crossval.ts';

const data = [{ name: 'emodb', root: '/somewhere', clips: 350 }];
const trained = { epochs: 45, learningRate: 1e-3 };

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
});
