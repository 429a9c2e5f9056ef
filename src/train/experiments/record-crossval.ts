/**
 * A model trained on every speaker has no held-out clips of its own; its
 * honest figures are those of a cross-validation of the same recipe on the
 * same data. `aer crossval --record-in MODEL` checks that the model was
 * trained with exactly the recipe and data cross-validated, and records the
 * figures in its aer.json and report.md.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { AerError } from '../../errors.ts';
import { writeAtomically } from '../../model/model-files.ts';
import { withLaterAugmentOff } from '../augment.ts';
import { conditionTable, type ConditionSummary, type MethodSummary, summaryTable } from './summary.ts';

export interface CrossvalRecord {
  command: string;
  folds: string[];
  methods: Omit<MethodSummary, 'pooled'>[];
  /** The network's confusion matrix over all folds' test clips. */
  pooled_confusion: { labels: string[]; confusion: number[][] };
  /** Every method under the service's conditions, when the cross-validation measured them. */
  conditions?: ConditionSummary;
}

const REPORT_SECTION = '## Cross-validation of this recipe';

/** Differences between two JSON values as `path: a there, b here` (keys compared in sorted order). */
function differences(there: unknown, here: unknown, at = ''): string[] {
  if (typeof there === 'object' && there !== null && typeof here === 'object' && here !== null && !Array.isArray(there) && !Array.isArray(here)) {
    const keys = [...new Set([...Object.keys(there), ...Object.keys(here)])].sort();
    return keys.flatMap((k) => differences((there as Record<string, unknown>)[k], (here as Record<string, unknown>)[k], at ? `${at}.${k}` : k));
  }
  return JSON.stringify(there) === JSON.stringify(here) ? [] : [`${at}: ${JSON.stringify(there)} in the model, ${JSON.stringify(here)} here`];
}

/** The data as summarizeData describes it, less where the folders lie. */
const withoutRoots = (data: Record<string, unknown>[]) => data.map(({ root: _root, ...rest }) => rest);

async function modelTraining(modelDir: string): Promise<{ raw: Record<string, unknown>; config: unknown; data: Record<string, unknown>[] }> {
  const file = path.join(modelDir, 'aer.json');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    throw new AerError('invalid_model', `${file} is missing or corrupt: --record-in takes a model directory written by aer train`);
  }
  const training = raw.training as { config?: unknown; data?: Record<string, unknown>[] } | undefined;
  if (!training?.config || !training.data)
    throw new AerError('invalid_model', `${file} does not record its training recipe (trained by an older aer-stream)`, {
      hint: 'train it again with this version',
    });
  return { raw, config: training.config, data: training.data };
}

/**
 * The recipe a model answers with: its training's, but the window input it
 * is served with (aer.json's `window_input`). Serving as spans changes no
 * weight (the training windows are clips, whole either way), so a model
 * trained whole and served as spans is what a cross-validation with
 * `--window-input spans` measures.
 */
function servedRecipe(raw: Record<string, unknown>, config: unknown): unknown {
  const { windowInput: _trained, ...rest } = withLaterAugmentOff(config) as Record<string, unknown>;
  return raw.window_input === 'spans' ? { ...rest, windowInput: 'spans' } : rest;
}

/** Refuses, before any training, a model trained with another recipe or on other data, or served otherwise than measured. */
export async function checkRecordable(modelDir: string, recipe: unknown, data: Record<string, unknown>[]): Promise<void> {
  const model = await modelTraining(modelDir);
  const recipeDiffs = differences(servedRecipe(model.raw, model.config), JSON.parse(JSON.stringify(recipe)));
  if (recipeDiffs.length > 0) {
    throw new AerError('invalid_argument', `${modelDir} was trained with another recipe (${recipeDiffs.join('; ')})`, {
      hint: 'cross-validate with the options that trained it (its aer.json, training.command)',
    });
  }
  const dataDiffs = differences(withoutRoots(model.data), withoutRoots(data));
  if (dataDiffs.length > 0)
    throw new AerError('invalid_argument', `${modelDir} was trained on other data (${dataDiffs.slice(0, 3).join('; ')})`, {
      hint: 'cross-validate on the --data folders that trained it',
    });
}

export async function recordCrossval(modelDir: string, command: string, summaries: MethodSummary[], conditions?: ConditionSummary): Promise<CrossvalRecord> {
  const model = await modelTraining(modelDir);
  const network = summaries.find((s) => s.method.startsWith('AER-Net'));
  const record: CrossvalRecord = {
    command,
    folds: network?.runs.map((r) => r.title) ?? [],
    methods: summaries.map(({ pooled: _pooled, ...rest }) => rest),
    pooled_confusion: network ? { labels: network.pooled.labels, confusion: network.pooled.confusion } : { labels: [], confusion: [] },
    ...(conditions ? { conditions } : {}),
  };
  const metrics = { ...((model.raw.metrics as Record<string, unknown> | undefined) ?? {}), crossval: record };
  await writeAtomically(path.join(modelDir, 'aer.json'), `${JSON.stringify({ ...model.raw, metrics }, null, 2)}\n`);
  const reportFile = path.join(modelDir, 'report.md');
  const report = await fs.readFile(reportFile, 'utf8').catch(() => '');
  const before = report.includes(REPORT_SECTION) ? report.slice(0, report.indexOf(REPORT_SECTION)).trimEnd() : report.trimEnd();
  const section = [
    REPORT_SECTION,
    '',
    `Speakers held out in turn (${record.folds.join('; ')}), measured by \`${command}\`:`,
    '',
    summaryTable(record.methods),
    '',
    ...(conditions ? ["Under the service's conditions (docs/evaluation.md):", '', conditionTable(conditions), ''] : []),
  ].join('\n');
  await writeAtomically(reportFile, `${before ? `${before}\n\n` : ''}${section}`);
  return record;
}
