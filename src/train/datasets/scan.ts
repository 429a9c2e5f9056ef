/**
 * Reading a dataset folder: every audio file under it, named by one corpus's
 * convention (EmoDB, CREMA-D, TESS, RAVDESS) or laid out one folder per label
 * (optionally one folder per speaker inside). Files that are not one of the
 * six labels are skipped and counted.
 */
import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AerError } from '../../errors.ts';
import { isLabel, type Label } from '../labels.ts';
import { type Clip, countSkip, type DatasetScan } from './clip.ts';
import { CORPORA, type Corpus, LABEL_SYNONYMS } from './corpora.ts';

export const DATASET_NAMES = ['emodb', 'cremad', 'tess', 'ravdess', 'folders'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

const AUDIO = /\.(wav|opus|ogg|oga)$/i;

/** Files below dir, symbolic links followed (datasets are often assembled from links); each real folder walked once. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = async (d: string) => {
    const real = await fs.realpath(d);
    if (seen.has(real)) return;
    seen.add(real);
    const entries = await fs.readdir(d, { withFileTypes: true });
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(d, e.name);
      const kind = e.isSymbolicLink() ? await fs.stat(full).catch(() => undefined) : e;
      if (kind?.isDirectory()) await walk(full);
      else if (kind?.isFile()) out.push(full);
    }
  };
  await walk(dir);
  return out;
}

function folderLabel(name: string): Label | undefined {
  const lower = name.toLowerCase();
  return isLabel(lower) ? lower : LABEL_SYNONYMS[lower];
}

export function checkDatasetName(value: string): DatasetName {
  if (!(DATASET_NAMES as readonly string[]).includes(value)) {
    throw new AerError('invalid_argument', `unknown dataset ${JSON.stringify(value)}; use one of ${DATASET_NAMES.join(', ')}`);
  }
  return value as DatasetName;
}

async function checkFolder(root: string): Promise<void> {
  let stat: Stats;
  try {
    stat = await fs.stat(root);
  } catch {
    throw new AerError('io_error', `dataset folder ${root} does not exist`);
  }
  if (!stat.isDirectory()) throw new AerError('invalid_dataset', `${root} is a file; --data takes a folder of audio clips`);
}

/** Which layout a folder follows: label folders, else the corpus whose file names most of its audio files match. */
function detect(root: string, audio: string[]): DatasetName {
  const topFolders = new Set(
    audio
      .map((f) => path.relative(root, f).split(path.sep))
      .filter((p) => p.length > 1)
      .map((p) => p[0]),
  );
  if ([...topFolders].some((f) => folderLabel(f) !== undefined)) return 'folders';
  let best: Corpus | undefined;
  let bestCount = 0;
  for (const corpus of CORPORA) {
    const n = audio.filter((f) => corpus.matches(path.basename(f))).length;
    if (n > bestCount) [best, bestCount] = [corpus, n];
  }
  if (!best || bestCount < audio.length / 2) {
    throw new AerError(
      'invalid_dataset',
      `cannot tell which corpus ${root} holds: its file names follow none of ${CORPORA.map((c) => c.name).join(', ')}, and it has no label folders`,
      {
        hint: `name it with --dataset (${DATASET_NAMES.join(', ')}), or lay it out as one folder per label (${['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad'].join(', ')})`,
      },
    );
  }
  return best.name as DatasetName;
}

export async function scanDataset(root: string, name?: DatasetName): Promise<DatasetScan> {
  const absolute = path.resolve(root);
  await checkFolder(absolute);
  const files = await listFiles(absolute);
  const audio = files.filter((f) => AUDIO.test(f));
  const skipped: Record<string, number> = {};
  for (let i = audio.length; i < files.length; i++) countSkip(skipped, 'not an audio file (.wav, .opus, .ogg)');
  if (audio.length === 0) {
    throw new AerError('invalid_dataset', `${absolute} holds no audio files (.wav, .opus, .ogg)${files.length ? ` among its ${files.length} files` : ''}`);
  }
  const corpusName = name ?? detect(absolute, audio);
  const clips: Clip[] = [];
  if (corpusName === 'folders') {
    for (const file of audio) {
      const parts = path.relative(absolute, file).split(path.sep);
      const label = parts.length > 1 ? folderLabel(parts[0]) : undefined;
      if (!label) {
        countSkip(skipped, parts.length > 1 ? `folder ${parts[0]} is not one of the six labels` : 'file outside a label folder');
        continue;
      }
      // <label>/<speaker>/<file>: the speaker is the folder; <label>/<file>: unknown.
      const speaker = parts.length > 2 ? parts[1] : 'unknown';
      clips.push({ path: file, label, speaker: `folders:${speaker}`, corpus: 'folders' });
    }
  } else {
    const corpus = CORPORA.find((c) => c.name === corpusName)!;
    for (const file of audio) {
      const reading = corpus.read(path.basename(file));
      if ('skip' in reading) countSkip(skipped, reading.skip);
      else clips.push({ path: file, label: reading.label, speaker: `${corpus.name}:${reading.speaker}`, corpus: corpus.name });
    }
  }
  if (clips.length === 0) {
    const reasons = Object.entries(skipped)
      .map(([r, n]) => `${n} ${r}`)
      .join('; ');
    throw new AerError('invalid_dataset', `${absolute} has no usable clips for the six labels (skipped: ${reasons})`);
  }
  return { corpus: corpusName, root: absolute, clips, skipped };
}

/** Several folders in one run (the paper trains on CREMA-D + TESS): `[name=]dir` each. */
export async function scanDatasets(specs: string[], defaultName?: DatasetName): Promise<DatasetScan[]> {
  if (specs.length === 0) throw new AerError('invalid_argument', 'no dataset given; pass --data DIR (repeat it to combine folders)');
  return Promise.all(
    specs.map((spec) => {
      const m = /^([a-z]+)=(.+)$/.exec(spec);
      return m ? scanDataset(m[2], checkDatasetName(m[1])) : scanDataset(spec, defaultName);
    }),
  );
}

/** Speaker -> gender for the clips' speakers, where their corpus documents it. */
export function speakerGenders(clips: Clip[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of clips) {
    const [corpusName, id] = c.speaker.split(':');
    const gender = CORPORA.find((k) => k.name === corpusName)?.gender?.(id);
    if (gender) out[c.speaker] = gender;
  }
  return out;
}
