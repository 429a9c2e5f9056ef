import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAerError } from '../../src/errors.ts';
import { N_MELS, SAMPLE_RATE, WINDOW_FRAMES, WINDOW_SAMPLES } from '../../src/features/recipe.ts';
import { augmentedFeatures, DEFAULT_AUGMENTATION, maskFeatures, NO_AUGMENTATION, parseAugment, placeInWindow } from '../../src/train/augment.ts';
import { createRandom } from '../../src/train/random.ts';
import { clipFeatures } from '../../src/features/extract.ts';
import { tone } from '../helpers/signals.ts';

const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => i + 1);

describe('augmentation', () => {
  it('places a short clip at the window start, end or between, and shifts it', () => {
    const clip = ramp(SAMPLE_RATE);
    const slack = WINDOW_SAMPLES - clip.length;
    assert.equal(placeInWindow(clip, 0)[0], 1);
    assert.equal(placeInWindow(clip, 0)[clip.length], 0);
    assert.equal(placeInWindow(clip, 1)[slack], 1);
    assert.equal(placeInWindow(clip, 1)[WINDOW_SAMPLES - 1], clip.length);
    assert.equal(placeInWindow(clip, 0.5)[Math.round(slack / 2)], 1);
    const shifted = placeInWindow(clip, 0, -100);
    assert.equal(shifted[0], 101, 'a negative shift at the start crops the clip');
  });

  it('crops a long clip at the same relative position', () => {
    const clip = ramp(WINDOW_SAMPLES + 1000);
    assert.equal(placeInWindow(clip, 0)[0], 1);
    assert.equal(placeInWindow(clip, 1)[0], 1001);
    assert.equal(placeInWindow(clip, 1)[WINDOW_SAMPLES - 1], WINDOW_SAMPLES + 1000);
  });

  it('without augmentation, a training window is the recipe window', () => {
    const clip = tone(440, SAMPLE_RATE, 2 * SAMPLE_RATE);
    assert.deepEqual(augmentedFeatures(clip, NO_AUGMENTATION, createRandom(1)), clipFeatures(clip));
  });

  it('is seeded: the same draw gives the same window, another draw another', () => {
    const clip = tone(440, SAMPLE_RATE, 2 * SAMPLE_RATE);
    const a = augmentedFeatures(clip, DEFAULT_AUGMENTATION, createRandom(7));
    assert.deepEqual(augmentedFeatures(clip, DEFAULT_AUGMENTATION, createRandom(7)), a);
    assert.notDeepEqual(augmentedFeatures(clip, DEFAULT_AUGMENTATION, createRandom(8)), a);
  });

  it('masks whole frames and whole bands', () => {
    const features = new Float32Array(WINDOW_FRAMES * N_MELS).fill(1);
    maskFeatures(features, { ...NO_AUGMENTATION, timeMasks: 1, timeMaskFrames: 20, freqMasks: 1, freqMaskBands: 20 }, createRandom(3));
    const zeroFrames = Array.from({ length: WINDOW_FRAMES }, (_, t) => features.subarray(t * N_MELS, (t + 1) * N_MELS).every((v) => v === 0)).filter(Boolean).length;
    const zeroBands = Array.from({ length: N_MELS }, (_, m) => Array.from({ length: WINDOW_FRAMES }, (_, t) => features[t * N_MELS + m]).every((v) => v === 0)).filter(Boolean).length;
    assert.ok(zeroFrames <= 20 && zeroBands <= 20 && zeroFrames + zeroBands > 0, `${zeroFrames} frames, ${zeroBands} bands`);
  });

  it('parses --augment, and names the kinds on a mistake', () => {
    assert.deepEqual(parseAugment('none'), NO_AUGMENTATION);
    assert.deepEqual(parseAugment('default'), DEFAULT_AUGMENTATION);
    const some = parseAugment('placement, noise');
    assert.equal(some.placement, true);
    assert.equal(some.noiseProbability, DEFAULT_AUGMENTATION.noiseProbability);
    assert.equal(some.timeMasks, 0);
    assert.equal(parseAugment('all').shiftMs, 100);
    assert.throws(() => parseAugment('placement,reverb'), (e: unknown) => isAerError(e) && /unknown augmentation "reverb".*specaugment/.test(e.message));
  });
});
