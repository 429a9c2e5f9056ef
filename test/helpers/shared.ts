/** The read-only ../shared folder beside the project: fixtures and datasets. Tests that need it skip when it is absent. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_DIR = process.env.AER_SHARED_DIR ?? path.resolve(root, '../shared');
export const FIXTURES_DIR = path.join(SHARED_DIR, 'fixtures/librosa');
export const EMODB_DIR = path.join(SHARED_DIR, 'datasets/emodb/wav');
export const PROJECT_ROOT = root;

/**
 * A test's prerequisite: false when it is met, else the reason to skip
 * (node:test's `skip` option). With AER_REQUIRE_ALL=1 (.ci/run sets it when
 * ../shared is there) a missing one fails the run instead: there, a skip
 * would hide a test that should have run.
 */
export function prerequisite(met: boolean, why: string): false | string {
  if (met) return false;
  if (process.env.AER_REQUIRE_ALL === '1') throw new Error(`${why}, and AER_REQUIRE_ALL=1 says every test must run here`);
  return why;
}

/** false when the path exists, else the reason to skip. */
export function needs(dir: string, what: string): false | string {
  return prerequisite(fs.existsSync(dir), `${what} not found at ${dir} (set AER_SHARED_DIR or put ../shared beside the project)`);
}

export const needsFixtures = needs(FIXTURES_DIR, 'librosa fixtures');
export const needsEmodb = needs(EMODB_DIR, 'EmoDB dataset');

export function fixturePath(name: string): string {
  return path.join(FIXTURES_DIR, name);
}

/** A raw little-endian float32 fixture. */
export function readF32(name: string): Float32Array {
  const bytes = fs.readFileSync(fixturePath(name));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export function emodbFiles(): string[] {
  return fs
    .readdirSync(EMODB_DIR)
    .filter((f) => f.endsWith('.wav'))
    .sort();
}
