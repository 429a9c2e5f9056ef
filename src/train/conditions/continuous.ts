/**
 * Continuous speech: a speaker's clips of one emotion joined back to back
 * with short random gaps, so speech fills the window as it does in a call,
 * and windows cut where the service cuts them: on its hop grid, by its own
 * incremental Mel extractor.
 */
import { IncrementalMelExtractor } from '../../features/incremental.ts';
import { DEFAULT_HOP_MS } from '../../features/hop.ts';
import { SAMPLE_RATE } from '../../features/recipe.ts';
import type { WindowInput } from '../../features/window-input.ts';
import type { LoadedClip } from '../clip-store.ts';
import { type Random, shuffled } from '../random.ts';

/** Gaps between joined clips are drawn from 0 to this. */
export const MAX_GAP_S = 0.4;

export interface SpeechRun {
  speaker: string;
  label: string;
  /** 22050 Hz. */
  signal: Float32Array;
  clips: number;
}

/** The clips grouped by speaker and emotion, each group joined in a shuffled order with random gaps; groups in a fixed order. */
export function joinRuns(clips: readonly LoadedClip[], random: Random, maxGapS = MAX_GAP_S): SpeechRun[] {
  const groups = new Map<string, LoadedClip[]>();
  for (const c of [...clips].sort((a, b) => a.path.localeCompare(b.path))) {
    const key = `${c.speaker}\u0000${c.label}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.keys()].sort().map((key) => {
    const members = shuffled(groups.get(key)!, random);
    const gaps = members.map((_, i) => (i === 0 ? 0 : Math.round(random() * maxGapS * SAMPLE_RATE)));
    const signal = new Float32Array(members.reduce((n, c, i) => n + c.signal.length + gaps[i], 0));
    let at = 0;
    members.forEach((c, i) => {
      at += gaps[i];
      signal.set(c.signal, at);
      at += c.signal.length;
    });
    return { speaker: members[0].speaker, label: members[0].label, signal, clips: members.length };
  });
}

/** The model input (one or two rows, as `input` says; Mel bands from `fmin` Hz) of every whole window of `signal` (22050 Hz) on the service's hop grid. */
export function gridWindows(signal: Float32Array, hopMs = DEFAULT_HOP_MS, input: WindowInput = 'whole', fmin = 0): Float32Array[] {
  return new IncrementalMelExtractor(hopMs, input, fmin).push(signal).map((w) => w.features);
}
