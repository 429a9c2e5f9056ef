import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bandPass } from '../../src/audio/band-pass.ts';
import { rms } from '../../src/train/conditions/noise-mix.ts';
import { tone } from '../helpers/signals.ts';

const RATE = 8000;

/** The filter's gain at `frequency`, dB, measured on a steady tone (its first half second, the transient, left out). */
function gainDb(frequency: number, order = 4): number {
  const input = tone(frequency, RATE, 2 * RATE);
  const output = bandPass(input, RATE, 300, 3400, order);
  return 20 * Math.log10(rms(output.subarray(RATE / 2)) / rms(input.subarray(RATE / 2)));
}

describe('Butterworth band-pass (300-3400 Hz)', () => {
  test('flat in the pass band', () => {
    for (const f of [600, 1000, 2000, 2800]) assert.ok(Math.abs(gainDb(f)) < 0.2, `${f} Hz: ${gainDb(f).toFixed(2)} dB`);
  });

  test('-3 dB at both edges, as a Butterworth filter is', () => {
    for (const f of [300, 3400]) assert.ok(Math.abs(gainDb(f) + 3.01) < 0.35, `${f} Hz: ${gainDb(f).toFixed(2)} dB`);
  });

  test('falls off outside the band at 24 dB an octave for order 4', () => {
    assert.ok(gainDb(150) < -22, `150 Hz: ${gainDb(150).toFixed(1)} dB`);
    assert.ok(gainDb(75) < -46, `75 Hz: ${gainDb(75).toFixed(1)} dB`);
    assert.ok(gainDb(3900) < -12, `3900 Hz: ${gainDb(3900).toFixed(1)} dB`);
    // A higher order is steeper.
    assert.ok(gainDb(150, 8) < gainDb(150) - 15);
  });

  test('linear and causal: silence in, silence out; a delayed input, a delayed output', () => {
    assert.equal(rms(bandPass(new Float32Array(1000), RATE, 300, 3400)), 0);
    const x = tone(1000, RATE, 800);
    const delayed = new Float32Array(900);
    delayed.set(x, 100);
    const a = bandPass(x, RATE, 300, 3400);
    const b = bandPass(delayed, RATE, 300, 3400);
    for (let i = 0; i < 800; i++) assert.ok(Math.abs(a[i] - b[i + 100]) < 1e-6);
  });
});
