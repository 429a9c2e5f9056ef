/**
 * Which resampler: speed (x real time on one core, 20 ms chunks) and quality
 * (Mel dB of the shared 48 kHz speech against librosa's kaiser_best, and the
 * output delay each leaves) of this project's polyphase resampler against the
 * npm builds of speex (int16 only) and libsamplerate (float).
 */
import fs from 'node:fs';
import path from 'node:path';
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import speex from 'speex-resampler';
import { Resampler, resample } from '../../src/audio/resample.ts';
import { readWav } from '../../src/audio/wav.ts';
import { windowMelDb } from '../../src/features/extract.ts';
import { SAMPLE_RATE } from '../../src/features/recipe.ts';
import { cpuSeconds, header, table } from '../lib/machine.ts';
import { speech } from '../lib/speech.ts';
import { sharedData } from '../lib/data.ts';

// Both packages are CommonJS; their real exports sit under the default import.
const { ConverterType, create } = libsamplerate;
const SpeexResampler = speex.default;

header('Resamplers: any rate -> 22050 Hz, 20 ms chunks, one core');
await SpeexResampler.initPromise;

type Chunked = (chunk: Float32Array) => Float32Array;
interface Candidate {
  name: string;
  make: (inRate: number) => Promise<Chunked>;
}

function toInt16(x: Float32Array): Buffer {
  const pcm = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(x[i] * 32767)));
  return Buffer.from(pcm.buffer);
}
function fromInt16(b: Buffer): Float32Array {
  const pcm = new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < out.length; i++) out[i] = pcm[i] / 32768;
  return out;
}

const candidates: Candidate[] = [
  {
    name: 'aer polyphase (float32) - used',
    make: async (inRate) => {
      const r = new Resampler(inRate, SAMPLE_RATE);
      return (c) => r.push(c);
    },
  },
  ...[3, 5, 7].map((q) => ({
    name: `speex-resampler q${q} (int16)`,
    make: async (inRate: number) => {
      const r = new SpeexResampler(1, inRate, SAMPLE_RATE, q);
      return (c: Float32Array) => fromInt16(r.processChunk(toInt16(c)));
    },
  })),
  ...(['SRC_SINC_FASTEST', 'SRC_SINC_MEDIUM_QUALITY'] as const).map((type) => ({
    name: `libsamplerate-js ${type.replace('SRC_SINC_', '').toLowerCase()}`,
    make: async (inRate: number) => {
      const r = await create(1, inRate, SAMPLE_RATE, { converterType: ConverterType[type] });
      return (c: Float32Array) => r.full(c);
    },
  })),
];

async function realTime(candidate: Candidate, inRate: number, input: Float32Array): Promise<number> {
  const chunk = inRate / 50;
  const warm = await candidate.make(inRate);
  for (let p = 0; p < inRate * 5; p += chunk) warm(input.subarray(p, p + chunk));
  const run = await candidate.make(inRate);
  const seconds = cpuSeconds(() => {
    for (let p = 0; p + chunk <= input.length; p += chunk) run(input.subarray(p, p + chunk));
  });
  return input.length / inRate / seconds;
}

/** Lag (in output samples) that best aligns `y` with `reference`. */
function lag(y: Float32Array, reference: Float32Array): number {
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let d = -5; d <= 80; d++) {
    let s = 0;
    for (let i = 2000; i < 40000; i++) s += y[i + d] * reference[i];
    if (s > bestScore) [best, bestScore] = [d, s];
  }
  return best;
}

const fixtures = sharedData('fixtures/librosa');
const source48 = readWav(fs.readFileSync(path.join(fixtures, 'speech_48000.wav'))).channels[0];
const refDb = new Float32Array(fs.readFileSync(path.join(fixtures, 'speech48k_resampled.mel_db.f32')).buffer.slice(0));
const refInput = new Float32Array(fs.readFileSync(path.join(fixtures, 'speech48k_resampled.input.f32')).buffer.slice(0));

async function quality(candidate: Candidate): Promise<{ db: number; lag: number }> {
  const run = await candidate.make(48000);
  const parts: Float32Array[] = [];
  for (let p = 0; p < source48.length; p += 960) parts.push(run(source48.subarray(p, p + 960)));
  parts.push(run(new Float32Array(4800))); // push a little silence so that delayed outputs reach the 3 s mark
  const y = new Float32Array(parts.reduce((n, c) => n + c.length, 0));
  parts.reduce((o, c) => (y.set(c, o), o + c.length), 0);
  const db = windowMelDb(y);
  let sum = 0;
  let n = 0;
  for (let t = 0; t < 130; t++) for (let m = 0; m < 128; m++) if (refDb[m * 130 + t] > -60) (sum += Math.abs(db[t * 128 + m] - refDb[m * 130 + t])), n++;
  return { db: sum / n, lag: lag(y, refInput) };
}

const long = speech(60).samples;
const inputs = new Map<number, Float32Array>([
  [48000, resample(long, SAMPLE_RATE, 48000)],
  [24000, resample(long, SAMPLE_RATE, 24000)],
  [16000, resample(long, SAMPLE_RATE, 16000)],
]);
const rows: string[][] = [];
const ours: Record<number, number> = {};
for (const candidate of candidates) {
  const speeds: number[] = [];
  for (const [rate, input] of inputs) speeds.push(await realTime(candidate, rate, input));
  if (rows.length === 0) [48000, 24000, 16000].forEach((r, i) => (ours[r] = speeds[i]));
  const q = await quality(candidate);
  rows.push([candidate.name, ...speeds.map((s) => s.toFixed(0)), (speeds[0] / ours[48000]).toFixed(2), q.db.toFixed(4), String(q.lag)]);
}
table(rows, ['resampler', 'x RT 48k', 'x RT 24k', 'x RT 16k', '48k speed vs aer', 'Mel dB vs librosa (mean abs, > -60 dB)', 'delay (samples)']);
process.stdout.write("\nThe delay is the shift against librosa's output; anything but 0 moves every window and its timestamps.\n");
