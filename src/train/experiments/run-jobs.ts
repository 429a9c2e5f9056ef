/**
 * Experiments (cross-validation, ablation, baselines) as a list of jobs, each
 * training on some clips and measuring on others: AER-Net (with early
 * stopping on speakers taken from its own training clips, never the test
 * clips) or both baselines. Every finished job is written to <out>/<id>.json
 * and a running network job checkpoints to <out>/<id>/checkpoint, so an
 * interrupted experiment resumes where it stopped. A network job that an
 * ensemble job averages also keeps its weights, in <out>/<id>.weights.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { LayersModel } from '@tensorflow/tfjs';
import { AerError } from '../../errors.ts';
import { buildAerNet } from '../../model/aernet.ts';
import { selectBackend } from '../../model/backend.ts';
import { joinEnsemble } from '../../model/ensemble.ts';
import { writeAtomically } from '../../model/model-files.ts';
import { packWeights, unpackWeights, weightCount } from '../../model/weights.ts';
import type { VadBatcher } from '../../stream/vad.ts';
import { withLaterAugmentOff } from '../augment.ts';
import { DEFAULT_BASELINES, runBaselines } from '../baselines/run.ts';
import { type Checkpoint, hasCheckpoint, loadCheckpoint } from '../checkpoint.ts';
import type { LoadedClip } from '../clip-store.ts';
import { baselineScorers, type ConditionResults, evaluateConditions, networkScorer, type Scorer } from '../conditions/evaluate.ts';
import type { Condition } from '../conditions/names.ts';
import { speakersOf } from '../datasets/clip.ts';
import { recipeOf, type TrainConfig } from '../config.ts';
import { fingerprint } from '../data.ts';
import { evaluateClips } from '../evaluate-clips.ts';
import { fit, type FitEvents } from '../fit.ts';
import { initialWeights } from '../initial-weights.ts';
import { LABELS } from '../labels.ts';
import type { Evaluation } from '../metrics.ts';
import { ReplicaPool } from '../parallel/pool.ts';
import { createRandom } from '../random.ts';
import { splitClips } from '../split.ts';

export interface Job {
  /** File-name safe and unique in the experiment. */
  id: string;
  title: string;
  kind: 'network' | 'baselines' | 'ensemble';
  config: TrainConfig;
  train: LoadedClip[];
  test: LoadedClip[];
  /** The seed of the condition audio (joined runs, noise, calls) where it is not the recipe's: a fold's repeated network hears its first run's. */
  conditionsSeed?: number;
  /** A network job: write its final weights to <out>/<id>.weights, for an ensemble job. */
  keepWeights?: boolean;
  /** An ensemble job: the network jobs (earlier in the list) whose probabilities it averages. */
  members?: string[];
}

export interface JobResult {
  id: string;
  title: string;
  kind: Job['kind'];
  /** Per method: 'aernet' for a network job, 'ensemble' for an ensemble job, 'svm' and 'forest' for baselines. */
  evaluations: Record<string, Evaluation>;
  seconds: Record<string, number>;
  train: { clips: number; speakers: string[] };
  test: { clips: number; speakers: string[] };
  network?: { variant: string; validationSpeakers: string[]; bestEpoch: number; epochsRun: number; ended: string };
  /** An ensemble job's members (network job ids). */
  members?: string[];
  /** The job's models under the service's conditions (when asked for): row -> method -> evaluation. */
  conditions?: ConditionResults;
}

/** Measuring each job's models under conditions too: which, and the VAD the stream rows need. */
export interface JobConditions {
  names: Condition[];
  vad?: VadBatcher;
  onRow?(row: string): void;
}

export interface RunOptions {
  resume?: boolean;
  signal?: AbortSignal;
  events?: JobEvents;
  conditions?: JobConditions;
}

export interface JobEvents extends FitEvents {
  onJob?(job: Job, index: number, total: number, state: 'start' | 'resume' | 'done-before'): void;
  onJobDone?(result: JobResult): void;
}

const PLAN_FORMAT = 'aer-experiment-1';

/** What identifies a job: a resumed experiment must plan the same. Where it runs (workers, backend) may change. */
function describe(job: Job): Record<string, unknown> {
  return {
    id: job.id,
    kind: job.kind,
    recipe: job.kind === 'baselines' ? DEFAULT_BASELINES : recipeOf(job.config),
    train: fingerprint(job.train),
    test: fingerprint(job.test),
    ...(job.conditionsSeed === undefined ? {} : { conditionsSeed: job.conditionsSeed }),
    ...(job.members ? { members: job.members } : {}),
  };
}

/** Whether a plan on disk plans `plan`; one written before some augmentation kinds existed planned them off. */
function samePlan(existing: string, plan: { jobs: Record<string, unknown>[] }): boolean {
  let written: { jobs?: Record<string, unknown>[] };
  try {
    written = JSON.parse(existing) as typeof written;
  } catch {
    return false;
  }
  const jobs = (written.jobs ?? []).map((job) => (job.kind === 'baselines' ? job : { ...job, recipe: withLaterAugmentOff(job.recipe) }));
  return isDeepStrictEqual({ ...written, jobs }, JSON.parse(JSON.stringify(plan)));
}

async function checkPlan(out: string, jobs: Job[], resume: boolean, conditions: Condition[]): Promise<void> {
  const planFile = path.join(out, 'plan.json');
  const plan = { format: PLAN_FORMAT, jobs: jobs.map(describe), ...(conditions.length > 0 ? { conditions } : {}) };
  const existing = await fs.readFile(planFile, 'utf8').then(
    (t) => t,
    () => undefined,
  );
  if (!resume) {
    if (existing !== undefined)
      throw new AerError('invalid_argument', `${out} already holds an experiment`, { hint: 'continue it with --resume, or pick another --out' });
  } else {
    if (existing === undefined)
      throw new AerError('invalid_checkpoint', `no experiment to resume in ${out} (plan.json is missing)`, { hint: 'start it without --resume' });
    if (!samePlan(existing, plan)) {
      throw new AerError('invalid_checkpoint', `the experiment in ${out} was planned with other options or data`, {
        hint: 'resume with the same options and --data folders, or start it in another --out',
      });
    }
    return;
  }
  await fs.mkdir(out, { recursive: true });
  await writeAtomically(planFile, `${JSON.stringify(plan, null, 1)}\n`);
}

export async function runJobs(jobs: Job[], out: string, options: RunOptions = {}): Promise<{ results: JobResult[]; interrupted: boolean }> {
  await checkPlan(out, jobs, options.resume === true, options.conditions?.names ?? []);
  const results: JobResult[] = [];
  for (const [index, job] of jobs.entries()) {
    const file = path.join(out, `${job.id}.json`);
    const done = await fs.readFile(file, 'utf8').then(
      (t) => JSON.parse(t) as JobResult,
      () => undefined,
    );
    if (done) {
      options.events?.onJob?.(job, index, jobs.length, 'done-before');
      results.push(done);
      continue;
    }
    if (options.signal?.aborted) return { results, interrupted: true };
    const result =
      job.kind === 'network'
        ? await networkJob(job, out, index, jobs.length, options)
        : job.kind === 'ensemble'
          ? await ensembleJob(job, out, index, jobs.length, options)
          : await baselinesJob(job, index, jobs.length, options);
    if (!result) return { results, interrupted: true };
    await writeAtomically(file, `${JSON.stringify(result, null, 1)}\n`);
    await fs.rm(path.join(out, job.id), { recursive: true, force: true });
    options.events?.onJobDone?.(result);
    results.push(result);
  }
  return { results, interrupted: false };
}

const sides = (job: Job) => ({
  train: { clips: job.train.length, speakers: speakersOf(job.train) },
  test: { clips: job.test.length, speakers: speakersOf(job.test) },
});

/** The job's test clips under the conditions asked for, scored by these models (the other clips give babble). */
async function underConditions(job: Job, scorers: Scorer[], conditions: JobConditions | undefined): Promise<{ conditions?: ConditionResults }> {
  if (!conditions || conditions.names.length === 0) return {};
  const inputs = {
    test: job.test,
    others: job.train,
    labels: [...LABELS],
    positions: job.config.evalPositions,
    seed: job.conditionsSeed ?? job.config.seed,
    vad: conditions.vad,
  };
  return { conditions: await evaluateConditions(conditions.names, inputs, scorers, conditions.onRow) };
}

async function baselinesJob(job: Job, index: number, total: number, options: RunOptions): Promise<JobResult> {
  options.events?.onJob?.(job, index, total, 'start');
  const results = await runBaselines(job.train, job.test);
  const baselines = options.conditions?.names.length ? await baselineScorers(job.train, [...LABELS], job.config.evalPositions) : undefined;
  try {
    return {
      id: job.id,
      title: job.title,
      kind: 'baselines',
      evaluations: Object.fromEntries(results.map((r) => [r.name, r.evaluation])),
      seconds: Object.fromEntries(results.map((r) => [r.name, Math.round(r.seconds * 10) / 10])),
      ...sides(job),
      ...(baselines ? await underConditions(job, baselines.scorers, options.conditions) : {}),
    };
  } finally {
    baselines?.dispose();
  }
}

const weightsFile = (out: string, id: string) => path.join(out, `${id}.weights`);

/** Trains on the job's training clips (validating on speakers split off them) and measures the best weights on its test clips; undefined when interrupted. */
async function networkJob(job: Job, out: string, index: number, total: number, options: RunOptions): Promise<JobResult | undefined> {
  const { config } = job;
  const checkpointDir = path.join(out, job.id, 'checkpoint');
  const split =
    config.split === 'none' ? { train: job.train, validation: [] } : splitClips(job.train, config.split, config.validationFraction, createRandom(config.seed));
  let resumeFrom: Checkpoint | undefined;
  if (await hasCheckpoint(checkpointDir)) {
    resumeFrom = await loadCheckpoint(checkpointDir);
    if (resumeFrom.state.dataFingerprint !== fingerprint([...split.train, ...split.validation])) {
      throw new AerError('invalid_checkpoint', `the checkpoint in ${checkpointDir} was trained on other clips`, {
        hint: `delete ${path.dirname(checkpointDir)} to run that job again`,
      });
    }
  }
  options.events?.onJob?.(job, index, total, resumeFrom ? 'resume' : 'start');
  const initial = await initialWeights(config.model, config.seed, config.backend);
  const pool = await ReplicaPool.start(config.workers, config.model, config.backend);
  try {
    await fs.mkdir(path.dirname(checkpointDir), { recursive: true });
    const result = await fit({
      config,
      train: split.train,
      validation: split.validation,
      pool,
      initialWeights: initial.weights,
      trainableCount: initial.trainableCount,
      checkpointDir,
      resumeFrom,
      signal: options.signal,
      events: options.events,
    });
    if (result.ended === 'interrupted') return undefined;
    if (job.keepWeights)
      await writeAtomically(weightsFile(out, job.id), new Uint8Array(result.weights.buffer, result.weights.byteOffset, result.weights.byteLength));
    const { evaluation } = await evaluateClips(pool, result.weights, job.test, [...LABELS], config.evalPositions, config.melFmin);
    return {
      id: job.id,
      title: job.title,
      kind: 'network',
      evaluations: { aernet: evaluation },
      seconds: { aernet: Math.round(result.seconds) },
      ...sides(job),
      network: {
        variant: config.model.variant,
        validationSpeakers: speakersOf(split.validation),
        bestEpoch: result.bestEpoch,
        epochsRun: result.history.length,
        ended: result.ended,
      },
      ...(await underConditions(job, [networkScorer(pool, result.weights, 'aernet', job.config.windowInput, job.config.melFmin)], options.conditions)),
    };
  } finally {
    await pool.close();
  }
}

/** A member's kept weights, checked against the model's size. */
async function memberWeights(out: string, id: string, expected: number): Promise<Float32Array> {
  const file = weightsFile(out, id);
  const bytes = await fs.readFile(file).catch(() => {
    throw new AerError('invalid_checkpoint', `${file} is missing: the ensemble's member ${id} did not keep its weights`, {
      hint: `delete ${path.join(out, `${id}.json`)} to train that member again`,
    });
  });
  if (bytes.byteLength !== expected * 4)
    throw new AerError('invalid_checkpoint', `${file} holds ${bytes.byteLength} bytes, not the model's ${expected} weights`, {
      hint: `delete it and ${path.join(out, `${id}.json`)} to train that member again`,
    });
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/**
 * The fold's networks as one model, scored on the clips and under every
 * condition: the kept weights joined into the ensemble graph the service
 * serves (model/ensemble.ts), on replicas of that graph.
 */
async function ensembleJob(job: Job, out: string, index: number, total: number, options: RunOptions): Promise<JobResult> {
  const { config } = job;
  const members = job.members ?? [];
  options.events?.onJob?.(job, index, total, 'start');
  const weights = await ensembleWeights(job, out);
  const started = performance.now();
  const pool = await ReplicaPool.start(config.workers, config.model, config.backend, members.length);
  try {
    const { evaluation } = await evaluateClips(pool, weights, job.test, [...LABELS], config.evalPositions, config.melFmin);
    return {
      id: job.id,
      title: job.title,
      kind: 'ensemble',
      evaluations: { ensemble: evaluation },
      ...(await underConditions(job, [networkScorer(pool, weights, 'ensemble', config.windowInput, config.melFmin)], options.conditions)),
      seconds: { ensemble: Math.round((performance.now() - started) / 1000) },
      ...sides(job),
      members,
    };
  } finally {
    await pool.close();
  }
}

/** The ensemble graph's weights, from its members' kept weights (each checked against the network's size). */
async function ensembleWeights(job: Job, out: string): Promise<Float32Array> {
  const { config } = job;
  await selectBackend(config.backend);
  const networks: LayersModel[] = [];
  try {
    for (const id of job.members ?? []) {
      const network = buildAerNet(config.model);
      networks.push(network);
      unpackWeights(network, await memberWeights(out, id, weightCount(network.weights)));
    }
    const ensemble = joinEnsemble(networks, config.model);
    const weights = packWeights(ensemble);
    ensemble.dispose();
    return weights;
  } finally {
    for (const network of networks) network.dispose();
  }
}
