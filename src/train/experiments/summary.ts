/** Per method over an experiment's jobs: each run's figures, their mean and spread, and the pooled confusion matrix. */
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

export function methodName(key: string, result: JobResult): string {
  return key === 'aernet' ? `AER-Net (${result.network?.variant ?? 'full'})` : (METHOD_NAMES[key] ?? key);
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
  for (const e of evaluations) e.confusion.forEach((row, t) => row.forEach((count, p) => {
    for (let i = 0; i < count; i++) truth.push(t), predicted.push(p);
  }));
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
  const head = ['method', several ? 'accuracy (mean ± std)' : 'accuracy', ...(several ? ['range'] : []), several ? 'macro-F1 (mean ± std)' : 'macro-F1', ...(withPaper ? ['paper'] : [])];
  const rows = summaries.map((s) => [
    s.method,
    several ? `${pct(s.mean.accuracy)} ± ${(s.std.accuracy * 100).toFixed(1)}` : pct(s.mean.accuracy),
    ...(several ? [`${pct(s.min_accuracy)} – ${pct(s.max_accuracy)}`] : []),
    several ? `${s.mean.macro_f1.toFixed(3)} ± ${s.std.macro_f1.toFixed(3)}` : s.mean.macro_f1.toFixed(3),
    ...(withPaper ? [paper[s.method] ?? ''] : []),
  ]);
  return [`| ${head.join(' | ')} |`, `|---|${head.slice(1).map(() => '---:').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Accuracy per run (rows) and method (columns). */
export function perRunTable(summaries: MethodSummary[]): string {
  const titles = [...new Set(summaries.flatMap((s) => s.runs.map((r) => r.title)))];
  return [
    `| run | ${summaries.map((s) => s.method).join(' | ')} |`,
    `|---|${summaries.map(() => '---:').join('|')}|`,
    ...titles.map((t) => `| ${t} | ${summaries.map((s) => { const r = s.runs.find((x) => x.title === t); return r ? `${pct(r.accuracy)} (F1 ${r.macro_f1.toFixed(3)})` : ''; }).join(' | ')} |`),
  ].join('\n');
}
