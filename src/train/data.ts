/**
 * From `--data` folders to loaded clips: scan each folder, read (or take from
 * the cache) every clip, and say what was skipped and why.
 */
import { createHash } from 'node:crypto';
import { AerError } from '../errors.ts';
import { type ClipLoad, type LoadedClip, loadClips } from './clip-store.ts';
import { type DatasetScan, speakersOf } from './datasets/clip.ts';
import { type DatasetName, scanDatasets } from './datasets/scan.ts';
import { LABELS } from './labels.ts';

export interface PreparedData {
  scans: DatasetScan[];
  clips: LoadedClip[];
  /** Everything left out, by reason, from scanning and from loading. */
  skipped: Record<string, number>;
  cached: number;
}

export async function prepareData(
  specs: string[],
  dataset: DatasetName | undefined,
  options: { cacheDir?: string; onProgress?: (done: number, total: number) => void } = {},
): Promise<PreparedData> {
  const scans = await scanDatasets(specs, dataset);
  const load: ClipLoad = await loadClips(
    scans.flatMap((s) => s.clips),
    options,
  );
  const skipped: Record<string, number> = {};
  for (const source of [...scans.map((s) => s.skipped), load.skipped]) for (const [k, n] of Object.entries(source)) skipped[k] = (skipped[k] ?? 0) + n;
  if (load.clips.length === 0) {
    throw new AerError(
      'invalid_dataset',
      `no clip could be used (skipped: ${Object.entries(skipped)
        .map(([k, n]) => `${n} ${k}`)
        .join('; ')})`,
    );
  }
  return { scans, clips: load.clips, skipped, cached: load.cached };
}

/** Class indices into LABELS. */
export function labelIndices(clips: LoadedClip[]): Int32Array {
  return Int32Array.from(clips, (c) => LABELS.indexOf(c.label));
}

/** Identifies the data a run trained on, so a resume on other data is refused. */
export function fingerprint(clips: LoadedClip[]): string {
  const h = createHash('sha256');
  for (const c of [...clips].sort((a, b) => a.path.localeCompare(b.path))) h.update(`${c.path}\0${c.label}\0${c.signal.length}\n`);
  return h.digest('hex').slice(0, 16);
}

/** Per corpus: clips per label, speakers, skipped. For aer.json and the model card. */
export function summarizeData(data: PreparedData): Record<string, unknown>[] {
  return data.scans.map((scan) => {
    const clips = data.clips.filter((c) => scan.clips.some((s) => s.path === c.path));
    return {
      corpus: scan.corpus,
      root: scan.root,
      clips: clips.length,
      per_label: Object.fromEntries(LABELS.map((l) => [l, clips.filter((c) => c.label === l).length])),
      speakers: speakersOf(clips),
      skipped: scan.skipped,
    };
  });
}
