/**
 * What `aer crossval` and `aer ablation` share: read the data, plan the
 * jobs, run them with progress (resumable with --resume), then write
 * summary.json and report.md to --out and print the table.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { writeAtomically } from '../model/model-files.ts';
import type { LoadedClip } from '../train/clip-store.ts';
import { recipeOf, type TrainConfig } from '../train/config.ts';
import { prepareData, summarizeData } from '../train/data.ts';
import type { Condition } from '../train/conditions/names.ts';
import { type Job, type JobResult, runJobs } from '../train/experiments/run-jobs.ts';
import {
  conditionTable,
  type ConditionSummary,
  type MethodSummary,
  perRunTable,
  summarize,
  summarizeConditions,
  summaryTable,
} from '../train/experiments/summary.ts';
import { VadBatcher } from '../stream/vad.ts';
import { TrainingProgress } from './progress.ts';
import { printJson } from './run.ts';
import { interruptOnSigint, trainConfigFrom, type TrainingFlags } from './train-options.ts';

export interface ExperimentFlags extends TrainingFlags {
  out: string;
  resume?: boolean;
}

export interface Experiment {
  name: string;
  plan(clips: LoadedClip[], config: TrainConfig): Job[];
  /** The report's text around the tables: a title and what was done. */
  describe(config: TrainConfig, jobs: Job[]): string;
  /** Figures to print beside ours, by method name. */
  paper?: Record<string, string>;
  /** Checks before any job runs (options that refer to other files). */
  check?(config: TrainConfig, data: Record<string, unknown>[]): Promise<void>;
  /** What to do with the finished experiment's summaries, besides the report. */
  finished?(summaries: MethodSummary[], command: string, conditions: ConditionSummary | undefined): Promise<void>;
  /** Also measure every job's models under these conditions. */
  conditions?: Condition[];
}

const JOB_NAMES: Record<Job['kind'], (job: Job) => string> = {
  network: (job) => `AER-Net (${job.config.model.variant})`,
  ensemble: (job) => `AER-Net, ${job.members?.length ?? 0} runs averaged`,
  baselines: () => 'SVM + random forest',
};

export function addExperimentOptions(command: Command): Command {
  return command
    .requiredOption('-o, --out <dir>', "folder for each job's result, checkpoints of the running job, summary.json and report.md")
    .option('--resume', 'continue the interrupted experiment in --out (same options and data)');
}

export async function runExperiment(experiment: Experiment, flags: ExperimentFlags): Promise<void> {
  const config = trainConfigFrom(flags);
  let progress = new TrainingProgress(config.epochs);
  const controller = interruptOnSigint(() => progress.message('stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)...'));
  const data = await prepareData(config.data, config.dataset, { cacheDir: flags.cache, onProgress: (d, t) => progress.bar('reading clips', d, t) });
  await experiment.check?.(config, summarizeData(data));
  const jobs = experiment.plan(data.clips, config);
  const conditions = experiment.conditions ?? [];
  const vad = conditions.includes('stream') ? await VadBatcher.load() : undefined;
  let run: Awaited<ReturnType<typeof runJobs>>;
  try {
    run = await runJobs(jobs, flags.out, {
      resume: flags.resume,
      signal: controller.signal,
      conditions: { names: conditions, vad, onRow: (row) => progress.message(`  measuring under ${row}`) },
      events: {
        onJob: (job, index, total, state) => {
          progress = new TrainingProgress(config.epochs);
          const what =
            state === 'done-before'
              ? 'done before, result read back'
              : state === 'resume'
                ? 'resuming its checkpoint'
                : `${job.train.length} training clips, ${job.test.length} test clips`;
          progress.message(`[${index + 1}/${total}] ${JOB_NAMES[job.kind](job)}, ${job.title}: ${what}`);
        },
        onStep: (p) => progress.step(p),
        onEpoch: (record, info) => progress.epoch(record, info),
        onJobDone: (result) =>
          progress.message(
            `  ${Object.entries(result.evaluations)
              .map(([k, e]) => `${k} ${(e.accuracy * 100).toFixed(1)} % (F1 ${e.macro_f1.toFixed(3)})`)
              .join(', ')}`,
          ),
      },
    });
  } finally {
    await vad?.dispose();
  }
  const { results, interrupted } = run;
  if (interrupted) {
    progress.message(`interrupted: finished jobs and a checkpoint are in ${flags.out}; continue with the same command and --resume`);
    if (flags.json) printJson({ ended: 'interrupted', out: flags.out });
    process.exitCode = 130;
    return;
  }
  const summaries = summarize(results);
  const byCondition = summarizeConditions(results);
  const report = experimentReport(experiment, config, jobs, summaries, data.skipped, results, byCondition);
  await writeAtomically(
    path.join(flags.out, 'summary.json'),
    `${JSON.stringify({ experiment: experiment.name, command: `aer ${process.argv.slice(2).join(' ')}`, recipe: recipeOf(config), data: summarizeData(data), summaries, conditions: byCondition, results }, null, 1)}\n`,
  );
  await writeAtomically(path.join(flags.out, 'report.md'), report);
  await experiment.finished?.(summaries, `aer ${process.argv.slice(2).join(' ')}`, byCondition);
  if (flags.json) printJson({ experiment: experiment.name, out: flags.out, summaries, conditions: byCondition });
  else
    process.stdout.write(
      `\n${summaryTable(summaries, experiment.paper)}\n${byCondition ? `\nUnder the service's conditions (accuracy, mean ± std over runs):\n\n${conditionTable(byCondition)}\n` : ''}\nreport written to ${flags.out}/report.md\n`,
    );
}

function experimentReport(
  experiment: Experiment,
  config: TrainConfig,
  jobs: Job[],
  summaries: MethodSummary[],
  skipped: Record<string, number>,
  results: JobResult[],
  byCondition: ConditionSummary | undefined,
): string {
  const network = results.filter((r) => r.network);
  return [
    experiment.describe(config, jobs),
    '',
    `Command: \`aer ${process.argv.slice(2).join(' ')}\``,
    '',
    `Skipped: ${
      Object.entries(skipped)
        .map(([k, n]) => `${n} ${k}`)
        .join('; ') || 'none'
    }.`,
    '',
    '## Summary',
    '',
    summaryTable(summaries, experiment.paper),
    '',
    ...(byCondition
      ? [
          "## Under the service's conditions",
          '',
          'Accuracy (mean ± std over the runs) and macro-F1 of each method on each condition row, the same windows for every method (rows: docs/evaluation.md).',
          '',
          conditionTable(byCondition),
          '',
        ]
      : []),
    // One run per method (the ablation) is all in the summary already.
    ...(summaries.some((s) => s.runs.length > 1) ? ['## Per run', '', perRunTable(summaries), ''] : []),
    ...(network.length > 0
      ? [
          '## Network runs',
          '',
          '| run | validation speakers (early stopping) | best epoch | epochs run | ended |',
          '|---|---|---:|---:|---|',
          ...network.map(
            (r) =>
              `| ${r.title} (${r.network!.variant}) | ${r.network!.validationSpeakers.join(', ') || 'none: trained on all its clips'} | ${r.network!.bestEpoch} | ${r.network!.epochsRun} | ${r.network!.ended} |`,
          ),
          '',
        ]
      : []),
  ].join('\n');
}
