/**
 * The smoothed score of each emotion over the last 30 s, one line each,
 * gaps where there was no speech, and a tick in the new label's colour
 * where the label changed; one panel per party, stacked.
 */
import { colorOf } from './colors.ts';

export interface Point {
  t: number;
  scores: Record<string, number> | null;
}

/** A label change (the server's `change` event): when, and to what. */
export interface Change {
  t: number;
  label: string;
}

export interface PartyTrace {
  name: string;
  points: Point[];
  changes: Change[];
}

const SPAN_S = 30;
const PANEL_GAP = 14;

export function drawChart(canvas: HTMLCanvasElement, labels: string[], parties: PartyTrace[], nowS: number): void {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.font = '11px system-ui, sans-serif';
  const panel = (height - PANEL_GAP * (parties.length - 1)) / parties.length;
  parties.forEach((party, k) => drawPanel(ctx, labels, party, nowS, { top: k * (panel + PANEL_GAP), height: panel, width, named: parties.length > 1 }));
}

function drawPanel(
  ctx: CanvasRenderingContext2D,
  labels: string[],
  party: PartyTrace,
  nowS: number,
  area: { top: number; height: number; width: number; named: boolean },
): void {
  const pad = { left: 34, right: 8, top: area.top + (area.named ? 18 : 8), bottom: 20 };
  const w = area.width - pad.left - pad.right;
  const h = area.top + area.height - pad.top - pad.bottom;
  const start = Math.max(0, nowS - SPAN_S);
  const x = (t: number) => pad.left + ((t - start) / SPAN_S) * w;
  const y = (v: number) => pad.top + (1 - v) * h;
  ctx.fillStyle = '#8b93a7';
  ctx.strokeStyle = '#232834';
  ctx.lineWidth = 1;
  if (area.named) ctx.fillText(party.name, pad.left, area.top + 11);
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    ctx.beginPath();
    ctx.moveTo(pad.left, y(v));
    ctx.lineTo(area.width - pad.right, y(v));
    ctx.stroke();
    ctx.fillText(v.toFixed(2), 2, y(v) + 4);
  }
  for (let t = Math.ceil(start / 5) * 5; t <= start + SPAN_S; t += 5) ctx.fillText(`${t}s`, x(t) - 8, area.top + area.height - 4);
  ctx.lineWidth = 2;
  ctx.globalAlpha = 0.6;
  for (const change of party.changes) {
    if (change.t < start) continue;
    ctx.strokeStyle = colorOf(change.label);
    ctx.beginPath();
    ctx.moveTo(x(change.t), y(1) - 6);
    ctx.lineTo(x(change.t), y(0));
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
  ctx.lineWidth = 2.5;
  ctx.lineJoin = 'round';
  for (const label of labels) {
    ctx.strokeStyle = colorOf(label);
    ctx.beginPath();
    let drawing = false;
    for (const p of party.points) {
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
