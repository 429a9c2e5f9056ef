/** The jobs of each experiment: k-fold speaker cross-validation, the ablation on one split, the baselines on one split. */
import type { Variant } from '../../model/aernet-options.ts';
import type { LoadedClip } from '../clip-store.ts';
import { speakersOf } from '../datasets/clip.ts';
import type { TrainConfig } from '../config.ts';
import { speakerGenders } from '../datasets/scan.ts';
import { createRandom } from '../random.ts';
import { type SplitKind, splitClips, speakerFolds } from '../split.ts';
import type { Job } from './run-jobs.ts';

/**
 * Each fold's speakers are the test set of one network and one baselines job
 * trained on the other folds. The network takes its early-stopping speakers
 * from its own training folds (config.split), never from the test fold.
 *
 * With `repeats` above 1 each fold's network is trained again with the next
 * seeds (seed + 1, ...): the folds, the baselines and the condition audio stay
 * those of `config.seed`, so the runs of a fold differ by the run's chance
 * alone (initial weights, clip order, augmentation, dropout, and the
 * early-stopping speakers where config.split holds some out).
 *
 * With `ensemble`, each fold's networks keep their weights and one more job
 * scores the fold with their probabilities averaged (a deep ensemble of the
 * repeats), on the same condition audio.
 *
 * `foldSeed` deals the folds and draws the condition audio in place of
 * `config.seed`, so other seeds' networks can be measured on a record's folds
 * and audio (the baselines' own seeds are fixed, so they are the record's too).
 */
export function crossvalJobs(
  clips: LoadedClip[],
  config: TrainConfig,
  folds: number,
  only?: number[],
  repeats = 1,
  ensemble = false,
  foldSeed = config.seed,
): Job[] {
  const parts = speakerFolds(clips, folds, createRandom(foldSeed), speakerGenders(clips));
  const hearing = (job: Job): Job => (job.config.seed === foldSeed ? job : { ...job, conditionsSeed: foldSeed });
  return parts.flatMap((test, k) => {
    if (only && !only.includes(k + 1)) return [];
    const train = parts.filter((_, j) => j !== k).flat();
    const title = `fold ${k + 1} (test: ${speakersOf(test).join(', ')})`;
    const again = Array.from({ length: repeats - 1 }, (_, r) => config.seed + r + 1).map((seed) => ({
      id: `fold-${k + 1}-aernet-seed-${seed}`,
      title: `${title}, seed ${seed}`,
      kind: 'network' as const,
      config: { ...config, seed },
      train,
      test,
    }));
    const networks: Job[] = [{ id: `fold-${k + 1}-aernet`, title, kind: 'network' as const, config, train, test }, ...again].map((job) =>
      ensemble ? { ...job, keepWeights: true } : job,
    );
    const averaged: Job[] = ensemble
      ? [{ id: `fold-${k + 1}-ensemble`, title, kind: 'ensemble', config, members: networks.map((j) => j.id), train, test }]
      : [];
    return [...networks, ...averaged, { id: `fold-${k + 1}-baselines`, title, kind: 'baselines' as const, config, train, test }].map(hearing);
  });
}

/** The split `aer train` makes with the same options, its validation side as the test set. */
export function heldOutSplit(clips: LoadedClip[], kind: SplitKind, fraction: number, seed: number): { train: LoadedClip[]; test: LoadedClip[] } {
  const split = splitClips(clips, kind, fraction, createRandom(seed));
  return { train: split.train, test: split.validation };
}

export function ablationJobs(clips: LoadedClip[], config: TrainConfig, kind: SplitKind): Job[] {
  const { train, test } = heldOutSplit(clips, kind, config.validationFraction, config.seed);
  const variants: Variant[] = ['cnn', 'cnn_res', 'full'];
  return [
    ...variants.map((variant) => ({
      id: `aernet-${variant}`,
      title: variant,
      kind: 'network' as const,
      config: { ...config, model: { ...config.model, variant } },
      train,
      test,
    })),
    { id: 'baselines', title: 'baselines', kind: 'baselines' as const, config, train, test },
  ];
}
