import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { SDK_COPY, sdkCopy } from '../../scripts/sync-protocol.ts';

test("the client SDK's protocol.ts is the current copy of src/protocol/wire.ts (run scripts/sync-protocol.ts after editing it)", () => {
  assert.equal(fs.readFileSync(SDK_COPY, 'utf8'), sdkCopy());
});
