import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAerError } from '../../src/errors.ts';
import { N_MELS, SAMPLE_RATE, WINDOW_FRAMES, WINDOW_SAMPLES } from '../../src/features/recipe.ts';
import {
  type AugmentOptions,
  atSpeed,
  augmentedFeatures,
  DEFAULT_AUGMENTATION,
  maskFeatures,
  NO_AUGMENTATION,
  parseAugment,
  placeInWindow,
  trainedOnTelephoneOnly,
  withHighPassRange,
  withShare,
} from '../../src/train/augment.ts';
import type { LoadedClip } from '../../src/train/clip-store.ts';
import { parseRangeOption } from '../../src/cli/run.ts';
import { via16k } from '../../src/train/conditions/channel-sim.ts';
import { rms } from '../../src/train/conditions/noise-mix.ts';
import { SCORED_OVERLAP_S } from '../../src/train/conditions/call.ts';
import { MAX_GAP_S } from '../../src/train/conditions/continuous.ts';
import { createRandom } from '../../src/train/random.ts';
import { callWindow, channelDraw, continuousWindow, prepareTrainingAudio } from '../../src/train/training-audio.ts';
import { clipFeatures } from '../../src/features/extract.ts';
import { tone } from '../helpers/signals.ts';

const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => i + 1);

function loaded(signal: Float32Array, speaker = 's', label: LoadedClip['label'] = 'sad', k = 0): LoadedClip {
  return { path: `/${speaker}/${label}/${k}.wav`, label, speaker, corpus: 'test', signal, features: new Float32Array(0) };
}

/** A run's audio of one clip. */
const alone = (signal: Float32Array, options: AugmentOptions) => prepareTrainingAudio([loaded(signal)], options, 1);

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
    assert.deepEqual(augmentedFeatures(alone(clip, NO_AUGMENTATION), 0, NO_AUGMENTATION, createRandom(1)), clipFeatures(clip));
  });

  it('is seeded: the same draw gives the same window, another draw another', () => {
    const clip = tone(440, SAMPLE_RATE, 2 * SAMPLE_RATE);
    const audio = alone(clip, DEFAULT_AUGMENTATION);
    const a = augmentedFeatures(audio, 0, DEFAULT_AUGMENTATION, createRandom(7));
    assert.deepEqual(augmentedFeatures(audio, 0, DEFAULT_AUGMENTATION, createRandom(7)), a);
    assert.notDeepEqual(augmentedFeatures(audio, 0, DEFAULT_AUGMENTATION, createRandom(8)), a);
  });

  it('masks whole frames and whole bands', () => {
    const features = new Float32Array(WINDOW_FRAMES * N_MELS).fill(1);
    maskFeatures(features, { ...NO_AUGMENTATION, timeMasks: 1, timeMaskFrames: 20, freqMasks: 1, freqMaskBands: 20 }, createRandom(3));
    const zeroFrames = Array.from({ length: WINDOW_FRAMES }, (_, t) => features.subarray(t * N_MELS, (t + 1) * N_MELS).every((v) => v === 0)).filter(
      Boolean,
    ).length;
    const zeroBands = Array.from({ length: N_MELS }, (_, m) =>
      Array.from({ length: WINDOW_FRAMES }, (_, t) => features[t * N_MELS + m]).every((v) => v === 0),
    ).filter(Boolean).length;
    assert.ok(zeroFrames <= 20 && zeroBands <= 20 && zeroFrames + zeroBands > 0, `${zeroFrames} frames, ${zeroBands} bands`);
  });

  it('a noise floor fills the digital silence around a clip, far below it', () => {
    const clip = tone(440, SAMPLE_RATE, SAMPLE_RATE, 0.3);
    const options = parseAugment('floor');
    assert.deepEqual([options.floorProbability, options.placement], [1, false]);
    const audio = alone(clip, options);
    // The clip starts the window: frames from 1.2 s on hold only its padding.
    const padding = (features: Float32Array) => features.subarray(Math.ceil((1.2 * WINDOW_FRAMES) / 3) * N_MELS);
    assert.equal(new Set(padding(clipFeatures(clip))).size, 1, 'digital zeros: every padding value the same');
    const floored = augmentedFeatures(audio, 0, options, createRandom(2));
    assert.ok(new Set(padding(floored)).size > 1000, 'a floor: the padding varies');
    assert.notDeepEqual(floored, augmentedFeatures(audio, 0, options, createRandom(3)), 'its level and samples are drawn per window');
    // The speech itself barely moves: the floor is 35-65 dB under it.
    const speech = (features: Float32Array) => features.subarray(0, Math.floor((0.8 * WINDOW_FRAMES) / 3) * N_MELS);
    const plain = clipFeatures(clip);
    const ratio = [...speech(floored)].filter((v, i) => Math.abs(v - speech(plain)[i]) > 0.5).length / speech(plain).length;
    assert.ok(ratio < 0.25, `${(ratio * 100).toFixed(0)} % of the speech frames' values moved by more than 0.5`);
  });

  it('clip-noise adds noise over the clip only, its padding left digital silence', () => {
    const clip = tone(440, SAMPLE_RATE, SAMPLE_RATE, 0.3);
    const options = { ...parseAugment('clip-noise'), noiseProbability: 1 };
    assert.equal(options.noiseOverClip, true);
    const audio = alone(clip, options);
    // The clip starts the window (no placement): frames from 1.2 s on hold only its padding.
    const padding = (features: Float32Array) => features.subarray(Math.ceil((1.2 * WINDOW_FRAMES) / 3) * N_MELS);
    const speech = (features: Float32Array) => features.subarray(0, Math.floor((0.8 * WINDOW_FRAMES) / 3) * N_MELS);
    const noisy = augmentedFeatures(audio, 0, options, createRandom(2));
    assert.equal(new Set(padding(noisy)).size, 1, 'the padding stays digital zeros');
    assert.ok(new Set(speech(noisy)).size > new Set(speech(clipFeatures(clip))).size * 4, 'the clip is noisy');
    const everywhere = augmentedFeatures(audio, 0, { ...options, noiseOverClip: false }, createRandom(2));
    assert.ok(new Set(padding(everywhere)).size > 1000, 'plain noise fills the padding too');
  });

  it('parses --augment, and names the kinds on a mistake', () => {
    assert.deepEqual(parseAugment('none'), NO_AUGMENTATION);
    assert.deepEqual(parseAugment('default'), DEFAULT_AUGMENTATION);
    const some = parseAugment('placement, noise');
    assert.equal(some.placement, true);
    assert.equal(some.noiseProbability, DEFAULT_AUGMENTATION.noiseProbability);
    assert.equal(some.timeMasks, 0);
    assert.equal(parseAugment('all').shiftMs, 100);
    assert.deepEqual([parseAugment('continuous,channel').continuous, parseAugment('channel').channel, parseAugment('default').channel], [0.5, 0.5, 0]);
    // A narrowband model hears every window through the telephone line, and its metadata says so.
    assert.equal(withShare(parseAugment('placement,clip-noise'), 'noiseProbability', 0.25).noiseProbability, 0.25);
    assert.throws(
      () => withShare(parseAugment('placement,gain'), 'noiseProbability', 0.25),
      (e: unknown) => isAerError(e) && e.code === 'invalid_argument' && /--noise-probability .*add noise or clip-noise/.test(e.message),
    );
    assert.equal(withShare(parseAugment('placement,highpass'), 'highPassProbability', 0.25).highPassProbability, 0.25);
    assert.deepEqual(withHighPassRange(parseAugment('placement,highpass'), [60, 120]).highPassHz, [60, 120]);
    assert.throws(
      () => withHighPassRange(parseAugment('placement'), [60, 120]),
      (e: unknown) => isAerError(e) && e.code === 'invalid_argument' && /--high-pass-hz .*add highpass/.test(e.message),
    );
    const range = parseRangeOption('--high-pass-hz', 20, 1000);
    assert.deepEqual(
      [range('60-120'), range('80')],
      [
        [60, 120],
        [80, 80],
      ],
    );
    for (const bad of ['120-60', '10-120', '60-120-200', 'low-high', '']) {
      assert.throws(() => range(bad), /--high-pass-hz must be/, bad);
    }
    assert.throws(
      () => withShare(parseAugment('placement,clip-noise'), 'highPassProbability', 0.25),
      (e: unknown) => isAerError(e) && e.code === 'invalid_argument' && /--high-pass-probability .*add highpass/.test(e.message),
    );
    const narrow = parseAugment('placement,gain,telephone');
    assert.deepEqual([narrow.channel, narrow.channels], [1, ['telephone']]);
    assert.deepEqual(
      ['placement,gain,telephone', 'placement,gain', 'channel', 'default'].map((spec) => trainedOnTelephoneOnly(parseAugment(spec))),
      [true, false, false, false],
    );
    assert.equal(trainedOnTelephoneOnly(undefined), false);
    assert.throws(
      () => parseAugment('placement,reverb'),
      (e: unknown) => isAerError(e) && /unknown augmentation "reverb".*specaugment/.test(e.message),
    );
  });

  it("continuous speech: a window starts inside the clip and its speaker's clips of the same emotion fill the rest, with short gaps", () => {
    // Each clip a constant, so every sample says which clip it came from.
    const clips = [1, 2, 3].map((v, k) => loaded(new Float32Array(SAMPLE_RATE).fill(v), 's', 'sad', k));
    clips.push(loaded(new Float32Array(SAMPLE_RATE).fill(9), 's', 'angry', 3), loaded(new Float32Array(SAMPLE_RATE).fill(8), 't', 'sad', 4));
    const audio = prepareTrainingAudio(clips, NO_AUGMENTATION, 1);
    assert.deepEqual(audio.siblings, [[1, 2], [0, 2], [0, 1], [], []]);
    assert.deepEqual(audio.channels, [[], [], [], [], []], 'no channel copies unless asked for');
    for (let seed = 0; seed < 20; seed++) {
      const window = continuousWindow(audio, 0, (id) => audio.clean[id], createRandom(seed))!;
      assert.equal(window.length, WINDOW_SAMPLES);
      assert.equal(window[0], 1, 'it starts in the clip');
      assert.ok(
        window.every((v) => v === 0 || v === 1 || v === 2 || v === 3),
        'only clips of this speaker and emotion',
      );
      let gap = 0;
      let longest = 0;
      for (const v of window) longest = Math.max(longest, (gap = v === 0 ? gap + 1 : 0));
      assert.ok(longest <= 0.4 * SAMPLE_RATE + 1, `a gap of ${longest} samples`);
    }
    assert.equal(
      continuousWindow(audio, 3, (id) => audio.clean[id], createRandom(1)),
      undefined,
      'a clip with no sibling has no continuation',
    );
    // Through augmentedFeatures: a lone clip falls back to its placement.
    const options = { ...NO_AUGMENTATION, continuous: 1 };
    assert.deepEqual(augmentedFeatures(audio, 3, options, createRandom(1)), clipFeatures(clips[3].signal));
    assert.notDeepEqual(augmentedFeatures(audio, 0, options, createRandom(1)), clipFeatures(clips[0].signal));
  });

  it('a call window: a turn of up to three clips of the speaker and emotion, the window anywhere the stream rows would score it, on a line floor', () => {
    // Each clip a constant, 2 s long, so every sample says which clip it came from.
    const clips = [1, 2, 3, 4].map((v, k) => loaded(new Float32Array(2 * SAMPLE_RATE).fill(v), 's', 'sad', k));
    clips.push(loaded(new Float32Array(2 * SAMPLE_RATE).fill(9), 's', 'angry', 4));
    const audio = prepareTrainingAudio(clips, NO_AUGMENTATION, 1);
    const seen = { clips: new Set<number>(), leading: 0, trailing: 0 };
    for (let seed = 0; seed < 60; seed++) {
      const window = callWindow(audio, 0, (id) => audio.clean[id], createRandom(seed));
      assert.equal(window.length, WINDOW_SAMPLES);
      const values = new Set(window);
      values.delete(0);
      assert.ok(
        [...values].every((v) => v >= 1 && v <= 4),
        'only clips of this speaker and emotion',
      );
      seen.clips.add(values.size);
      const first = window.findIndex((v) => v !== 0);
      const outside = first + (WINDOW_SAMPLES - 1 - window.findLastIndex((v) => v !== 0));
      // A turn of one clip lies wholly in the window; of more, at most 0.5 s of the window is outside it, plus a pause its edge may fall in.
      const inside = values.size === 1 ? 2 : SCORED_OVERLAP_S - MAX_GAP_S;
      assert.ok(outside <= (3 - inside) * SAMPLE_RATE + 1, `${outside} samples outside a turn of ${values.size}`);
      if (first > 0) seen.leading++;
      if (window[WINDOW_SAMPLES - 1] === 0) seen.trailing++;
    }
    assert.deepEqual([...seen.clips].sort(), [1, 2, 3], 'turns of one, two and three clips');
    assert.ok(seen.leading > 0 && seen.trailing > 0, 'windows straddle both edges of a turn');
    // A clip alone in its emotion is a turn of one: all of it in the window.
    const lone = callWindow(audio, 4, (id) => audio.clean[id], createRandom(3));
    assert.equal(lone.filter((v) => v === 9).length, 2 * SAMPLE_RATE);
    // Through augmentedFeatures the line's floor lies under it: no digital silence, and drawn per window.
    const options = parseAugment('call');
    assert.equal(options.call, 0.5);
    const always = { ...options, call: 1 };
    const a = augmentedFeatures(audio, 4, always, createRandom(1));
    assert.deepEqual(a, augmentedFeatures(audio, 4, always, createRandom(1)));
    assert.ok(new Set(a).size > 1000, 'the floor varies where a clip has zeros');
    assert.notDeepEqual(a, augmentedFeatures(audio, 4, always, createRandom(2)));
  });

  it('channel simulation: each clip also as a telephone line and Opus deliver it, precomputed, drawn per window', () => {
    const wide = tone(6000, SAMPLE_RATE, SAMPLE_RATE, 0.3).map((v, i) => v + 0.3 * Math.sin((2 * Math.PI * 1000 * i) / SAMPLE_RATE));
    const options = { ...NO_AUGMENTATION, channel: 1 };
    const audio = prepareTrainingAudio([loaded(wide)], options, 1);
    const [telephone, opus] = audio.channels[0];
    assert.equal(telephone.length, wide.length);
    assert.equal(opus.length, wide.length);
    // The 6 kHz half is gone on the telephone line: about half the power is left.
    assert.ok(Math.abs(rms(telephone.subarray(4000)) / rms(wide) - Math.SQRT1_2) < 0.05);
    const draws = new Set(Array.from({ length: 20 }, (_, seed) => augmentedFeatures(audio, 0, options, createRandom(seed)).slice(0, 2000).join()));
    assert.equal(draws.size, 2, 'the telephone or the Opus copy, never the clean clip');
    assert.ok(!draws.has(clipFeatures(wide).slice(0, 2000).join()));
    // --augment telephone: a narrowband model's training, every window through the line.
    const narrow = parseAugment('telephone');
    const line = prepareTrainingAudio([loaded(wide)], narrow, 1);
    assert.equal(line.channels[0].length, 1);
    assert.deepEqual(line.channels[0][0], telephone);
    for (let seed = 0; seed < 5; seed++) assert.deepEqual(augmentedFeatures(line, 0, narrow, createRandom(seed)), clipFeatures(telephone));
    // --augment opus: a quarter of the windows through the Opus copy, the rest clean.
    const codec = parseAugment('placement,opus');
    const viaCodec = prepareTrainingAudio([loaded(wide)], codec, 1);
    assert.equal(viaCodec.channels[0].length, 1);
    assert.ok(rms(viaCodec.channels[0][0]) > 0.1, 'the Opus copy carries the signal');
    const heard = Array.from({ length: 400 }, (_, seed) => channelDraw(viaCodec, codec, createRandom(seed))(0));
    const coded = heard.filter((s) => s === viaCodec.channels[0][0]).length;
    assert.equal(coded + heard.filter((s) => s === viaCodec.clean[0]).length, heard.length);
    assert.ok(Math.abs(coded / heard.length - 0.25) < 0.06, `${coded} of ${heard.length} windows through Opus`);
    // --augment 16k: half the windows as a 16 kHz stream has them, the 6 kHz tone kept; one channel kind at a time.
    const sixteen = parseAugment('placement,16k');
    const viaStream = prepareTrainingAudio([loaded(wide)], sixteen, 1);
    assert.equal(viaStream.channels[0][0].length, wide.length);
    assert.ok(Math.abs(rms(viaStream.channels[0][0].subarray(4000, 18000)) / rms(wide.subarray(4000, 18000)) - 1) < 0.02);
    const streamed = Array.from({ length: 400 }, (_, seed) => channelDraw(viaStream, sixteen, createRandom(seed))(0) === viaStream.channels[0][0]);
    assert.ok(Math.abs(streamed.filter(Boolean).length / 400 - 0.5) < 0.07);
    assert.throws(
      () => parseAugment('placement,opus,16k'),
      (e: unknown) => isAerError(e) && e.code === 'invalid_argument' && /one of channel, telephone, opus, 16k/.test(e.message),
    );
  });

  it('highpass: a path high-pass under half the windows, after the noise; the studio hum below it is gone', () => {
    const speech = tone(1000, 2 * SAMPLE_RATE, SAMPLE_RATE, 0.3);
    const hum = speech.map((v, i) => v + 0.3 * Math.sin((2 * Math.PI * 40 * i) / SAMPLE_RATE));
    // The hum's share of the window: its lowest Mel bands (40 Hz is in the second), over the frames.
    const lowest = (f: Float32Array) => {
      let sum = 0;
      for (let t = 0; t < WINDOW_FRAMES; t++) for (let m = 0; m < 3; m++) sum += f[t * N_MELS + m];
      return sum / (3 * WINDOW_FRAMES);
    };
    const always = { ...parseAugment('highpass'), highPassProbability: 1, highPassHz: [200, 200] as [number, number] };
    const [plain, hummed] = [speech, hum].map((s) => augmentedFeatures(prepareTrainingAudio([loaded(s)], always, 1), 0, always, createRandom(1)));
    const before = lowest(clipFeatures(hum)) - lowest(clipFeatures(speech));
    const after = lowest(hummed) - lowest(plain);
    assert.ok(before > 1 && after < before / 3, `the hum lifts the lowest bands by ${before} unfiltered, ${after} high-passed`);
    const half = parseAugment('highpass');
    assert.equal(half.highPassProbability, 0.5);
    const audio = prepareTrainingAudio([loaded(hum)], half, 1);
    const unfiltered = lowest(clipFeatures(hum));
    const filtered = Array.from({ length: 200 }, (_, seed) => lowest(augmentedFeatures(audio, 0, half, createRandom(seed)))).filter(
      (v) => v < unfiltered - before / 3,
    ).length;
    assert.ok(filtered > 70 && filtered < 130, `${filtered} of 200 windows high-passed`);
  });

  it('speed: a clip played 10 % slower is longer and lower, 10 % faster shorter and higher', () => {
    const crossings = (x: Float32Array) => x.subarray(2000, x.length - 2000).reduce((n, v, i, a) => n + (i > 0 && a[i - 1] < 0 && v >= 0 ? 1 : 0), 0);
    const second = tone(1000, SAMPLE_RATE, SAMPLE_RATE, 0.3);
    for (const speed of [0.9, 1.1]) {
      const heard = atSpeed(second, speed);
      assert.ok(Math.abs(heard.length - SAMPLE_RATE / speed) <= 2, `${heard.length} samples at ${speed}`);
      const hz = (crossings(heard) * SAMPLE_RATE) / (heard.length - 4000);
      assert.ok(Math.abs(hz - 1000 * speed) < 5, `a 1 kHz tone at ${speed} reads ${hz} Hz`);
    }
  });

  it('speed: half the windows at 0.9 or 1.1, their Mel peak moved down or up; without it the draws are as before', () => {
    const clip = tone(1000, 2 * SAMPLE_RATE, SAMPLE_RATE, 0.3);
    const peakBand = (f: Float32Array) => {
      const mean = new Float64Array(N_MELS);
      for (let t = 10; t < 60; t++) for (let m = 0; m < N_MELS; m++) mean[m] += f[t * N_MELS + m];
      return mean.indexOf(Math.max(...mean));
    };
    const half = parseAugment('speed');
    assert.equal(half.speedProbability, 0.5);
    const audio = prepareTrainingAudio([loaded(clip)], half, 1);
    const plain = peakBand(augmentedFeatures(audio, 0, NO_AUGMENTATION, createRandom(1)));
    const peaks = Array.from({ length: 200 }, (_, seed) => peakBand(augmentedFeatures(audio, 0, half, createRandom(seed))));
    const lower = peaks.filter((p) => p < plain).length;
    const higher = peaks.filter((p) => p > plain).length;
    assert.equal(lower + higher + peaks.filter((p) => p === plain).length, 200);
    assert.ok(lower > 30 && higher > 30 && lower + higher > 70 && lower + higher < 130, `${lower} lower, ${higher} higher of 200`);
    assert.deepEqual(
      augmentedFeatures(audio, 0, NO_AUGMENTATION, createRandom(3)),
      augmentedFeatures(audio, 0, { ...NO_AUGMENTATION, speeds: [0.5] }, createRandom(3)),
    );
  });

  it('a 16 kHz stream has no band above 8 kHz: a 9 kHz tone is gone, a 1 kHz one kept', () => {
    const high = via16k(tone(9000, SAMPLE_RATE, SAMPLE_RATE, 0.3));
    const low = via16k(tone(1000, SAMPLE_RATE, SAMPLE_RATE, 0.3));
    assert.ok(rms(high.subarray(2000, 20000)) < 0.003, `9 kHz left at ${rms(high.subarray(2000, 20000))}`);
    assert.ok(Math.abs(rms(low.subarray(2000, 20000)) - 0.3 * Math.SQRT1_2) < 0.01);
  });
});
