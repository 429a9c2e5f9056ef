/**
 * Where benchmarks find their data: the shared folder (`AER_SHARED_DIR`,
 * else `../shared` beside the project), with the EmoDB subset
 * (docs/datasets.md) and the librosa fixtures. A bench whose data is
 * missing says what it needs and how to get it, in one line, and exits 2.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHARED_DIR = process.env.AER_SHARED_DIR ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared');

const HOW: Record<string, string> = {
  'datasets/emodb': 'the EmoDB subset (npx aer datasets prepare emodb SRC DEST; docs/datasets.md)',
  'fixtures/librosa': 'the librosa fixtures (docs/datasets.md)',
};

/** Says that `relative` is missing from the shared folder, and what it is, and exits 2. */
export function missingData(relative: string): never {
  const bench = path.relative(process.cwd(), process.argv[1] ?? 'this bench');
  process.stderr.write(
    `${bench} needs ${HOW[relative] ?? relative} at ${path.join(SHARED_DIR, relative)}: set AER_SHARED_DIR to the folder that holds ${relative}\n`,
  );
  process.exit(2);
}

/** The absolute path of `relative` in the shared folder; exits with what is missing when it is not there. */
export function sharedData(relative: string): string {
  const dir = path.join(SHARED_DIR, relative);
  return fs.existsSync(dir) ? dir : missingData(relative);
}
