import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoadedClip } from '../../src/train/clip-store.ts';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../../src/train/config.ts';
import { crossvalJobs } from '../../src/train/experiments/plans.ts';
import { LABELS } from '../../src/train/labels.ts';

/** Two clips of every label for each of EmoDB's eight speakers (their genders are known to the corpus). */
const clips: LoadedClip[] = ['03', '08', '09', '10', '11', '12', '13', '14'].flatMap((id) =>
  LABELS.flatMap((label) =>
    [0, 1].map((i) => ({
      path: `${id}/${label}/${i}.wav`,
      label,
      speaker: `emodb:${id}`,
      corpus: 'emodb',
      signal: new Float32Array(0),
      features: new Float32Array(0),
    })),
  ),
);
const paths = (cs: LoadedClip[]) => cs.map((c) => c.path);
const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, data: ['emodb'], workers: 1 };

describe('crossval plans', () => {
  it('one network and one baselines job a fold, on the recipe seed, with no seed of their own for the conditions', () => {
    const jobs = crossvalJobs(clips, config, 4);
    assert.deepEqual(
      jobs.map((j) => j.id),
      [1, 2, 3, 4].flatMap((k) => [`fold-${k}-aernet`, `fold-${k}-baselines`]),
    );
    assert.ok(jobs.every((j) => j.conditionsSeed === undefined && j.config.seed === config.seed));
  });

  it('--repeats trains each fold again on the next seeds, on the same clips, hearing the first run’s condition audio', () => {
    const { seed } = config;
    const once = crossvalJobs(clips, config, 4);
    const jobs = crossvalJobs(clips, config, 4, [2], 3);
    assert.deepEqual(
      jobs.map((j) => [j.id, j.config.seed, j.conditionsSeed]),
      [
        ['fold-2-aernet', seed, undefined],
        [`fold-2-aernet-seed-${seed + 1}`, seed + 1, seed],
        [`fold-2-aernet-seed-${seed + 2}`, seed + 2, seed],
        ['fold-2-baselines', seed, undefined],
      ],
    );
    const first = once.find((j) => j.id === 'fold-2-aernet')!;
    for (const job of jobs) {
      assert.deepEqual(paths(job.train), paths(first.train));
      assert.deepEqual(paths(job.test), paths(first.test));
    }
    assert.match(jobs[1].title, new RegExp(`^${first.title.replace(/[()]/g, '\\$&')}, seed ${seed + 1}$`));
    // Only the seed differs in a repeat's recipe.
    assert.deepEqual({ ...jobs[2].config, seed }, first.config);
  });

  it('--fold-seed deals another seed’s folds and condition audio to these seeds’ networks, with the record’s baselines', () => {
    const record = crossvalJobs(clips, config, 4, undefined, 2, true);
    const seed = config.seed + 2;
    const jobs = crossvalJobs(clips, { ...config, seed }, 4, undefined, 2, true, config.seed);
    const own = crossvalJobs(clips, { ...config, seed }, 4);
    assert.notDeepEqual(
      own.filter((j) => j.kind === 'baselines').map((j) => paths(j.test)),
      record.filter((j) => j.kind === 'baselines').map((j) => paths(j.test)),
      'the two seeds must deal different folds for this test to mean anything',
    );
    assert.deepEqual(
      jobs.map((j) => [j.id.replace(`seed-${seed + 1}`, 'next'), paths(j.train), paths(j.test)]),
      record.map((j) => [j.id.replace(`seed-${config.seed + 1}`, 'next'), paths(j.train), paths(j.test)]),
    );
    assert.deepEqual(
      jobs.slice(0, 4).map((j) => [j.config.seed, j.conditionsSeed]),
      [
        [seed, config.seed],
        [seed + 1, config.seed],
        [seed, config.seed],
        [seed, config.seed],
      ],
    );
  });

  it('--ensemble keeps the repeats’ weights and averages them in one more job, before the baselines', () => {
    const jobs = crossvalJobs(clips, config, 4, [3], 2, true);
    assert.deepEqual(
      jobs.map((j) => [j.id, j.kind, j.keepWeights === true, j.members]),
      [
        ['fold-3-aernet', 'network', true, undefined],
        [`fold-3-aernet-seed-${config.seed + 1}`, 'network', true, undefined],
        ['fold-3-ensemble', 'ensemble', false, ['fold-3-aernet', `fold-3-aernet-seed-${config.seed + 1}`]],
        ['fold-3-baselines', 'baselines', false, undefined],
      ],
    );
    assert.deepEqual(paths(jobs[2].test), paths(jobs[0].test));
    assert.equal(jobs[2].config, config);
    assert.ok(crossvalJobs(clips, config, 4, [3], 2).every((j) => !j.keepWeights && j.kind !== 'ensemble'));
  });
});
