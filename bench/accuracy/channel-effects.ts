/**
 * Which of a voice channel's effects costs the model: each alone, on the
 * same held-out clips, scored as the clip rows are (3 positions a clip).
 * Opus at 16 kbit/s (the `opus_16k` row) is a 16 kHz band, a VoIP-mode
 * high-pass and the codec's coding at once; this separates them:
 *
 *   clean                     the `clean` row
 *   16 kHz                    resampled to 16 kHz and back: nothing above 8 kHz
 *   high-pass 80 / 150 Hz     a 4th-order Butterworth high-pass, the rest untouched
 *   16 kHz + high-pass 80 Hz  both
 *   opus 16 / 32 / 64 kbit/s  the codec (VoIP mode, 16 kHz) at rising rates: what is left is not the bits
 *
 * Per variant: accuracy, and each class's clips read right. The model must
 * not have heard the test speakers:
 *
 *   node --import tsx bench/accuracy/channel-effects.ts --model DIR --data DIR
 */
import { parseArgs } from 'node:util';
import { highPass } from '../../src/audio/band-pass.ts';
import { SAMPLE_RATE, WINDOW_VALUES } from '../../src/features/recipe.ts';
import { melFminOf } from '../../src/model/model-files.ts';
import { packWeights } from '../../src/model/weights.ts';
import { via16k, viaOpus } from '../../src/train/conditions/channel-sim.ts';
import { ReplicaPool } from '../../src/train/parallel/pool.ts';
import { positionedWindows } from '../../src/train/windows.ts';
import { heldOut } from '../lib/held-out.ts';
import { header } from '../lib/machine.ts';

const { values } = parseArgs({ options: { model: { type: 'string' }, data: { type: 'string' } } });
if (!values.model || !values.data) {
  process.stderr.write('usage: channel-effects.ts --model DIR --data DIR (a model and clips of speakers it was not trained on)\n');
  process.exit(2);
}

const { loaded, labels, test } = await heldOut(values.model, values.data);
const pool = await ReplicaPool.start(2, loaded.metadata.options, 'auto');
const weights = packWeights(loaded.model);
const POSITIONS = 3;

const variants: [string, (s: Float32Array) => Float32Array][] = [
  ['clean', (s) => s],
  ['16 kHz', via16k],
  ['high-pass 80 Hz', (s) => highPass(s, SAMPLE_RATE, 80)],
  ['high-pass 150 Hz', (s) => highPass(s, SAMPLE_RATE, 150)],
  ['16 kHz + high-pass 80 Hz', (s) => highPass(via16k(s), SAMPLE_RATE, 80)],
  ['opus 16 kbit/s', (s) => viaOpus(s, 16)],
  ['opus 32 kbit/s', (s) => viaOpus(s, 32)],
  ['opus 64 kbit/s', (s) => viaOpus(s, 64)],
];

header(`channel effects: ${loaded.metadata.variant} from ${values.model} on ${test.length} clips of ${values.data}`);
console.log(`| variant | accuracy | ${labels.join(' | ')} |`);
console.log(`|---|---:|${labels.map(() => '---:').join('|')}|`);
for (const [name, transform] of variants) {
  const windows = test.flatMap((c) => positionedWindows(transform(c.signal), POSITIONS, melFminOf(loaded.metadata)));
  const stacked = new Float32Array(windows.length * WINDOW_VALUES);
  windows.forEach((w, i) => stacked.set(w, i * WINDOW_VALUES));
  const { probabilities } = await pool.predict(weights, stacked);
  const right = labels.map(() => 0);
  const total = labels.map(() => 0);
  test.forEach((clip, c) => {
    // A clip's answer: its positions' probabilities averaged, as the clip rows score it.
    const mean = labels.map((_, k) => {
      let sum = 0;
      for (let p = 0; p < POSITIONS; p++) sum += probabilities[(c * POSITIONS + p) * labels.length + k];
      return sum;
    });
    const truth = labels.indexOf(clip.label);
    total[truth]++;
    if (mean.indexOf(Math.max(...mean)) === truth) right[truth]++;
  });
  const accuracy = (100 * right.reduce((a, b) => a + b, 0)) / test.length;
  console.log(`| ${name} | ${accuracy.toFixed(1)} % | ${right.map((r, k) => `${r}/${total[k]}`).join(' | ')} |`);
}
await pool.close();
