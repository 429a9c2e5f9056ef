/**
 * A model trained on every speaker has no held-out clips of its own; its
 * honest figures are those of a cross-validation of the same recipe on the
 * same data. This reads an `aer crossval` folder, checks that it measured
 * exactly the recipe and data being trained, and gives the figures to record
 * in the model's aer.json and report.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { AerError } from '../../errors.ts';
import { recipeOf, type TrainConfig } from '../config.ts';
import type { MethodSummary } from './summary.ts';

export interface CrossvalMetrics {
  command: string;
  folds: string[];
  methods: Omit<MethodSummary, 'pooled'>[];
  /** The network's confusion matrix over all folds' test clips. */
  pooled_confusion: { labels: string[]; confusion: number[][] };
}

interface CrossvalSummary {
  experiment: string;
  command: string;
  recipe?: Record<string, unknown>;
  data: Record<string, unknown>[];
  summaries: MethodSummary[];
}

/** Differences between two JSON values as `path: a vs b` lines (keys compared in sorted order). */
function differences(a: unknown, b: unknown, at = ''): string[] {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [`${at}: ${JSON.stringify(a)} there, ${JSON.stringify(b)} here`];
}

/** The data as summarizeData describes it, less where the folders lie. */
const withoutRoots = (data: Record<string, unknown>[]) => data.map(({ root: _root, ...rest }) => rest);

export async function readCrossvalMetrics(dir: string, config: TrainConfig, data: Record<string, unknown>[]): Promise<CrossvalMetrics> {
  const file = path.join(dir, 'summary.json');
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw new AerError('invalid_argument', `${file} is missing: --crossval takes the --out folder of a finished \`aer crossval\``, { hint: 'run aer crossval with the same recipe first, or leave --crossval out' });
  });
  let summary: CrossvalSummary;
  try {
    summary = JSON.parse(text) as CrossvalSummary;
  } catch {
    throw new AerError('invalid_argument', `${file} is not valid JSON`, { hint: 'rerun that cross-validation with --resume to write it again' });
  }
  if (summary.experiment !== 'crossval' || !Array.isArray(summary.summaries) || summary.recipe === undefined) {
    throw new AerError('invalid_argument', `${file} is not the summary of an aer crossval run with its recipe`, { hint: 'rerun that cross-validation with --resume to write its summary again' });
  }
  const recipeDiffs = differences(summary.recipe, JSON.parse(JSON.stringify(recipeOf(config))));
  if (recipeDiffs.length > 0) {
    throw new AerError('invalid_argument', `the cross-validation in ${dir} measured another recipe (${recipeDiffs.join('; ')})`, { hint: 'train with the options that cross-validation used, or cross-validate this recipe' });
  }
  const dataDiffs = differences(withoutRoots(summary.data), withoutRoots(data));
  if (dataDiffs.length > 0) throw new AerError('invalid_argument', `the cross-validation in ${dir} used other data (${dataDiffs.slice(0, 3).join('; ')})`, { hint: 'cross-validate on the same --data folders' });
  const network = summary.summaries.find((s) => s.method.startsWith('AER-Net'));
  return {
    command: summary.command,
    folds: network?.runs.map((r) => r.title) ?? [],
    methods: summary.summaries.map(({ pooled: _pooled, ...rest }) => rest),
    pooled_confusion: network ? { labels: network.pooled.labels, confusion: network.pooled.confusion } : { labels: [], confusion: [] },
  };
}
