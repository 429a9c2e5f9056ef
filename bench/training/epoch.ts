/**
 * Training speed: seconds per epoch over the shared EmoDB six-class subset
 * (the target: at most 60 s) and training clips per second, for the
 * wasm backend with this project's training kernels on 1 and 2 threads,
 * against TF.js's own pure-JavaScript CPU backend measured in the same run
 * (on a slice of the clips: a whole epoch there takes minutes).
 *
 *   node --import tsx bench/training/epoch.ts [--epochs N] [--baseline-clips N]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_OPTIONS } from '../../src/model/aernet-options.ts';
import type { BackendChoice } from '../../src/model/backend.ts';
import type { LoadedClip } from '../../src/train/clip-store.ts';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../src/train/config.ts';
import { prepareData } from '../../src/train/data.ts';
import { fit } from '../../src/train/fit.ts';
import { initialWeights } from '../../src/train/initial-weights.ts';
import { ReplicaPool } from '../../src/train/parallel/pool.ts';
import { header, table } from '../lib/machine.ts';
import { sharedData } from '../lib/data.ts';

const { values } = parseArgs({ options: { epochs: { type: 'string', default: '3' }, 'baseline-clips': { type: 'string', default: '4' } } });
const epochs = Number(values.epochs);
const baselineClips = Number(values['baseline-clips']);

const data = await prepareData([sharedData('datasets/emodb')], 'emodb');
header(`Training AER-Net (full, default options), ${data.clips.length} EmoDB clips, batch 32, default augmentation`);

interface Measured {
  setting: string;
  clips: number;
  /** Seconds of each epoch after the first (the first includes compiling and warm-up). */
  epochSeconds: number;
  firstEpochSeconds: number;
}

async function measure(setting: string, backend: BackendChoice, workers: number, clips: LoadedClip[], runEpochs: number): Promise<Measured> {
  const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, data: [], split: 'none', workers, backend, epochs: runEpochs };
  const { weights, trainableCount } = await initialWeights(DEFAULT_OPTIONS, config.seed, backend);
  const pool = await ReplicaPool.start(workers, DEFAULT_OPTIONS, backend);
  try {
    const result = await fit({ config, train: clips, validation: [], pool, initialWeights: weights, trainableCount });
    const seconds = result.history.map((r) => r.seconds);
    const later = seconds.slice(1).sort((a, b) => a - b);
    return {
      setting: `${setting} (${pool.detail})`,
      clips: clips.length,
      epochSeconds: later.length ? later[Math.floor(later.length / 2)] : seconds[0],
      firstEpochSeconds: seconds[0],
    };
  } finally {
    await pool.close();
  }
}

const runs: Measured[] = [];
// The wasm runs first: the cpu backend takes minutes for even a few clips.
for (const workers of [1, Math.min(2, os.availableParallelism())]) {
  runs.push(await measure(`wasm + training kernels, ${workers} thread(s)`, 'wasm', workers, data.clips, epochs));
  process.stderr.write(`${runs.at(-1)!.setting}: ${runs.at(-1)!.epochSeconds.toFixed(1)} s per epoch\n`);
}
runs.unshift(await measure('TF.js cpu backend, 1 thread', 'cpu', 1, data.clips.slice(0, baselineClips), 2));

const baseline = runs[0].clips / runs[0].epochSeconds;
table(
  runs.map((r) => {
    const clipsPerSecond = r.clips / r.epochSeconds;
    const epochFull = data.clips.length / clipsPerSecond;
    return [
      r.setting,
      r.clips,
      r.firstEpochSeconds.toFixed(1),
      r.epochSeconds.toFixed(1),
      epochFull.toFixed(1),
      ((epochFull * 50) / 60).toFixed(1),
      clipsPerSecond.toFixed(1),
      `${(clipsPerSecond / baseline).toFixed(1)}x`,
    ];
  }),
  [
    'setting',
    'clips',
    'first epoch s',
    'epoch s (median after the first)',
    `epoch over all ${data.clips.length} clips, s`,
    '50 epochs, min',
    'clips/s',
    'vs cpu backend',
  ],
);
process.stdout.write(`\ntarget: one epoch over the ${data.clips.length} clips in at most 60 s\n`);
