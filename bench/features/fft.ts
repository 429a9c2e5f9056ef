/**
 * Which FFT: the power spectrum of one 2048-point real frame, through PFFFT
 * (wasm, SIMD and plain builds, what src/features/fft.ts uses) and fft.js
 * (the fastest pure-JavaScript FFT on npm), with their agreement.
 */
import FFT from 'fft.js';
import pffftPlain from '@echogarden/pffft-wasm';
import pffftSimd from '@echogarden/pffft-wasm/simd';
import { N_BINS, N_FFT } from '../../src/features/recipe.ts';
import { header, microseconds, table } from '../lib/machine.ts';
import { speech } from '../lib/speech.ts';

header('FFT: power spectrum of a 2048-point real frame');
const frame = new Float64Array(speech(0.1).samples.subarray(0, N_FFT));

const fftjs = new FFT(N_FFT);
const complex = fftjs.createComplexArray();
const reference = new Float64Array(N_BINS);
function viaFftJs(out: Float64Array): void {
  fftjs.realTransform(complex, frame);
  for (let k = 0; k < N_BINS; k++) out[k] = complex[2 * k] ** 2 + complex[2 * k + 1] ** 2;
}
viaFftJs(reference);

async function viaPffft(factory: typeof pffftPlain): Promise<(out: Float64Array) => void> {
  const m = await factory();
  const setup = m._pffft_new_setup(N_FFT, 0);
  const [inPtr, outPtr, work] = [0, 1, 2].map(() => m._pffft_aligned_malloc(N_FFT * 4));
  return (out) => {
    m.HEAPF32.set(frame, inPtr >> 2);
    m._pffft_transform_ordered(setup, inPtr, outPtr, work, 0);
    const h = m.HEAPF32;
    const o = outPtr >> 2;
    out[0] = h[o] ** 2;
    out[N_BINS - 1] = h[o + 1] ** 2;
    for (let k = 1; k < N_BINS - 1; k++) out[k] = h[o + 2 * k] ** 2 + h[o + 2 * k + 1] ** 2;
  };
}

const candidates: [string, (out: Float64Array) => void][] = [
  ['fft.js 4 (pure JS, float64)', viaFftJs],
  ['PFFFT wasm (float32)', await viaPffft(pffftPlain)],
  ['PFFFT wasm SIMD (float32) - used', await viaPffft(pffftSimd)],
];
let peak = 0;
for (const v of reference) peak = Math.max(peak, v);
const timings = candidates.map(([, fn]) => {
  const out = new Float64Array(N_BINS);
  return microseconds(() => fn(out), 5000);
});
const rows = candidates.map(([name, fn], i) => {
  const out = new Float64Array(N_BINS);
  fn(out);
  let worst = 0;
  for (let k = 0; k < N_BINS; k++) if (reference[k] > peak * 1e-8) worst = Math.max(worst, Math.abs(out[k] - reference[k]) / reference[k]);
  return [name, timings[i].toFixed(2), (timings[0] / timings[i]).toFixed(2), worst.toExponential(1)];
});
table(rows, ['FFT', 'us / frame', 'speed vs fft.js', 'max rel. error vs fft.js (bins within 80 dB)']);
