/** The hop between streamed windows: a whole number of STFT frames. */
import { AerError } from '../errors.ts';
import { HOP_LENGTH, SAMPLE_RATE } from './recipe.ts';

export const DEFAULT_HOP_MS = 500;
export const MIN_HOP_MS = 100;
export const MAX_HOP_MS = 3000;

export interface Hop {
  /** STFT frames between window starts. */
  frames: number;
  /** Samples at 22050 Hz between window starts. */
  samples: number;
  /** The effective hop in milliseconds (the request rounded to whole frames). */
  ms: number;
}

export function resolveHop(hopMs: number = DEFAULT_HOP_MS): Hop {
  if (!Number.isFinite(hopMs) || hopMs < MIN_HOP_MS || hopMs > MAX_HOP_MS) {
    throw new AerError('invalid_argument', `hop_ms must be between ${MIN_HOP_MS} and ${MAX_HOP_MS}, got ${hopMs}`);
  }
  const frames = Math.max(1, Math.round((hopMs / 1000) * (SAMPLE_RATE / HOP_LENGTH)));
  const samples = frames * HOP_LENGTH;
  return { frames, samples, ms: (samples / SAMPLE_RATE) * 1000 };
}
