/**
 * A synthetic two-party call: two speakers take turns, one channel each,
 * each turn a run of up to `clipsPerTurn` of a speaker's clips of one
 * emotion, with a gap between turns and a faint line noise under both
 * channels (a real call has no digital silence). The turns say who said
 * what when, so each window can be scored against the turn it lies in.
 */
import { AerError } from '../../errors.ts';
import { SAMPLE_RATE } from '../../features/recipe.ts';
import type { LoadedClip } from '../clip-store.ts';
import { speakersOf } from '../datasets/clip.ts';
import { gaussian, type Random, shuffled } from '../random.ts';

export interface Turn {
  channel: number;
  speaker: string;
  label: string;
  startS: number;
  endS: number;
}

export interface Call {
  /** Two channels at 22050 Hz. */
  channels: [Float32Array, Float32Array];
  turns: Turn[];
}

export interface CallOptions {
  clipsPerTurn: number;
  gapS: number;
  /** Pauses between a turn's clips are drawn from 0 to this (0: its clips back to back, and no draws, so the calls are as before). */
  pauseS: number;
  /** RMS of the line noise, dBFS. */
  floorDb: number;
}

/** A window is scored against a turn when this much of its 3 s lies inside the turn. */
export const SCORED_OVERLAP_S = 2.5;

export const DEFAULT_CALL: CallOptions = { clipsPerTurn: 2, gapS: 0.4, pauseS: 0, floorDb: -65 };

/** A speaker's turns: their clips grouped by emotion, each group cut into runs of up to `size` clips, in a shuffled order. */
function turnsOf(clips: LoadedClip[], size: number, random: Random): LoadedClip[][] {
  const byLabel = new Map<string, LoadedClip[]>();
  for (const c of [...clips].sort((a, b) => a.path.localeCompare(b.path))) byLabel.set(c.label, [...(byLabel.get(c.label) ?? []), c]);
  const runs: LoadedClip[][] = [];
  for (const label of [...byLabel.keys()].sort()) {
    const members = shuffled(byLabel.get(label)!, random);
    for (let i = 0; i < members.length; i += size) runs.push(members.slice(i, i + size));
  }
  return shuffled(runs, random);
}

/**
 * Calls between the speakers of `clips`, paired in order (a last speaker
 * without a partner talks alone). Each call alternates its speakers' turns
 * until both have said everything.
 */
export function buildCalls(clips: readonly LoadedClip[], random: Random, options: CallOptions = DEFAULT_CALL): Call[] {
  const speakers = speakersOf(clips);
  if (speakers.length < 2) {
    throw new AerError('invalid_dataset', `a call needs clips of two speakers; these are all of ${speakers[0] ?? 'nobody'}`, {
      hint: 'measure on data with at least two speakers',
    });
  }
  const calls: Call[] = [];
  for (let p = 0; p < speakers.length; p += 2) {
    const pair = speakers.slice(p, p + 2);
    const queues = pair.map((s) =>
      turnsOf(
        clips.filter((c) => c.speaker === s),
        options.clipsPerTurn,
        random,
      ),
    );
    const order: { channel: number; run: LoadedClip[] }[] = [];
    for (let k = 0; queues.some((q) => k < q.length); k++) queues.forEach((q, channel) => k < q.length && order.push({ channel, run: q[k] }));
    const gap = Math.round(options.gapS * SAMPLE_RATE);
    const pauses = order.map((t) => t.run.map((_, i) => (i === 0 || options.pauseS === 0 ? 0 : Math.round(random() * options.pauseS * SAMPLE_RATE))));
    const length = order.reduce((n, t, k) => n + t.run.reduce((m, c, i) => m + c.signal.length + pauses[k][i], 0) + gap, gap);
    const floor = 10 ** (options.floorDb / 20);
    const channels = [0, 1].map(() => Float32Array.from({ length }, () => floor * gaussian(random))) as [Float32Array, Float32Array];
    const turns: Turn[] = [];
    let at = gap;
    for (const [k, { channel, run }] of order.entries()) {
      const start = at;
      for (const [j, c] of run.entries()) {
        at += pauses[k][j];
        const target = channels[channel];
        for (let i = 0; i < c.signal.length; i++) target[at + i] += c.signal[i];
        at += c.signal.length;
      }
      turns.push({ channel, speaker: run[0].speaker, label: run[0].label, startS: start / SAMPLE_RATE, endS: at / SAMPLE_RATE });
      at += gap;
    }
    calls.push({ channels, turns });
  }
  return calls;
}
