import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { readWav } from '../../src/audio/wav.ts';
import { AerError } from '../../src/errors.ts';
import { windowFeatures } from '../../src/features/extract.ts';
import { resolveHop } from '../../src/features/hop.ts';
import { type FeatureWindow, IncrementalMelExtractor } from '../../src/features/incremental.ts';
import { HOP_LENGTH, WINDOW_SAMPLES, WINDOW_VALUES } from '../../src/features/recipe.ts';
import { signalWindows } from '../../src/features/windows.ts';
import type { WindowInput } from '../../src/features/window-input.ts';
import { EMODB_DIR, emodbFiles, fixturePath, needsEmodb, needsFixtures } from '../helpers/shared.ts';
import { concat, maxAbsDiff, noise, random, randomChunks, tone } from '../helpers/signals.ts';

function stream(extractor: IncrementalMelExtractor, signal: Float32Array, maxChunk: number, seed: number): FeatureWindow[] {
  const windows = randomChunks(signal, maxChunk, seed).flatMap((c) => extractor.push(c));
  return [...windows, ...extractor.flush()];
}

/** Every streamed window must equal the batch recipe on its own samples (zero-padded when partial). */
function assertMatchesBatch(signal: Float32Array, windows: FeatureWindow[], input: WindowInput = 'whole', fmin = 0): number {
  let worst = 0;
  for (const w of windows) {
    const own = w.partial ? signal.subarray(0, w.start + w.samples) : signal;
    const batch = windowFeatures(own, w.start, input, fmin);
    assert.equal(w.features.length, batch.length);
    worst = Math.max(worst, maxAbsDiff(w.features, batch));
  }
  // The issue asks for 1e-3; frames are computed by the same code on the same samples, so they agree to the bit.
  assert.ok(worst <= 1e-6, `worst window differs by ${worst}`);
  return worst;
}

describe('hop', () => {
  test('is a whole number of frames and reports its effective length', () => {
    assert.deepEqual(resolveHop(500), { frames: 22, samples: 11264, ms: (11264 / 22050) * 1000 });
    assert.equal(resolveHop(100).frames, 4);
    assert.equal(resolveHop(3000).frames, 129);
    for (const bad of [99, 3001, Number.NaN, -5])
      assert.throws(
        () => resolveHop(bad),
        (e: unknown) => e instanceof AerError && e.code === 'invalid_argument',
      );
  });
});

describe('incremental Mel extractor', () => {
  test('served as spans: two rows a window of sound (one for a last window of 2 s or less), each equal to the batch recipe', () => {
    const signal = concat([tone(440, 22050, 48510), tone(330, 22050, 33075, 0.2), tone(220, 22050, 63945)]);
    const extractor = new IncrementalMelExtractor(500, 'spans');
    const windows = stream(extractor, signal, 3000, 7);
    const complete = windows.filter((w) => !w.partial);
    assert.ok(complete.length >= 8);
    for (const w of complete) assert.equal(w.features.length, 2 * WINDOW_VALUES);
    assertMatchesBatch(signal, windows, 'spans');
    // A stream that ends 1.5 s into its first window: one row, the window as it is.
    const short = new IncrementalMelExtractor(500, 'spans');
    const [last] = [...short.push(signal.subarray(0, 33075)), ...short.flush()];
    assert.equal(last.features.length, WINDOW_VALUES);
    assert.ok(maxAbsDiff(last.features, windowFeatures(signal.subarray(0, 33075), 0)) <= 1e-6);
  });

  test("a model with Mel bands from 100 Hz: every streamed window equals the batch recipe with those bands, and differs from the recipe's", () => {
    const signal = concat([tone(120, 22050, 40000), noise(30000, 0.2), tone(90, 22050, 50000)]);
    const windows = stream(new IncrementalMelExtractor(500, 'spans', 100), signal, 2500, 3);
    assert.ok(windows.length >= 6);
    assertMatchesBatch(signal, windows, 'spans', 100);
    const plain = stream(new IncrementalMelExtractor(500, 'spans'), signal, 2500, 3);
    assert.ok(maxAbsDiff(windows[0].features, plain[0].features) > 0.1);
  });

  test('real speech (EmoDB clips back to back) in random chunk sizes: every window equals the batch recipe', { skip: needsEmodb }, () => {
    const clips = emodbFiles()
      .slice(0, 12)
      .map((f) => readWav(fs.readFileSync(path.join(EMODB_DIR, f))).channels[0]);
    const speech = concat(clips);
    for (const [hopMs, maxChunk, seed] of [
      [500, 2000, 1],
      [250, 300, 2],
      [100, 20000, 3],
      [1000, 1, 4],
      [3000, 70000, 5],
    ] as const) {
      const extractor = new IncrementalMelExtractor(hopMs);
      const windows = stream(extractor, hopMs === 1000 ? speech.subarray(0, 80000) : speech, maxChunk, seed);
      const n = hopMs === 1000 ? 80000 : speech.length;
      const full = Math.floor((n - WINDOW_SAMPLES) / extractor.hop.samples) + 1;
      assert.equal(windows.filter((w) => !w.partial).length, full, `hop ${hopMs}`);
      windows.forEach((w, i) => {
        assert.equal(w.index, i);
        assert.equal(w.start, i * extractor.hop.samples);
      });
      assertMatchesBatch(hopMs === 1000 ? speech.subarray(0, 80000) : speech, windows);
    }
  });

  test('the shared speech fixture in 20 ms chunks', { skip: needsFixtures }, () => {
    const speech = readWav(fs.readFileSync(fixturePath('speech_22050.wav'))).channels[0];
    const extractor = new IncrementalMelExtractor(500);
    const windows: FeatureWindow[] = [];
    for (let p = 0; p < speech.length; p += 441) windows.push(...extractor.push(speech.subarray(p, p + 441)));
    windows.push(...extractor.flush());
    assert.ok(windows.length >= 3);
    assertMatchesBatch(speech, windows);
  });

  test('a stream shorter than 3 s gives one zero-padded window on flush, once', () => {
    const x = tone(300, 22050, 30000);
    const extractor = new IncrementalMelExtractor();
    assert.deepEqual(extractor.push(x), []);
    const [w, ...rest] = extractor.flush();
    assert.equal(rest.length, 0);
    assert.equal(w.partial, true);
    assert.equal(w.samples, 30000);
    assertMatchesBatch(x, [w]);
    assert.deepEqual(extractor.flush(), [], 'a second flush without new audio emits nothing');
  });

  test('flush mid-stream, then the stream goes on: the same window comes again, complete', () => {
    const x = noise(120000, 0.2, 9);
    const extractor = new IncrementalMelExtractor(500);
    const first = [...extractor.push(x.subarray(0, 70000)), ...extractor.flush()];
    assert.deepEqual(
      first.map((w) => [w.index, w.partial]),
      [
        [0, false],
        [1, true],
      ],
    );
    const later = [...extractor.push(x.subarray(70000)), ...extractor.flush()];
    assert.deepEqual(later[0].index, 1);
    assert.equal(later[0].partial, false);
    assertMatchesBatch(x.subarray(0, 70000), first);
    assertMatchesBatch(x, later);
  });

  test('flush after audio that ends exactly on a window adds nothing', () => {
    const extractor = new IncrementalMelExtractor(500);
    assert.equal(extractor.push(noise(WINDOW_SAMPLES, 0.1)).length, 1);
    assert.deepEqual(extractor.flush(), []);
  });

  test('a long stream holds a bounded number of samples', () => {
    const extractor = new IncrementalMelExtractor(500);
    const r = random(3);
    let most = 0;
    for (let i = 0; i < 3000; i++) {
      extractor.push(noise(441, 0.1, i));
      most = Math.max(most, extractor.retainedSamples);
      if (r() < 0.01) extractor.push(new Float32Array(0));
    }
    // 60 s of audio; a window's worth would be 66150 samples.
    assert.ok(most < 4 * HOP_LENGTH + 441, `retained up to ${most} samples`);
  });

  test('a chunk with NaN is refused and changes nothing', () => {
    const extractor = new IncrementalMelExtractor();
    extractor.push(noise(1000, 0.1));
    const bad = noise(500, 0.1);
    bad[77] = Number.NaN;
    assert.throws(
      () => extractor.push(bad),
      (e: unknown) => e instanceof AerError && e.code === 'invalid_samples',
    );
    assert.equal(extractor.received, 1000);
  });

  test('signalWindows over a file equals pushing it as a stream', () => {
    const x = noise(100000, 0.3, 4);
    const { windows, hopMs } = signalWindows(x, 750);
    assert.equal(hopMs, resolveHop(750).ms);
    assertMatchesBatch(x, windows);
    assert.equal(windows.at(-1)!.partial, true);
  });
});
