/**
 * Dividing clips for training and measurement. A random (stratified) split
 * lets every speaker into both sets, which flatters a model; a speaker split
 * keeps each speaker on one side, as a service meets voices it never heard.
 * Speaker-grouped folds do that for cross-validation.
 */
import { AerError } from '../errors.ts';
import type { Clip } from './datasets/clip.ts';
import { LABELS } from './labels.ts';
import { type Random, shuffled } from './random.ts';

export const SPLITS = ['speaker', 'stratified'] as const;
export type SplitKind = (typeof SPLITS)[number];

export interface Split<C extends Clip = Clip> {
  train: C[];
  validation: C[];
}

function labelsOf(clips: Clip[]): Set<string> {
  return new Set(clips.map((c) => c.label));
}

/** Fail, naming the classes, unless both sides hold every class that the whole set holds. */
export function checkBothSidesHoldEveryClass(split: Split<Clip>, what: string, hint: string): void {
  const all = labelsOf([...split.train, ...split.validation]);
  for (const [side, clips] of [
    ['training', split.train],
    [what, split.validation],
  ] as const) {
    const missing = [...all].filter((l) => !labelsOf(clips).has(l));
    if (missing.length > 0) throw new AerError('invalid_split', `the ${side} set has no ${missing.join(', ')} clips`, { hint });
  }
}

/** Per class, a `fraction` of the clips (at least one) for validation: the paper's 80/20. */
export function stratifiedSplit<C extends Clip>(clips: C[], fraction: number, random: Random): Split<C> {
  const split: Split<C> = { train: [], validation: [] };
  for (const label of LABELS) {
    const ofLabel = shuffled(
      clips.filter((c) => c.label === label),
      random,
    );
    if (ofLabel.length === 0) continue;
    if (ofLabel.length < 2)
      throw new AerError('invalid_split', `only one ${label} clip: a stratified split needs at least two per class`, {
        hint: 'add clips of that class or leave it out of the data',
      });
    const n = Math.max(1, Math.round(ofLabel.length * fraction));
    split.validation.push(...ofLabel.slice(0, n));
    split.train.push(...ofLabel.slice(n));
  }
  return split;
}

/**
 * Whole speakers for validation, about `fraction` of the clips, so that no
 * speaker is on both sides; draws again (seeded) until both sides hold every
 * class, or fails saying which class could not be placed.
 */
export function speakerSplit<C extends Clip>(clips: C[], fraction: number, random: Random): Split<C> {
  const speakers = [...new Set(clips.map((c) => c.speaker))];
  if (speakers.length < 2) {
    throw new AerError('invalid_split', `a speaker split needs clips from at least two speakers; found ${speakers.length} (${speakers.join(', ') || 'none'})`, {
      hint: 'use --split stratified, or lay out a folder dataset as <label>/<speaker>/<file>',
    });
  }
  const target = clips.length * fraction;
  let lastError: AerError | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    const order = shuffled(speakers, random);
    const held = new Set<string>();
    let count = 0;
    for (const s of order) {
      if (count >= target || held.size === speakers.length - 1) break;
      held.add(s);
      count += clips.filter((c) => c.speaker === s).length;
    }
    const split = { train: clips.filter((c) => !held.has(c.speaker)), validation: clips.filter((c) => held.has(c.speaker)) };
    try {
      checkBothSidesHoldEveryClass(split, 'validation', 'no draw of whole speakers puts every class on both sides; use --split stratified or add speakers');
      return split;
    } catch (error) {
      lastError = error as AerError;
    }
  }
  throw lastError!;
}

export function splitClips<C extends Clip>(clips: C[], kind: SplitKind, fraction: number, random: Random): Split<C> {
  const split = kind === 'speaker' ? speakerSplit(clips, fraction, random) : stratifiedSplit(clips, fraction, random);
  checkBothSidesHoldEveryClass(split, 'validation', 'add clips of the missing class, or leave it out of the data');
  return split;
}

/**
 * `k` folds of whole speakers, as balanced in clip count as a greedy
 * assignment makes them; each fold is a test set for a model trained on the
 * rest. Where speakers' genders are given (`genders`: speaker -> 'm' | 'f'),
 * each fold gets men and women alike where the counts allow.
 */
export function speakerFolds<C extends Clip>(clips: C[], k: number, random: Random, genders: Record<string, string> = {}): C[][] {
  const speakers = [...new Set(clips.map((c) => c.speaker))];
  if (k < 2 || k > speakers.length) throw new AerError('invalid_split', `${k} speaker folds need between 2 and ${speakers.length} (the number of speakers)`);
  const size = (s: string) => clips.filter((c) => c.speaker === s).length;
  const folds: string[][] = Array.from({ length: k }, () => []);
  const load = new Array(k).fill(0);
  // Deal each gender round-robin over the folds, largest speakers first to balance clip counts.
  const groups = new Map<string, string[]>();
  for (const s of shuffled(speakers, random)) groups.set(genders[s] ?? '?', [...(groups.get(genders[s] ?? '?') ?? []), s]);
  for (const group of groups.values()) {
    for (const s of group.sort((a, b) => size(b) - size(a))) {
      const counts = folds.map((f) => f.filter((x) => (genders[x] ?? '?') === (genders[s] ?? '?')).length);
      const fewest = Math.min(...counts);
      const candidates = folds.map((_, i) => i).filter((i) => counts[i] === fewest);
      const target = candidates.reduce((best, i) => (load[i] < load[best] ? i : best), candidates[0]);
      folds[target].push(s);
      load[target] += size(s);
    }
  }
  return folds.map((f) => clips.filter((c) => f.includes(c.speaker)));
}
