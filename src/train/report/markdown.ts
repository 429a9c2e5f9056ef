/** An evaluation as Markdown tables, for report.md and model cards. */
import type { Evaluation } from '../metrics.ts';

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

export function metricsTable(evaluation: Evaluation): string {
  const rows = evaluation.labels.map((l) => {
    const c = evaluation.per_class[l];
    return `| ${l} | ${c.precision.toFixed(3)} | ${c.recall.toFixed(3)} | ${c.f1.toFixed(3)} | ${c.support} |`;
  });
  return [
    `Accuracy **${pct(evaluation.accuracy)}**, macro precision ${evaluation.macro_precision.toFixed(3)}, macro recall ${evaluation.macro_recall.toFixed(3)}, macro-F1 **${evaluation.macro_f1.toFixed(3)}** (n = ${evaluation.n}).`,
    '',
    '| class | precision | recall | F1 | support |',
    '|---|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

export function confusionTable(evaluation: Evaluation): string {
  const { labels, confusion } = evaluation;
  return [
    `| true \\ predicted | ${labels.join(' | ')} |`,
    `|---|${labels.map(() => '---:').join('|')}|`,
    ...labels.map((l, i) => `| **${l}** | ${confusion[i].join(' | ')} |`),
  ].join('\n');
}

export function skippedList(skipped: Record<string, number>): string {
  const entries = Object.entries(skipped);
  return entries.length === 0 ? 'none' : entries.map(([reason, n]) => `${n} ${reason}`).join('; ');
}
