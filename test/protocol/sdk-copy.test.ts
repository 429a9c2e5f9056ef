import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { COPIES, sdkCopy } from '../../scripts/sync-protocol.ts';

for (const { source, copy } of COPIES)
  test(`the client SDK's ${path.basename(copy)} is the current copy of ${path.basename(source)} (run scripts/sync-protocol.ts after editing it)`, () => {
    assert.equal(fs.readFileSync(copy, 'utf8'), sdkCopy(source));
  });
