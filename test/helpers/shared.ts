/** The read-only ../shared folder beside the project: fixtures and datasets. Tests that need it skip when it is absent. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_DIR = process.env.AER_SHARED_DIR ?? path.resolve(root, '../shared');
export const FIXTURES_DIR = path.join(SHARED_DIR, 'fixtures/librosa');
export const EMODB_DIR = path.join(SHARED_DIR, 'datasets/emodb/wav');
export const PROJECT_ROOT = root;

/** false when the path exists, else the reason to skip (node:test's `skip` option). */
export function needs(dir: string, what: string): false | string {
  return fs.existsSync(dir) ? false : `${what} not found at ${dir} (set AER_SHARED_DIR or put ../shared beside the project)`;
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
  return fs.readdirSync(EMODB_DIR).filter((f) => f.endsWith('.wav')).sort();
}
