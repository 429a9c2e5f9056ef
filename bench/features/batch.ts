/**
 * Batch features: microseconds per 3 s window for the whole recipe (framing,
 * FFT, Mel, dB, z-score), side by side with Meyda computing Mel bands for the
 * same 130 frames, and how close each is to librosa on the shared fixture.
 */
import fs from 'node:fs';
import path from 'node:path';
import meydaModule from 'meyda';
import { melDbFrames, windowFeatures } from '../../src/features/extract.ts';
import { referenceToMax } from '../../src/features/normalize.ts';
import { HOP_LENGTH, N_FFT, N_MELS, SAMPLE_RATE, WINDOW_FRAMES, WINDOW_SAMPLES } from '../../src/features/recipe.ts';
import { header, microseconds, table } from '../lib/machine.ts';
import { sharedData } from '../lib/data.ts';

header('Batch features: one 3 s window (130 frames x 128 Mel bands)');
const fixtures = sharedData('fixtures/librosa');
const f32 = (name: string) => new Float32Array(fs.readFileSync(path.join(fixtures, name)).buffer.slice(0));
const input = f32('speech.input.f32');
const refDb = f32('speech.mel_db.f32'); // (mel, frame)

// Meyda is CommonJS whose module object is the API; its typings call that the default export.
const Meyda = meydaModule as unknown as (typeof meydaModule)['default'];
Meyda.bufferSize = N_FFT;
Meyda.sampleRate = SAMPLE_RATE;
Meyda.melBands = N_MELS;
Meyda.windowingFunction = 'hanning';

/** Meyda's Mel bands for the same centred, zero-padded frames, as ln(1 + power), (frame, mel). */
function meydaWindow(): Float32Array {
  const out = new Float32Array(WINDOW_FRAMES * N_MELS);
  const frame = new Float32Array(N_FFT);
  for (let t = 0; t < WINDOW_FRAMES; t++) {
    frame.fill(0);
    const start = t * HOP_LENGTH - N_FFT / 2;
    for (let n = Math.max(0, -start); n < N_FFT && start + n < WINDOW_SAMPLES; n++) frame[n] = input[start + n];
    out.set(Meyda.extract('melBands', frame) as unknown as number[], t * N_MELS);
  }
  return out;
}

/** Mean absolute difference from librosa's power_to_db(ref=max), in dB, over bins above -60 dB. */
function meanDbError(db: Float32Array): number {
  let sum = 0;
  let n = 0;
  for (let t = 0; t < WINDOW_FRAMES; t++) {
    for (let m = 0; m < N_MELS; m++) {
      const r = refDb[m * WINDOW_FRAMES + t];
      if (r > -60) {
        sum += Math.abs(db[t * N_MELS + m] - r);
        n++;
      }
    }
  }
  return sum / n;
}

const oursUs = microseconds(() => windowFeatures(input), 200);
const oursMelUs = microseconds(() => melDbFrames(input), 200);
const meydaUs = microseconds(meydaWindow, 10, 3);

const meydaBands = meydaWindow();
// Back from ln(1 + power) to dB, then the same ref=max and 80 dB floor as librosa.
const meydaDb = referenceToMax(meydaBands.map((v) => 10 * Math.log10(Math.max(1e-10, Math.expm1(v)))));

table(
  [
    [
      'aer: whole recipe (to z-scored model input)',
      oursUs.toFixed(0),
      (meydaUs / oursUs).toFixed(1),
      meanDbError(referenceToMax(melDbFrames(input))).toExponential(1),
    ],
    ['aer: Mel bands only (dB)', oursMelUs.toFixed(0), (meydaUs / oursMelUs).toFixed(1), ''],
    ['Meyda 5.6 melBands (same 130 frames)', meydaUs.toFixed(0), '1.0', meanDbError(meydaDb).toFixed(2)],
  ],
  ['implementation', 'us / window', 'x faster than Meyda', 'Mel dB vs librosa (mean abs, > -60 dB)'],
);
process.stdout.write(
  '\nMeyda uses an HTK-style Mel scale with band edges floored to FFT bins, no Slaney area normalisation and a\n' +
    'symmetric Hann window, so it cannot reproduce the recipe the model was trained on, whatever the post-processing.\n',
);
