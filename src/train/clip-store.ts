/**
 * Clips ready for training: decoded, mixed to mono, resampled to 22050 Hz,
 * with the model input of their first 3 s. Both are cached on disk, keyed by
 * the file's content and the front end's version, so a second run (or the
 * next fold, or `aer eval`) skips decoding and feature extraction.
 * Unreadable, too short and silent clips are skipped and counted, not fatal.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeAudioFile } from '../audio/load.ts';
import { isAerError } from '../errors.ts';
import { clipFeatures } from '../features/extract.ts';
import { FEATURE_RECIPE, SAMPLE_RATE, WINDOW_VALUES } from '../features/recipe.ts';
import { modelSignal } from '../features/signal.ts';
import { type Clip, countSkip } from './datasets/clip.ts';

export interface LoadedClip extends Clip {
  /** Mono, 22050 Hz. */
  signal: Float32Array;
  /** The model input of the clip's first 3 s (zero-padded when shorter). */
  features: Float32Array;
}

/** Clips shorter than this hold too little speech to label a 3 s window. */
export const MIN_CLIP_SECONDS = 0.5;
/** A clip whose peak is below this (-80 dBFS) is silence. */
export const SILENT_PEAK = 1e-4;

const CACHE_FORMAT = `aer-clip-cache-1:${FEATURE_RECIPE.name}`;

export function defaultCacheDir(): string {
  if (process.env.AER_CACHE_DIR) return process.env.AER_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(base, 'aer-stream', 'clips');
}

async function readCached(file: string): Promise<{ signal: Float32Array; features: Float32Array } | undefined> {
  try {
    const bytes = await fs.readFile(file);
    const n = bytes.readUInt32LE(0);
    if (bytes.length !== 4 + 4 * (n + WINDOW_VALUES)) return undefined;
    const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 4, bytes.byteOffset + bytes.length));
    return { signal: all.subarray(0, n), features: all.subarray(n) };
  } catch {
    return undefined;
  }
}

async function writeCached(file: string, signal: Float32Array, features: Float32Array): Promise<void> {
  const header = Buffer.alloc(4);
  header.writeUInt32LE(signal.length);
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(
    tmp,
    Buffer.concat([
      header,
      Buffer.from(signal.buffer, signal.byteOffset, signal.byteLength),
      Buffer.from(features.buffer, features.byteOffset, features.byteLength),
    ]),
  );
  await fs.rename(tmp, file);
}

function peak(signal: Float32Array): number {
  let p = 0;
  for (let i = 0; i < signal.length; i++) p = Math.max(p, Math.abs(signal[i]));
  return p;
}

export interface ClipLoad {
  clips: LoadedClip[];
  skipped: Record<string, number>;
  /** Clips kept that were read from the cache rather than decoded. */
  cached: number;
}

export async function loadClips(clips: Clip[], options: { cacheDir?: string; onProgress?: (done: number, total: number) => void } = {}): Promise<ClipLoad> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const out: LoadedClip[] = [];
  const skipped: Record<string, number> = {};
  let cached = 0;
  for (const [i, clip] of clips.entries()) {
    options.onProgress?.(i, clips.length);
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(clip.path);
    } catch (error) {
      countSkip(skipped, `unreadable file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      continue;
    }
    const key = createHash('sha256').update(CACHE_FORMAT).update(bytes).digest('hex');
    const file = path.join(cacheDir, key.slice(0, 2), `${key}.bin`);
    let entry = await readCached(file);
    const fromCache = entry !== undefined;
    if (!entry) {
      try {
        const signal = modelSignal(decodeAudioFile(bytes));
        entry = { signal, features: signal.length > 0 ? clipFeatures(signal) : new Float32Array(WINDOW_VALUES) };
      } catch (error) {
        countSkip(skipped, isAerError(error) ? `unreadable audio (${error.code})` : 'unreadable audio');
        continue;
      }
      await writeCached(file, entry.signal, entry.features);
    }
    if (entry.signal.length < MIN_CLIP_SECONDS * SAMPLE_RATE) {
      countSkip(skipped, `shorter than ${MIN_CLIP_SECONDS} s`);
      continue;
    }
    if (peak(entry.signal) < SILENT_PEAK) {
      countSkip(skipped, 'silent (peak below -80 dBFS)');
      continue;
    }
    if (fromCache) cached++;
    out.push({ ...clip, signal: entry.signal, features: entry.features });
  }
  options.onProgress?.(clips.length, clips.length);
  return { clips: out, skipped, cached };
}
