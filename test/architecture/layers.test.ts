import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../helpers/shared.ts';

const src = path.join(PROJECT_ROOT, 'src');

/** Every relative import of every module under src, as [importer, imported], both relative to src. */
function imports(): [string, string][] {
  const edges: [string, string][] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) {
        for (const m of fs.readFileSync(full, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
          edges.push([path.relative(src, full), path.relative(src, path.resolve(dir, m[1]))]);
        }
      }
    }
  };
  walk(src);
  return edges;
}

const top = (file: string) => file.split(path.sep)[0];

test('the layers run one way: only the CLI uses the server, only the server and the CLI use the CLI; nothing in src reaches into the client SDK', () => {
  const edges = imports();
  assert.ok(edges.length > 100, 'the scan found the imports');
  const wrong = edges.filter(([from, to]) => {
    if (to.startsWith('..')) return to !== path.join('..', 'package.json');
    if (top(to) === 'server') return !['server', 'cli'].includes(top(from));
    if (top(to) === 'cli' || to === 'cli.ts') return !['cli', 'cli.ts'].includes(top(from));
    return false;
  });
  assert.deepEqual(wrong, [], 'imports against the flow (see docs/architecture.md)');
});

test('the wire protocol stands alone: src/protocol uses nothing of the pipeline, the engine or the server', () => {
  const allowed = new Set(['protocol', 'errors.ts', 'features/hop.ts']);
  const wrong = imports().filter(([from, to]) => top(from) === 'protocol' && !allowed.has(top(to)) && !allowed.has(to));
  assert.deepEqual(wrong, []);
});
