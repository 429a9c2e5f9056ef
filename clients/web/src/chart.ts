/** The smoothed score of each emotion over the last 30 s, one line each, gaps where there was no speech. */
import { colorOf } from './colors.ts';

export interface Point {
  t: number;
  scores: Record<string, number> | null;
}

const SPAN_S = 30;

export function drawChart(canvas: HTMLCanvasElement, labels: string[], points: Point[], nowS: number): void {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  const pad = { left: 34, right: 8, top: 8, bottom: 20 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const start = Math.max(0, nowS - SPAN_S);
  const x = (t: number) => pad.left + ((t - start) / SPAN_S) * w;
  const y = (v: number) => pad.top + (1 - v) * h;
  ctx.clearRect(0, 0, width, height);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#8b93a7';
  ctx.strokeStyle = '#232834';
  ctx.lineWidth = 1;
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    ctx.beginPath();
    ctx.moveTo(pad.left, y(v));
    ctx.lineTo(width - pad.right, y(v));
    ctx.stroke();
    ctx.fillText(v.toFixed(2), 2, y(v) + 4);
  }
  for (let t = Math.ceil(start / 5) * 5; t <= start + SPAN_S; t += 5) ctx.fillText(`${t}s`, x(t) - 8, height - 4);
  ctx.lineWidth = 2.5;
  ctx.lineJoin = 'round';
  for (const label of labels) {
    ctx.strokeStyle = colorOf(label);
    ctx.beginPath();
    let drawing = false;
    for (const p of points) {
      if (p.t < start) continue;
      if (!p.scores) {
        drawing = false;
        continue;
      }
      if (drawing) ctx.lineTo(x(p.t), y(p.scores[label]));
      else ctx.moveTo(x(p.t), y(p.scores[label]));
      drawing = true;
    }
    ctx.stroke();
  }
}
