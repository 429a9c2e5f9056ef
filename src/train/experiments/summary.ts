/** Per method over an experiment's jobs: each run's figures, their mean and spread, and the pooled confusion matrix. */
import { CONDITION_ROWS } from '../conditions/names.ts';
import { evaluate, type Evaluation } from '../metrics.ts';
import type { JobResult } from './run-jobs.ts';

export interface RunFigures {
  title: string;
  accuracy: number;
  macro_f1: number;
  n: number;
}

export interface MethodSummary {
  method: string;
  runs: RunFigures[];
  mean: { accuracy: number; macro_f1: number };
  /** Sample standard deviation over the runs (0 for one run). */
  std: { accuracy: number; macro_f1: number };
  min_accuracy: number;
  max_accuracy: number;
  /** All runs' test clips counted together. */
  pooled: Evaluation;
}

const METHOD_NAMES: Record<string, string> = { svm: 'SVM (PCA 200, RBF)', forest: 'Random forest (300 trees)' };

/** The method name of a fold's `networks` runs averaged (crossval --ensemble). */
export const ensembleMethod = (networks: number) => `AER-Net, ${networks} runs averaged`;

export function methodName(key: string, result: JobResult): string {
  if (key === 'aernet') return `AER-Net (${result.network?.variant ?? 'full'})`;
  if (key === 'ensemble') return ensembleMethod(result.members?.length ?? 0);
  return METHOD_NAMES[key] ?? key;
}

function spread(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = values.length < 2 ? 0 : Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
  return { mean, std };
}

function pool(evaluations: Evaluation[]): Evaluation {
  const labels = evaluations[0].labels;
  const truth: number[] = [];
  const predicted: number[] = [];
  for (const e of evaluations)
    e.confusion.forEach((row, t) =>
      row.forEach((count, p) => {
        for (let i = 0; i < count; i++) truth.push(t), predicted.push(p);
      }),
    );
  return evaluate(labels, truth, predicted);
}

export function summarize(results: JobResult[]): MethodSummary[] {
  const byMethod = new Map<string, { title: string; evaluation: Evaluation }[]>();
  for (const r of results) {
    for (const [key, evaluation] of Object.entries(r.evaluations)) {
      const name = methodName(key, r);
      byMethod.set(name, [...(byMethod.get(name) ?? []), { title: r.title, evaluation }]);
    }
  }
  return [...byMethod.entries()].map(([method, runs]) => {
    const accuracy = spread(runs.map((r) => r.evaluation.accuracy));
    const f1 = spread(runs.map((r) => r.evaluation.macro_f1));
    return {
      method,
      runs: runs.map((r) => ({ title: r.title, accuracy: r.evaluation.accuracy, macro_f1: r.evaluation.macro_f1, n: r.evaluation.n })),
      mean: { accuracy: accuracy.mean, macro_f1: f1.mean },
      std: { accuracy: accuracy.std, macro_f1: f1.std },
      min_accuracy: Math.min(...runs.map((r) => r.evaluation.accuracy)),
      max_accuracy: Math.max(...runs.map((r) => r.evaluation.accuracy)),
      pooled: pool(runs.map((r) => r.evaluation)),
    };
  });
}

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

/** One row per method: mean ± std, range, macro-F1, and (where given) the paper's figure. */
export function summaryTable(summaries: Omit<MethodSummary, 'pooled'>[], paper: Record<string, string> = {}): string {
  const withPaper = Object.keys(paper).length > 0;
  const several = summaries.some((s) => s.runs.length > 1);
  const head = [
    'method',
    several ? 'accuracy (mean ± std)' : 'accuracy',
    ...(several ? ['range'] : []),
    several ? 'macro-F1 (mean ± std)' : 'macro-F1',
    ...(withPaper ? ['paper'] : []),
  ];
  const rows = summaries.map((s) => [
    s.method,
    several ? `${pct(s.mean.accuracy)} ± ${(s.std.accuracy * 100).toFixed(1)}` : pct(s.mean.accuracy),
    ...(several ? [`${pct(s.min_accuracy)} – ${pct(s.max_accuracy)}`] : []),
    several ? `${s.mean.macro_f1.toFixed(3)} ± ${s.std.macro_f1.toFixed(3)}` : s.mean.macro_f1.toFixed(3),
    ...(withPaper ? [paper[s.method] ?? ''] : []),
  ]);
  return [
    `| ${head.join(' | ')} |`,
    `|---|${head
      .slice(1)
      .map(() => '---:')
      .join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** Accuracy per run (rows) and method (columns). */
export function perRunTable(summaries: MethodSummary[]): string {
  const titles = [...new Set(summaries.flatMap((s) => s.runs.map((r) => r.title)))];
  return [
    `| run | ${summaries.map((s) => s.method).join(' | ')} |`,
    `|---|${summaries.map(() => '---:').join('|')}|`,
    ...titles.map(
      (t) =>
        `| ${t} | ${summaries
          .map((s) => {
            const r = s.runs.find((x) => x.title === t);
            return r ? `${pct(r.accuracy)} (F1 ${r.macro_f1.toFixed(3)})` : '';
          })
          .join(' | ')} |`,
    ),
  ].join('\n');
}

/** Per condition row and method: the mean and spread over the runs that measured it. */
export interface ConditionSummary {
  rows: {
    row: string;
    methods: { method: string; mean: { accuracy: number; macro_f1: number }; std: { accuracy: number; macro_f1: number }; runs: number }[];
  }[];
  /** Conditions that could not be built in some run, with why. */
  failed: Record<string, string[]>;
}

export function summarizeConditions(results: JobResult[]): ConditionSummary | undefined {
  const measured = results.filter((r) => r.conditions);
  if (measured.length === 0) return undefined;
  const order = Object.values(CONDITION_ROWS).flat();
  const cells = new Map<string, Map<string, Evaluation[]>>();
  const failed: Record<string, string[]> = {};
  for (const r of measured) {
    for (const [row, byMethod] of Object.entries(r.conditions!.rows)) {
      const methods = cells.get(row) ?? new Map<string, Evaluation[]>();
      cells.set(row, methods);
      for (const [key, evaluation] of Object.entries(byMethod)) {
        const name = methodName(key, r);
        methods.set(name, [...(methods.get(name) ?? []), evaluation]);
      }
    }
    for (const [condition, why] of Object.entries(r.conditions!.failed))
      if (!failed[condition]?.includes(why!)) failed[condition] = [...(failed[condition] ?? []), why!];
  }
  const rows = [...cells.keys()].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return {
    rows: rows.map((row) => ({
      row,
      methods: [...cells.get(row)!.entries()].map(([method, evaluations]) => {
        const accuracy = spread(evaluations.map((e) => e.accuracy));
        const f1 = spread(evaluations.map((e) => e.macro_f1));
        return { method, mean: { accuracy: accuracy.mean, macro_f1: f1.mean }, std: { accuracy: accuracy.std, macro_f1: f1.std }, runs: evaluations.length };
      }),
    })),
    failed,
  };
}

/** Accuracy (mean ± std over runs, macro-F1 beside) per condition row (rows) and method (columns). */
export function conditionTable(summary: ConditionSummary): string {
  const methods = [...new Set(summary.rows.flatMap((r) => r.methods.map((m) => m.method)))];
  const cell = (m: ConditionSummary['rows'][number]['methods'][number] | undefined) =>
    m ? `${pct(m.mean.accuracy)}${m.runs > 1 ? ` ± ${(m.std.accuracy * 100).toFixed(1)}` : ''} (F1 ${m.mean.macro_f1.toFixed(3)})` : '';
  return [
    `| condition | ${methods.join(' | ')} |`,
    `|---|${methods.map(() => '---:').join('|')}|`,
    ...summary.rows.map((r) => `| ${r.row} | ${methods.map((name) => cell(r.methods.find((m) => m.method === name))).join(' | ')} |`),
    ...Object.entries(summary.failed).map(([condition, why]) => `\n${condition}: not measured: ${why.join('; ')}`),
  ].join('\n');
}
