/**
 * The client SDK is published on its own, so it carries a copy of the wire
 * protocol (src/protocol/wire.ts) rather than importing the service's
 * source. Run after editing wire.ts:
 *   node --import tsx scripts/sync-protocol.ts
 * test/protocol/sdk-copy.test.ts fails when the copy is not current.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const WIRE_SOURCE = path.join(root, 'src/protocol/wire.ts');
export const SDK_COPY = path.join(root, 'clients/js/src/protocol.ts');

/** The SDK's file: the source, under a line that says where it comes from. */
export function sdkCopy(): string {
  return `// Copied from the service's src/protocol/wire.ts by scripts/sync-protocol.ts: edit that file, then run the script.\n${fs.readFileSync(WIRE_SOURCE, 'utf8')}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  fs.writeFileSync(SDK_COPY, sdkCopy());
  process.stdout.write(`${path.relative(root, SDK_COPY)} written from ${path.relative(root, WIRE_SOURCE)}\n`);
}
