/** `aer eval`: a model's accuracy, per-class and macro precision/recall/F1 and confusion matrix on labelled clips. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { AerError } from '../errors.ts';
import { BACKENDS, type BackendChoice, selectBackend } from '../model/backend.ts';
import { DEFAULT_MODEL_DIR, narrowbandFailure, narrowbandModelDir } from '../model/default-model.ts';
import { loadModelDir } from '../model/model-dir.ts';
import { melFminOf, windowInputOf, writeAtomically } from '../model/model-files.ts';
import { countSkip } from '../train/datasets/clip.ts';
import { checkDatasetName } from '../train/datasets/scan.ts';
import { prepareData } from '../train/data.ts';
import { type ConditionResults, evaluateConditions, networkScorer } from '../train/conditions/evaluate.ts';
import { CONDITIONS, type Condition, NARROWBAND_ROWS, ROW_DESCRIPTIONS } from '../train/conditions/names.ts';
import { memberCount } from '../model/ensemble.ts';
import { packWeights } from '../model/weights.ts';
import { checkCompanionLabels } from '../stream/served-models.ts';
import { VadBatcher } from '../stream/vad.ts';
import type { Evaluation } from '../train/metrics.ts';
import { defaultWorkerCount, ReplicaPool } from '../train/parallel/pool.ts';
import { overlapNote, trainedSpeakerOverlap } from '../train/trained-speakers.ts';
import { confusionTable, metricsTable, skippedList } from '../train/report/markdown.ts';
import { confusionMatrixSvg } from '../train/report/svg.ts';
import { TrainingProgress } from './progress.ts';
import { action, conditionList, parseNumberOption, printJson } from './run.ts';

interface EvalFlags {
  model: string;
  narrowbandModel?: string;
  data: string[];
  dataset?: string;
  positions: number;
  report?: string;
  workers: number;
  backend: BackendChoice;
  cache?: string;
  json?: boolean;
  conditions: Condition[];
}

/** The seed of the conditions' random draws (gaps, noise, calls): fixed, so two evaluations see the same audio. */
const EVAL_SEED = 1;

function textSummary(evaluation: Evaluation, skipped: number): string {
  const lines = [
    `accuracy ${(evaluation.accuracy * 100).toFixed(1)} %  macro-F1 ${evaluation.macro_f1.toFixed(3)}  macro precision ${evaluation.macro_precision.toFixed(3)}  macro recall ${evaluation.macro_recall.toFixed(3)}  (n = ${evaluation.n}, skipped ${skipped})`,
    '',
  ];
  lines.push(`${'class'.padEnd(10)} precision  recall      f1  support`);
  for (const l of evaluation.labels) {
    const c = evaluation.per_class[l];
    lines.push(
      `${l.padEnd(10)} ${c.precision.toFixed(3).padStart(9)} ${c.recall.toFixed(3).padStart(7)} ${c.f1.toFixed(3).padStart(7)} ${String(c.support).padStart(8)}`,
    );
  }
  lines.push('', `confusion (rows: true, columns: predicted ${evaluation.labels.join(', ')})`);
  evaluation.confusion.forEach((row, i) => lines.push(`${evaluation.labels[i].padEnd(10)} ${row.map((v) => String(v).padStart(5)).join('')}`));
  return `${lines.join('\n')}\n`;
}

/** The scorer of the telephone-band companion, when one is evaluated beside the model. */
const NARROWBAND = 'narrowband';

/** What the service answers on a row: the companion's figure on the rows it hears, when there is one. */
function servedScorer(row: string, byMethod: Record<string, Evaluation>): string {
  return NARROWBAND_ROWS.includes(row) && byMethod[NARROWBAND] ? NARROWBAND : 'aernet';
}

const percent = (e: Evaluation) => `${(e.accuracy * 100).toFixed(1)} %`;

/** One line per condition row: accuracy, macro-F1 and how many windows or clips it scored; with a companion, its accuracy too. */
function conditionLines(results: ConditionResults, narrowband: boolean): string {
  const lines = ['', `${'condition'.padEnd(26)} accuracy  macro-F1       n${narrowband ? '  narrowband model' : ''}`];
  for (const [row, byMethod] of Object.entries(results.rows)) {
    const e = byMethod.aernet;
    const companion = byMethod[NARROWBAND]
      ? `  ${percent(byMethod[NARROWBAND]).padStart(16)}${servedScorer(row, byMethod) === NARROWBAND ? ' (served)' : ''}`
      : '';
    lines.push(
      `${row.padEnd(26)} ${percent(e).padStart(8)} ${e.macro_f1.toFixed(3).padStart(9)} ${String(e.n).padStart(7)}${companion}${e.unlabelled ? `  (${e.unlabelled} heard as silence)` : ''}`,
    );
  }
  for (const [condition, why] of Object.entries(results.failed)) lines.push(`${condition.padEnd(26)} not measured: ${why}`);
  return `${lines.join('\n')}\n`;
}

function conditionsMarkdown(results: ConditionResults, narrowband: boolean): string {
  const companion = (m: Record<string, Evaluation>, row: string) =>
    narrowband ? ` ${percent(m[NARROWBAND])}${servedScorer(row, m) === NARROWBAND ? ' (served)' : ''} |` : '';
  return [
    "## Under the service's conditions",
    '',
    ...(narrowband ? ['The narrowband model hears what reaches the service at 8 kHz; its figures on those rows are what the service answers.', ''] : []),
    `| condition | accuracy | macro-F1 | n |${narrowband ? ' narrowband model |' : ''} what |`,
    `|---|---:|---:|---:|${narrowband ? '---:|' : ''}---|`,
    ...Object.entries(results.rows).map(
      ([row, m]) => `| ${row} | ${percent(m.aernet)} | ${m.aernet.macro_f1.toFixed(3)} | ${m.aernet.n} |${companion(m, row)} ${ROW_DESCRIPTIONS[row] ?? ''} |`,
    ),
    ...Object.entries(results.failed).map(([condition, why]) => `| ${condition} | | | | not measured: ${why} |`),
  ].join('\n');
}

async function run(flags: EvalFlags): Promise<void> {
  const progress = new TrainingProgress(0);
  await selectBackend(flags.backend);
  const loaded = await loadModelDir(flags.model);
  const labels = loaded.metadata.labels;
  const data = await prepareData(flags.data, flags.dataset === undefined ? undefined : checkDatasetName(flags.dataset), {
    cacheDir: flags.cache,
    onProgress: (d, t) => progress.bar('reading clips', d, t),
  });
  const skipped = { ...data.skipped };
  const clips = data.clips.filter((c) => {
    if (labels.includes(c.label)) return true;
    countSkip(skipped, `label ${c.label} (the model does not know it)`);
    return false;
  });
  if (clips.length === 0) throw new AerError('invalid_dataset', `none of the clips has a label the model knows (${labels.join(', ')})`);
  // The companion is read and checked before any worker starts, so a refusal leaves nothing running.
  const companionDir = narrowbandModelDir(flags.narrowbandModel, flags.model);
  const companion = companionDir ? await loadModelDir(companionDir).catch((e: unknown) => Promise.reject(narrowbandFailure(e))) : undefined;
  if (companion) checkCompanionLabels(labels, companion.metadata.labels, 'the model');
  const workers = Math.max(1, Math.min(flags.workers, Math.ceil(clips.length / 8)));
  // An ensemble's replicas hold all its networks, and score its averaged outputs.
  const members = memberCount(loaded.model);
  const pool = await ReplicaPool.start(workers, loaded.metadata.options, flags.backend, members);
  // The companion shares the pool when it has the same architecture (only its weights differ).
  const sameShape =
    companion && JSON.stringify(companion.metadata.options) === JSON.stringify(loaded.metadata.options) && memberCount(companion.model) === members;
  const companionPool =
    companion && !sameShape
      ? await ReplicaPool.start(workers, companion.metadata.options, flags.backend, memberCount(companion.model)).catch(async (error: unknown) => {
          await pool.close();
          throw error;
        })
      : pool;
  const vad = flags.conditions.includes('stream') ? await VadBatcher.load() : undefined;
  let results: ConditionResults;
  try {
    const inputs = { test: clips, others: [], labels, positions: flags.positions, seed: EVAL_SEED, vad };
    // Each model takes the windows as its aer.json asks.
    const scorers = [networkScorer(pool, packWeights(loaded.model), 'aernet', windowInputOf(loaded.metadata), melFminOf(loaded.metadata))];
    if (companion)
      scorers.push(networkScorer(companionPool, packWeights(companion.model), NARROWBAND, windowInputOf(companion.metadata), melFminOf(companion.metadata)));
    results = await evaluateConditions(flags.conditions, inputs, scorers, (row) => progress.message(`measuring under ${row}`));
  } finally {
    await pool.close();
    if (companionPool !== pool) await companionPool.close();
    await vad?.dispose();
  }
  const evaluation = results.rows.clean?.aernet;
  const conditions = Object.fromEntries(Object.entries(results.rows).map(([row, m]) => [row, m.aernet]));
  const byCompanion = (pick: (row: string, m: Record<string, Evaluation>) => string) =>
    Object.fromEntries(Object.entries(results.rows).map(([row, m]) => [row, m[pick(row, m)]]));
  const skippedCount = Object.values(skipped).reduce((a, b) => a + b, 0);
  const trainedSpeakers = trainedSpeakerOverlap(clips, loaded.metadata.training);
  const note = overlapNote(trainedSpeakers, clips.length);
  if (flags.report) {
    await fs.mkdir(flags.report, { recursive: true });
    const title = `${path.basename(path.resolve(flags.model))} on ${flags.data.map((d) => path.basename(d)).join(' + ')}`;
    if (evaluation) await writeAtomically(path.join(flags.report, 'confusion.svg'), confusionMatrixSvg(evaluation, title));
    await writeAtomically(
      path.join(flags.report, 'report.md'),
      [
        `# Evaluation of ${flags.model}`,
        '',
        `Data: ${flags.data.join(', ')}; ${clips.length} clips, ${flags.positions} window position(s) each; skipped: ${skippedList(skipped)}.`,
        '',
        ...(note ? [`Note: ${note}.`, ''] : []),
        ...(evaluation ? ['## Clean clips', '', metricsTable(evaluation), '', confusionTable(evaluation), '', '![confusion matrix](confusion.svg)', ''] : []),
        conditionsMarkdown(results, companion !== undefined),
        '',
      ].join('\n'),
    );
  }
  if (flags.json)
    printJson({
      ...(evaluation ?? {}),
      conditions,
      ...(companion
        ? { narrowband_model: companionDir, narrowband_conditions: byCompanion(() => NARROWBAND), served_conditions: byCompanion(servedScorer) }
        : {}),
      failed_conditions: results.failed,
      skipped: skippedCount,
      skipped_reasons: skipped,
      positions: flags.positions,
      model: flags.model,
      trained_speakers: trainedSpeakers,
    });
  else
    process.stdout.write(
      (evaluation ? textSummary(evaluation, skippedCount) : '') +
        conditionLines(results, companion !== undefined) +
        (note ? `\nnote: ${note}\n` : '') +
        (flags.report ? `\nreport written to ${flags.report}/report.md\n` : ''),
    );
}

export function registerEval(command: Command): void {
  command
    .option('-m, --model <dir>', 'model directory', DEFAULT_MODEL_DIR)
    .option(
      '--narrowband-model <dir>',
      'the telephone-band model measured beside it, whose figures on the 8 kHz rows are what the service answers (none: without; default: models/telephone beside the shipped model)',
    )
    .requiredOption('-d, --data <[name=]dir>', 'a dataset folder; repeat to combine', (v: string, p: string[]) => [...p, v], [] as string[])
    .option('--dataset <name>', 'how to read --data folders that name none (emodb, cremad, tess, ravdess, folders)')
    .option('--positions <n>', 'windows per clip averaged, the clip placed from the window start to its end', parseNumberOption('--positions', 1, 16), 3)
    .option('--report <dir>', 'also write the confusion matrix (SVG) and a Markdown report there')
    .option('--workers <n>', 'inference threads', parseNumberOption('--workers', 1, 64), defaultWorkerCount())
    .addOption(new Option('--backend <name>', 'TF.js backend').choices([...BACKENDS]).default('auto'))
    .option('--cache <dir>', 'clip cache folder (default: ~/.cache/aer-stream/clips, or $AER_CACHE_DIR)')
    .option('--conditions <list>', `under which conditions: all, or some of ${CONDITIONS.join(', ')} (docs/evaluation.md)`, conditionList, [...CONDITIONS])
    .option('--json', 'print the metrics as JSON')
    .action(action(run));
}
