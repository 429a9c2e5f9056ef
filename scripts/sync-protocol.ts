/**
 * The client SDK is published on its own, so it carries a copy of the wire
 * protocol (src/protocol/wire.ts, and the calls API's calls.ts) rather than
 * importing the service's source. Run after editing either:
 *   node --import tsx scripts/sync-protocol.ts
 * test/protocol/sdk-copy.test.ts fails when a copy is not current.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Each service file and its copy in the SDK; the calls' types import the wire's under the copy's name. */
export const COPIES = [
  { source: path.join(root, 'src/protocol/wire.ts'), copy: path.join(root, 'clients/js/src/protocol.ts') },
  { source: path.join(root, 'src/protocol/calls.ts'), copy: path.join(root, 'clients/js/src/calls-protocol.ts') },
];

/** The SDK's file: the source, its imports renamed, under a line that says where it comes from. */
export function sdkCopy(source: string): string {
  const text = fs.readFileSync(source, 'utf8').replaceAll("from './wire.ts'", "from './protocol.ts'");
  return `// Copied from the service's ${path.relative(root, source)} by scripts/sync-protocol.ts: edit that file, then run the script.\n${text}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const { source, copy } of COPIES) {
    fs.writeFileSync(copy, sdkCopy(source));
    process.stdout.write(`${path.relative(root, copy)} written from ${path.relative(root, source)}\n`);
  }
}
