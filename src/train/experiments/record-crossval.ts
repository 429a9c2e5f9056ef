/**
 * A model trained on every speaker has no held-out clips of its own; its
 * honest figures are those of a cross-validation of the same recipe on the
 * same data. `aer crossval --record-in MODEL` checks that the model was
 * trained with exactly the recipe and data cross-validated, and records the
 * figures in its aer.json and report.md. An ensemble of N networks (aer
 * ensemble) is what `--repeats N --ensemble` measures: its network k must be
 * the recipe with seed + k.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { AerError } from '../../errors.ts';
import { writeAtomically } from '../../model/model-files.ts';
import { withLaterAugmentOff } from '../augment.ts';
import { conditionTable, type ConditionSummary, ensembleMethod, type MethodSummary, summaryTable } from './summary.ts';

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

interface NetworkTraining {
  config: unknown;
  data: Record<string, unknown>[];
}

/** aer.json and how each of its networks was trained: one, or an ensemble's in order. */
async function modelTraining(modelDir: string): Promise<{ raw: Record<string, unknown>; networks: NetworkTraining[] }> {
  const file = path.join(modelDir, 'aer.json');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    throw new AerError('invalid_model', `${file} is missing or corrupt: --record-in takes a model directory written by aer train`);
  }
  type Training = { config?: unknown; data?: Record<string, unknown>[]; ensemble_of?: Training[] };
  const training = raw.training as Training | undefined;
  const networks = training?.ensemble_of ?? (training ? [training] : []);
  if (networks.length === 0 || networks.some((t) => !t?.config || !t.data))
    throw new AerError('invalid_model', `${file} does not record its training recipe (trained by an older aer-stream)`, {
      hint: 'train it again with this version',
    });
  return { raw, networks: networks as NetworkTraining[] };
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

/**
 * Refuses, before any training, a model trained with another recipe or on
 * other data, or served otherwise than measured; `networks`: how many the
 * cross-validation averages (--repeats with --ensemble), 1 otherwise.
 */
export async function checkRecordable<Recipe extends { seed: number }>(
  modelDir: string,
  recipe: Recipe,
  data: Record<string, unknown>[],
  networks = 1,
): Promise<void> {
  const model = await modelTraining(modelDir);
  const count = model.networks.length;
  if (count !== networks)
    throw new AerError(
      'invalid_argument',
      `${modelDir} holds ${count} network(s), and this cross-validation measures ${networks === 1 ? 'one' : `${networks} averaged`}`,
      { hint: count > 1 ? `cross-validate its recipe with --repeats ${count} --ensemble` : 'leave --repeats and --ensemble out' },
    );
  model.networks.forEach((network, k) => {
    const which = count > 1 ? `network ${k + 1} of ${modelDir}` : modelDir;
    const recipeDiffs = differences(servedRecipe(model.raw, network.config), JSON.parse(JSON.stringify({ ...recipe, seed: recipe.seed + k })));
    if (recipeDiffs.length > 0) {
      throw new AerError('invalid_argument', `${which} was trained with another recipe (${recipeDiffs.join('; ')})`, {
        hint: 'cross-validate with the options that trained it (its aer.json, training.command)',
      });
    }
    const dataDiffs = differences(withoutRoots(network.data), withoutRoots(data));
    if (dataDiffs.length > 0)
      throw new AerError('invalid_argument', `${which} was trained on other data (${dataDiffs.slice(0, 3).join('; ')})`, {
        hint: 'cross-validate on the --data folders that trained it',
      });
  });
}

/** `networks` above 1: the model is an ensemble, and its figures are the averaged networks' (listed first). */
export async function recordCrossval(
  modelDir: string,
  command: string,
  summaries: MethodSummary[],
  conditions?: ConditionSummary,
  networks = 1,
): Promise<CrossvalRecord> {
  const model = await modelTraining(modelDir);
  const network = networks > 1 ? summaries.find((s) => s.method === ensembleMethod(networks)) : summaries.find((s) => s.method.startsWith('AER-Net'));
  const methods = network ? [network, ...summaries.filter((s) => s !== network)] : summaries;
  const record: CrossvalRecord = {
    command,
    folds: network?.runs.map((r) => r.title) ?? [],
    methods: methods.map(({ pooled: _pooled, ...rest }) => rest),
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
