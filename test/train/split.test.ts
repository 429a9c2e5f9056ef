import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAerError } from '../../src/errors.ts';
import type { Clip } from '../../src/train/datasets/clip.ts';
import { LABELS } from '../../src/train/labels.ts';
import { createRandom } from '../../src/train/random.ts';
import { speakerFolds, speakerSplit, splitClips, stratifiedSplit } from '../../src/train/split.ts';

/** perLabel clips of each label for each speaker. */
function clips(speakers: string[], perLabel: number): Clip[] {
  return speakers.flatMap((speaker) =>
    LABELS.flatMap((label) => Array.from({ length: perLabel }, (_, i) => ({ path: `${speaker}/${label}/${i}.wav`, label, speaker, corpus: 'emodb' }))),
  );
}
const speakersOf = (cs: Clip[]) => new Set(cs.map((c) => c.speaker));

describe('splits', () => {
  it('stratified: the fraction of every class, no clip on both sides, seeded', () => {
    const all = clips(['a', 'b'], 10);
    const split = stratifiedSplit(all, 0.2, createRandom(1));
    for (const label of LABELS) assert.equal(split.validation.filter((c) => c.label === label).length, 4);
    assert.equal(split.train.length + split.validation.length, all.length);
    assert.equal(new Set([...split.train, ...split.validation].map((c) => c.path)).size, all.length);
    assert.deepEqual(
      stratifiedSplit(all, 0.2, createRandom(1)).validation.map((c) => c.path),
      split.validation.map((c) => c.path),
    );
    assert.notDeepEqual(
      stratifiedSplit(all, 0.2, createRandom(2)).validation.map((c) => c.path),
      split.validation.map((c) => c.path),
    );
  });

  it('speaker: no speaker on both sides, about the fraction held out', () => {
    const all = clips(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'], 2);
    const split = speakerSplit(all, 0.2, createRandom(3));
    const held = speakersOf(split.validation);
    assert.equal(held.size, 2);
    for (const s of speakersOf(split.train)) assert.ok(!held.has(s));
  });

  it('speaker: redraws until both sides hold every class, else names the class', () => {
    // Speaker x has no sad clips; any draw holding out only x would leave validation without sad.
    const all = [...clips(['a', 'b', 'c'], 2), ...clips(['x'], 2).filter((c) => c.label !== 'sad')];
    for (let seed = 0; seed < 20; seed++) {
      const split = speakerSplit(all, 0.2, createRandom(seed));
      assert.ok(split.validation.some((c) => c.label === 'sad'));
    }
    // Only speaker a has anything but sad: no draw of whole speakers puts angry on both sides.
    const lonely = [...clips(['a'], 2), ...clips(['b'], 2).filter((c) => c.label === 'sad')];
    assert.throws(
      () => speakerSplit(lonely, 0.3, createRandom(1)),
      (e: unknown) => isAerError(e) && e.code === 'invalid_split' && /no angry, disgust, fear, happy, neutral/.test(e.message),
    );
  });

  it('speaker: one speaker cannot be split', () => {
    assert.throws(
      () => speakerSplit(clips(['solo'], 3), 0.2, createRandom(1)),
      (e: unknown) => isAerError(e) && /at least two speakers/.test(e.message) && /stratified/.test(e.hint ?? ''),
    );
  });

  it('refuse a split that leaves a class out of one side', () => {
    const all = [...clips(['a'], 3), { path: 'only.wav', label: 'fear' as const, speaker: 'b', corpus: 'emodb' }].filter(
      (c) => c.label !== 'fear' || c.path === 'only.wav',
    );
    assert.throws(
      () => splitClips(all, 'stratified', 0.2, createRandom(1)),
      (e: unknown) => isAerError(e) && e.code === 'invalid_split' && /fear/.test(e.message),
    );
  });

  it('speaker folds: every speaker in exactly one fold, one man and one woman each', () => {
    const men = ['m1', 'm2', 'm3', 'm4'];
    const women = ['f1', 'f2', 'f3', 'f4'];
    const genders = Object.fromEntries([...men.map((s) => [s, 'm']), ...women.map((s) => [s, 'f'])]);
    const all = clips([...men, ...women], 2);
    const folds = speakerFolds(all, 4, createRandom(5), genders);
    assert.equal(folds.flat().length, all.length);
    for (const fold of folds) {
      const speakers = [...speakersOf(fold)];
      assert.equal(speakers.length, 2);
      assert.deepEqual(speakers.map((s) => genders[s]).sort(), ['f', 'm']);
    }
    assert.throws(
      () => speakerFolds(all, 9, createRandom(1)),
      (e: unknown) => isAerError(e) && /between 2 and 8/.test(e.message),
    );
  });
});
