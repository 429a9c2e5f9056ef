import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { readWav } from '../../src/audio/wav.ts';
import { AerError } from '../../src/errors.ts';
import { clipFeatures, melPowerFrames, windowFeatures, windowMelDb } from '../../src/features/extract.ts';
import { hzToMel, melToHz, slaneyMelFilterbank } from '../../src/features/mel-filterbank.ts';
import { N_MELS, SAMPLE_RATE, WINDOW_FRAMES, WINDOW_SAMPLES } from '../../src/features/recipe.ts';
import { modelSignal } from '../../src/features/signal.ts';
import { fixturePath, needsFixtures, readF32 } from '../helpers/shared.ts';
import { maxAbsDiff, noise, tone } from '../helpers/signals.ts';

const CASES = ['chirp', 'noise', 'speech', 'speech48k_resampled'];

/** Fixtures are (mel, frame); ours are (frame, mel). */
function transpose(melByFrame: Float32Array, frames: number): Float32Array {
  const out = new Float32Array(melByFrame.length);
  for (let m = 0; m < N_MELS; m++) for (let t = 0; t < frames; t++) out[t * N_MELS + m] = melByFrame[m * frames + t];
  return out;
}

describe('Mel filter bank', () => {
  test('Slaney mel scale: linear below 1 kHz, logarithmic above, and invertible', () => {
    assert.ok(Math.abs(hzToMel(1000) - 15) < 1e-12);
    assert.ok(Math.abs(hzToMel(200) - 3) < 1e-12);
    for (const hz of [0, 123, 999, 1000, 4321, 11025]) assert.ok(Math.abs(melToHz(hzToMel(hz)) - hz) < 1e-9);
  });

  for (const [rate, nFft, nMels, file] of [
    [22050, 2048, 128, 'mel_fb_22050_2048_128.f32'],
    [16000, 512, 64, 'mel_fb_16000_512_64.f32'],
  ] as const) {
    test(`${file}: within 1e-6 of librosa.filters.mel`, { skip: needsFixtures }, () => {
      const fb = slaneyMelFilterbank(rate, nFft, nMels);
      assert.ok(maxAbsDiff(fb.dense, readF32(file)) <= 1e-6);
      // The sparse bands hold exactly the dense weights.
      for (let m = 0; m < nMels; m++) {
        const { start, weights } = fb.bands[m];
        for (let k = 0; k < fb.nBins; k++) {
          const w = k >= start && k < start + weights.length ? weights[k - start] : 0;
          assert.equal(w, fb.dense[m * fb.nBins + k]);
        }
      }
    });
  }
});

describe('the feature recipe against librosa', { skip: needsFixtures }, () => {
  for (const name of CASES) {
    test(`${name}: mel power, mel dB (mean <= 0.01 dB, max <= 0.1 dB) and features (max <= 0.01)`, () => {
      const input = readF32(`${name}.input.f32`);
      assert.equal(input.length, WINDOW_SAMPLES);

      const power = melPowerFrames(input);
      const refPower = transpose(readF32(`${name}.mel_power.f32`), WINDOW_FRAMES);
      let peak = 0;
      for (const v of refPower) peak = Math.max(peak, v);
      for (let i = 0; i < refPower.length; i++) {
        // Relative agreement wherever the power is within 80 dB of the peak (what survives top_db).
        if (refPower[i] > peak * 1e-8) assert.ok(Math.abs(power[i] - refPower[i]) <= 1e-3 * refPower[i], `power ${i}: ${power[i]} vs ${refPower[i]}`);
      }

      const db = windowMelDb(input);
      const refDb = transpose(readF32(`${name}.mel_db.f32`), WINDOW_FRAMES);
      let sum = 0;
      for (let i = 0; i < db.length; i++) sum += Math.abs(db[i] - refDb[i]);
      assert.ok(sum / db.length <= 0.01, `mean ${sum / db.length} dB`);
      assert.ok(maxAbsDiff(db, refDb) <= 0.1, `max ${maxAbsDiff(db, refDb)} dB`);

      const features = windowFeatures(input);
      assert.equal(features.length, WINDOW_FRAMES * N_MELS);
      assert.ok(maxAbsDiff(features, readF32(`${name}.features.f32`)) <= 0.01);
    });
  }

  for (const name of CASES) {
    test(`${name}.input.wav (float32 WAV) reads as ${name}.input.f32 and gives its features`, () => {
      const wav = readWav(fs.readFileSync(fixturePath(`${name}.input.wav`)));
      assert.equal(wav.sampleRate, SAMPLE_RATE);
      assert.deepEqual(wav.channels[0], readF32(`${name}.input.f32`));
      assert.ok(maxAbsDiff(clipFeatures(modelSignal(wav)), readF32(`${name}.features.f32`)) <= 0.01);
    });
  }

  test('the 22050 Hz speech WAV, read and framed by the project, gives the fixture features', () => {
    const audio = readWav(fs.readFileSync(fixturePath('speech_22050.wav')));
    const features = clipFeatures(modelSignal(audio));
    // The WAV is 16-bit; the fixture input is its float32 decoding, trimmed to 3 s.
    assert.ok(maxAbsDiff(features, readF32('speech.features.f32')) <= 0.01);
  });

  test('speech_48000.wav decoded, resampled and framed is close to librosa.load + the recipe', () => {
    const audio = readWav(fs.readFileSync(fixturePath('speech_48000.wav')));
    const features = clipFeatures(modelSignal(audio));
    const reference = readF32('speech48k_resampled.features.f32');
    let sum = 0;
    for (let i = 0; i < reference.length; i++) sum += Math.abs(features[i] - reference[i]);
    // The shared notes put a plain polyphase filter at 0.009 mean absolute feature difference.
    assert.ok(sum / reference.length < 0.009, `mean ${sum / reference.length}`);
  });
});

describe("Mel bands from a model's fmin (--mel-fmin)", () => {
  test("no band reaches below fmin; the recipe's first bands do", () => {
    const binHz = SAMPLE_RATE / 2048;
    const lowest = (fmin: number) => Math.min(...slaneyMelFilterbank(SAMPLE_RATE, 2048, N_MELS, fmin).bands.map((b) => b.start * binHz));
    assert.ok(lowest(100) > 100);
    assert.ok(lowest(0) < 20);
  });

  test("a 40 Hz hum under the lowest band barely moves the features (leakage only); with the recipe's bands, by standard deviations", () => {
    const speechLike = tone(1000, SAMPLE_RATE, WINDOW_SAMPLES, 0.5);
    const hum = tone(40, SAMPLE_RATE, WINDOW_SAMPLES, 0.01);
    const withHum = speechLike.map((v, i) => v + hum[i]);
    assert.ok(maxAbsDiff(windowFeatures(withHum, 0, 'whole', 100), windowFeatures(speechLike, 0, 'whole', 100)) < 0.05);
    assert.ok(maxAbsDiff(clipFeatures(withHum), clipFeatures(speechLike)) > 1);
    assert.deepEqual(clipFeatures(withHum, 100), windowFeatures(withHum, 0, 'whole', 100));
  });
});

describe('defined results at the edges', () => {
  test('digital silence gives all-zero features, never NaN', () => {
    const features = clipFeatures(new Float32Array(WINDOW_SAMPLES));
    assert.ok(features.every((v) => v === 0));
  });

  test('a signal whose power is under the floor everywhere is silence too; faint noise is not', () => {
    assert.ok(clipFeatures(new Float32Array(WINDOW_SAMPLES).fill(1e-12)).every((v) => v === 0));
    const faint = clipFeatures(noise(WINDOW_SAMPLES, 1e-6));
    assert.ok(faint.some((v) => v !== 0) && faint.every(Number.isFinite));
  });

  test('a clip shorter than 3 s is zero-padded, a longer one trimmed', () => {
    const short = tone(440, SAMPLE_RATE, 22050);
    const padded = new Float32Array(WINDOW_SAMPLES);
    padded.set(short);
    assert.deepEqual(clipFeatures(short), clipFeatures(padded));
    const long = noise(WINDOW_SAMPLES + 5000, 0.3);
    assert.deepEqual(clipFeatures(long), clipFeatures(long.slice(0, WINDOW_SAMPLES)));
  });

  test('zero-length audio and non-finite samples are typed errors', () => {
    assert.throws(
      () => clipFeatures(new Float32Array(0)),
      (e: unknown) => e instanceof AerError && e.code === 'empty_audio',
    );
    const x = noise(WINDOW_SAMPLES, 0.1);
    x[1234] = Number.POSITIVE_INFINITY;
    assert.throws(
      () => clipFeatures(x),
      (e: unknown) => e instanceof AerError && e.code === 'invalid_samples' && /index 1234/.test(e.message),
    );
  });

  test('features are z-scored: mean 0, standard deviation 1', () => {
    const f = clipFeatures(noise(WINDOW_SAMPLES, 0.2).map((v, i) => v * (1 + Math.sin(i / 3000))));
    const mean = f.reduce((a, b) => a + b, 0) / f.length;
    const std = Math.sqrt(f.reduce((a, b) => a + (b - mean) ** 2, 0) / f.length);
    assert.ok(Math.abs(mean) < 1e-5 && Math.abs(std - 1) < 1e-5);
  });
});
