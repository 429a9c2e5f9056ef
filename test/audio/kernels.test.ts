import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { assemble, kernelSources } from '../../scripts/build-wasm.ts';

test('every committed wasm kernel is the assembly of its .wat source (run scripts/build-wasm.ts after editing one)', async () => {
  const sources = kernelSources();
  assert.ok(sources.length > 0);
  for (const wat of sources) {
    const committed = new Uint8Array(fs.readFileSync(wat.replace(/\.wat$/, '.wasm')));
    assert.deepEqual(committed, await assemble(wat), `${path.basename(wat)} and its .wasm differ`);
  }
});
