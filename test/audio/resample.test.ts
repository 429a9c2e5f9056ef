import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { Resampler, resample } from '../../src/audio/resample.ts';
import { readWav } from '../../src/audio/wav.ts';
import { AerError } from '../../src/errors.ts';
import { windowMelDb } from '../../src/features/extract.ts';
import { SAMPLE_RATE } from '../../src/features/recipe.ts';
import { fixturePath, needsFixtures, readF32 } from '../helpers/shared.ts';
import { concat, maxAbsDiff, noise, randomChunks, tone } from '../helpers/signals.ts';

/** Amplitude of the component at `frequency` (single-bin DFT over whole periods). */
function amplitudeAt(x: Float32Array, frequency: number, rate: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < x.length; i++) {
    const phase = (2 * Math.PI * frequency * i) / rate;
    re += x[i] * Math.cos(phase);
    im -= x[i] * Math.sin(phase);
  }
  return (2 * Math.hypot(re, im)) / x.length;
}

describe('resampler', () => {
  // 16001, 44056 and 47952 Hz share few factors with 22050: their filters are interpolated between table rows.
  const rates = [8000, 11025, 12000, 16000, 16001, 22050, 24000, 32000, 37000, 44056, 44100, 47952, 48000];

  for (const rate of rates) {
    test(`${rate} Hz -> 22050 Hz: chunked output equals whole-signal output, length ceil(n * 22050 / ${rate})`, () => {
      const x = concat([tone(300, rate, rate / 2), noise(Math.floor(rate / 3), 0.3, rate)]);
      const whole = resample(x, rate, SAMPLE_RATE);
      assert.equal(whole.length, Math.ceil((x.length * SAMPLE_RATE) / rate));
      const r = new Resampler(rate, SAMPLE_RATE);
      const parts = randomChunks(x, 700, rate).map((c) => r.push(c));
      parts.push(r.flush());
      const chunked = concat(parts);
      // The issue asks for 1e-5; the filter's arithmetic does not depend on chunking, so it is exact.
      assert.equal(maxAbsDiff(chunked, whole), 0);
    });
  }

  test('a tone keeps its frequency, amplitude and timing', () => {
    for (const rate of [8000, 16000, 44056, 44100, 47952, 48000]) {
      const x = tone(1000, rate, rate, 0.5);
      const y = resample(x, rate, SAMPLE_RATE);
      const middle = y.subarray(2205, 2205 + 17640); // 0.8 s away from the edges: 800 whole periods
      assert.ok(Math.abs(amplitudeAt(middle, 1000, SAMPLE_RATE) - 0.5) < 1e-3, `${rate}: amplitude ${amplitudeAt(middle, 1000, SAMPLE_RATE)}`);
      // Zero phase: output sample n is the input at time n / 22050 s.
      for (let n = 2205; n < 19845; n += 331) assert.ok(Math.abs(y[n] - 0.5 * Math.sin((2 * Math.PI * 1000 * n) / SAMPLE_RATE)) < 2e-3, `${rate}: sample ${n}`);
    }
  });

  test('more streams at more rates than the kernel holds tables for, interleaved, each give their own exact output', () => {
    const streamRates = [
      8000, 11025, 12000, 16000, 16001, 24000, 32000, 37000, 44056, 44100, 47952, 48000, 9000, 10000, 14000, 18000, 20000, 28000, 36000, 40000,
    ];
    const inputs = streamRates.map((rate) => noise(rate / 2, 0.3, rate));
    const resamplers = streamRates.map((rate) => new Resampler(rate, SAMPLE_RATE));
    const outputs: Float32Array[][] = streamRates.map(() => []);
    for (let chunk = 0; chunk < 10; chunk++) {
      streamRates.forEach((rate, i) => outputs[i].push(resamplers[i].push(inputs[i].subarray((chunk * rate) / 20, ((chunk + 1) * rate) / 20))));
    }
    streamRates.forEach((rate, i) => {
      outputs[i].push(resamplers[i].flush());
      assert.equal(maxAbsDiff(concat(outputs[i]), resample(inputs[i], rate, SAMPLE_RATE)), 0, `${rate} Hz`);
    });
  });

  test('keeps DC exactly and removes what the new rate cannot hold', () => {
    const dc = resample(new Float32Array(48000).fill(0.25), 48000, SAMPLE_RATE);
    for (let i = 200; i < dc.length - 200; i++) assert.ok(Math.abs(dc[i] - 0.25) < 1e-6);
    // 15 kHz is above 11025 Hz: it must not fold back into the band as an alias.
    const alias = resample(tone(15000, 48000, 48000, 0.5), 48000, SAMPLE_RATE);
    const folded = SAMPLE_RATE - 15000;
    const level = amplitudeAt(alias.subarray(2205, 19845), folded, SAMPLE_RATE);
    assert.ok(20 * Math.log10(level / 0.5) < -60, `alias at ${folded} Hz is ${20 * Math.log10(level / 0.5)} dB`);
  });

  test('equal rates pass samples through', () => {
    const x = noise(1000, 0.5);
    const r = new Resampler(22050, 22050);
    assert.deepEqual(r.push(x), x);
    assert.equal(r.flush().length, 0);
  });

  test('rates outside 8-48 kHz are refused with a typed error', () => {
    for (const rate of [0, 7999, 48001, 96000, 16000.5, Number.NaN]) {
      assert.throws(
        () => new Resampler(rate, SAMPLE_RATE),
        (e: unknown) => e instanceof AerError && e.code === 'unsupported_sample_rate' && /8000-48000/.test(e.message),
      );
      assert.throws(
        () => new Resampler(SAMPLE_RATE, rate),
        (e: unknown) => e instanceof AerError && e.code === 'unsupported_sample_rate',
      );
    }
  });

  test('pushing after flush is an error', () => {
    const r = new Resampler(16000, SAMPLE_RATE);
    r.flush();
    assert.throws(
      () => r.push(new Float32Array(10)),
      (e: unknown) => e instanceof AerError && e.code === 'invalid_argument',
    );
  });

  test('Mel dB of speech_48000.wav resampled is within 0.5 dB (mean, bins above -60 dB) of librosa kaiser_best', { skip: needsFixtures }, () => {
    const source = readWav(fs.readFileSync(fixturePath('speech_48000.wav'))).channels[0];
    const db = windowMelDb(resample(source, 48000, SAMPLE_RATE));
    const reference = readF32('speech48k_resampled.mel_db.f32'); // (mel, frame)
    let sum = 0;
    let n = 0;
    for (let t = 0; t < 130; t++) {
      for (let m = 0; m < 128; m++) {
        const r = reference[m * 130 + t];
        if (r > -60) {
          sum += Math.abs(db[t * 128 + m] - r);
          n++;
        }
      }
    }
    const mean = sum / n;
    // Measured 0.0085 dB; the bound is 0.5 dB. Guard the measured quality, not just the bound.
    assert.ok(mean < 0.05, `mean abs Mel dB difference ${mean}`);
  });
});
