/**
 * What the service-condition augmentations cost an epoch: seconds per epoch
 * over the shared EmoDB subset (wasm, 2 threads) with the default
 * augmentation and with continuous speech and channel simulation added,
 * measured in the same run, plus the one-time channel simulation (the
 * telephone and Opus copies of every clip) that a run pays before its first
 * epoch. The bound: at most 2x the epoch.
 *
 *   node --import tsx bench/training/augmentation-cost.ts [--epochs N]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_OPTIONS } from '../../src/model/aernet-options.ts';
import { type AugmentOptions, parseAugment } from '../../src/train/augment.ts';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../src/train/config.ts';
import { prepareData } from '../../src/train/data.ts';
import { fit } from '../../src/train/fit.ts';
import { initialWeights } from '../../src/train/initial-weights.ts';
import { ReplicaPool } from '../../src/train/parallel/pool.ts';
import { prepareTrainingAudio } from '../../src/train/training-audio.ts';
import { header, table } from '../lib/machine.ts';
import { sharedData } from '../lib/data.ts';

const { values } = parseArgs({ options: { epochs: { type: 'string', default: '3' } } });
const epochs = Number(values.epochs);
const workers = Math.min(2, os.availableParallelism());

const data = await prepareData([sharedData('datasets/emodb')], 'emodb');
header(`Training AER-Net (full, default options), ${data.clips.length} EmoDB clips, batch 32, wasm, ${workers} thread(s)`);

/** Median seconds of the epochs after the first (compiling and warm-up), and the first. */
async function epochSeconds(augment: AugmentOptions): Promise<{ median: number; first: number }> {
  const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, data: [], split: 'none', workers, backend: 'wasm', epochs, augment };
  const { weights, trainableCount } = await initialWeights(DEFAULT_OPTIONS, config.seed, 'wasm');
  const pool = await ReplicaPool.start(workers, DEFAULT_OPTIONS, 'wasm');
  try {
    const seconds = (await fit({ config, train: data.clips, validation: [], pool, initialWeights: weights, trainableCount })).history.map((r) => r.seconds);
    const later = seconds.slice(1).sort((a, b) => a - b);
    return { median: later.length ? later[Math.floor(later.length / 2)] : seconds[0], first: seconds[0] };
  } finally {
    await pool.close();
  }
}

const conditions = parseAugment('continuous,channel');
const settings: [string, AugmentOptions][] = [
  ['default (placement, gain, noise, SpecAugment)', parseAugment('default')],
  ['default + continuous + channel', { ...parseAugment('default'), continuous: conditions.continuous, channel: conditions.channel }],
];
const rows: string[][] = [];
let baseline = 0;
for (const [name, augment] of settings) {
  const started = performance.now();
  prepareTrainingAudio(data.clips, augment, 1);
  const prepare = (performance.now() - started) / 1000;
  const { median, first } = await epochSeconds(augment);
  baseline ||= median;
  rows.push([name, prepare.toFixed(1), first.toFixed(1), median.toFixed(1), `${(median / baseline).toFixed(2)}x`]);
  process.stderr.write(`${name}: ${median.toFixed(1)} s per epoch\n`);
}
table(rows, ['augmentation', 'once per run, s', 'first epoch s', 'epoch s (median after the first)', 'vs default']);
process.stdout.write('\nbound: at most 2x the default epoch\n');
