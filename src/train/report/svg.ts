/** Training curves and confusion matrices as standalone SVG images (no rendering dependency). */
import type { EpochRecord } from '../checkpoint.ts';
import type { Evaluation } from '../metrics.ts';

const FONT = 'font-family="Helvetica, Arial, sans-serif"';
const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: [number, number][];
}

function niceTicks(min: number, max: number, count: number): number[] {
  if (max <= min) max = min + 1;
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

function panel(
  series: Series[],
  title: string,
  yLabel: string,
  x0: number,
  width: number,
  height: number,
  yRange?: [number, number],
  markEpoch?: number,
): string {
  const margin = { left: 56, right: 16, top: 36, bottom: 44 };
  const w = width - margin.left - margin.right;
  const h = height - margin.top - margin.bottom;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const xMin = Math.min(...xs, 1);
  const xMax = Math.max(...xs, 2);
  const [yMin, yMax] = yRange ?? [Math.min(0, ...ys), Math.max(...ys, 1e-6) * 1.05];
  const sx = (x: number) => x0 + margin.left + ((x - xMin) / (xMax - xMin)) * w;
  const sy = (y: number) => margin.top + h - ((y - yMin) / (yMax - yMin)) * h;
  const parts: string[] = [`<text x="${x0 + margin.left}" y="22" font-size="15" font-weight="bold" ${FONT}>${escapeXml(title)}</text>`];
  for (const t of niceTicks(yMin, yMax, 5)) {
    parts.push(`<line x1="${sx(xMin)}" x2="${sx(xMax)}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${x0 + margin.left - 6}" y="${sy(t) + 4}" font-size="11" text-anchor="end" ${FONT}>${t}</text>`);
  }
  for (const t of niceTicks(xMin, xMax, 8).filter((v) => Number.isInteger(v))) {
    parts.push(`<text x="${sx(t)}" y="${margin.top + h + 16}" font-size="11" text-anchor="middle" ${FONT}>${t}</text>`);
  }
  parts.push(`<line x1="${sx(xMin)}" x2="${sx(xMax)}" y1="${margin.top + h}" y2="${margin.top + h}" stroke="#555"/>`);
  if (markEpoch !== undefined)
    parts.push(`<line x1="${sx(markEpoch)}" x2="${sx(markEpoch)}" y1="${margin.top}" y2="${margin.top + h}" stroke="#999" stroke-dasharray="2 3"/>`);
  parts.push(`<text x="${x0 + margin.left + w / 2}" y="${height - 8}" font-size="12" text-anchor="middle" ${FONT}>epoch</text>`);
  parts.push(
    `<text transform="translate(${x0 + 14},${margin.top + h / 2}) rotate(-90)" font-size="12" text-anchor="middle" ${FONT}>${escapeXml(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    if (pts.length > 0) {
      parts.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
      );
    }
    // The legend sits in the title row, right-aligned, where no curve can run under it.
    const lx = sx(xMax) - (series.length - i) * 96;
    parts.push(`<line x1="${lx}" x2="${lx + 20}" y1="18" y2="18" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${lx + 24}" y="22" font-size="11" ${FONT}>${escapeXml(s.name)}</text>`);
  });
  return parts.join('\n');
}

/** Loss and accuracy per epoch, training and validation, side by side; the best epoch marked. */
export function trainingCurvesSvg(history: EpochRecord[], bestEpoch: number, title: string): string {
  const width = 920;
  const height = 360;
  const loss: Series[] = [
    { name: 'training', color: '#1f77b4', points: history.map((r) => [r.epoch, r.loss]) },
    { name: 'validation', color: '#d62728', dashed: true, points: history.map((r) => [r.epoch, r.val_loss ?? Number.NaN]) },
  ];
  const accuracy: Series[] = [
    { name: 'training', color: '#1f77b4', points: history.map((r) => [r.epoch, r.accuracy]) },
    { name: 'validation', color: '#d62728', dashed: true, points: history.map((r) => [r.epoch, r.val_accuracy ?? Number.NaN]) },
  ];
  const mark = bestEpoch > 0 && history.length > 1 ? bestEpoch : undefined;
  const best =
    mark !== undefined ? `<text x="${width - 12}" y="${height - 8}" font-size="11" text-anchor="end" ${FONT}>best epoch (dotted): ${bestEpoch}</text>` : '';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 24}" viewBox="0 0 ${width} ${height + 24}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="${height + 16}" font-size="12" fill="#555" ${FONT}>${escapeXml(title)}</text>`,
    panel(loss, 'Loss', 'cross-entropy', 0, width / 2, height, undefined, mark),
    panel(accuracy, 'Accuracy', 'accuracy', width / 2, width / 2, height, [0, 1], mark),
    best,
    '</svg>',
  ].join('\n');
}

/** Rows are true labels, columns predictions; cells show counts, shaded by the row's share. */
export function confusionMatrixSvg(evaluation: Evaluation, title: string): string {
  const { labels, confusion } = evaluation;
  const cell = 64;
  const left = 96;
  const top = 84;
  const size = labels.length * cell;
  const width = left + size + 24;
  const height = top + size + 56;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold" ${FONT}>${escapeXml(title)}</text>`,
    `<text x="12" y="40" font-size="12" fill="#555" ${FONT}>accuracy ${(evaluation.accuracy * 100).toFixed(1)} %, macro-F1 ${evaluation.macro_f1.toFixed(3)}, n = ${evaluation.n}</text>`,
    `<text x="${left + size / 2}" y="${top - 30}" font-size="12" text-anchor="middle" ${FONT}>predicted</text>`,
    `<text transform="translate(16,${top + size / 2}) rotate(-90)" font-size="12" text-anchor="middle" ${FONT}>true</text>`,
  ];
  labels.forEach((label, i) => {
    parts.push(`<text x="${left + i * cell + cell / 2}" y="${top - 8}" font-size="12" text-anchor="middle" ${FONT}>${escapeXml(label)}</text>`);
    parts.push(`<text x="${left - 8}" y="${top + i * cell + cell / 2 + 4}" font-size="12" text-anchor="end" ${FONT}>${escapeXml(label)}</text>`);
    const rowTotal = confusion[i].reduce((a, b) => a + b, 0);
    confusion[i].forEach((count, j) => {
      const share = rowTotal === 0 ? 0 : count / rowTotal;
      // Diagonal in blue, errors in red, by the share of the true class.
      const rgb = i === j ? [31, 119, 180] : [214, 39, 40];
      const fill = `rgb(${rgb.map((c) => Math.round(255 - (255 - c) * share)).join(',')})`;
      const x = left + j * cell;
      const y = top + i * cell;
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#ccc"/>`);
      parts.push(
        `<text x="${x + cell / 2}" y="${y + cell / 2 + 5}" font-size="14" text-anchor="middle" fill="${share > 0.55 ? 'white' : 'black'}" ${FONT}>${count}</text>`,
      );
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}
