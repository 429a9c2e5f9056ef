/**
 * Emotion segments of a call, per channel: runs of speech windows whose
 * smoothed label is the same. Each window stands for the newest hop of
 * audio it added (its last hop_s), so segments tile the speech without
 * overlapping; silence ends a segment.
 */
import { type EmotionMessage, topLabel } from '../../js/src/index.ts';

export interface Segment {
  channel: number;
  speaker: string;
  start_s: number;
  end_s: number;
  label: string;
  /** Mean smoothed score of the label over the segment's windows. */
  mean_confidence: number;
  windows: number;
}

interface Open {
  segment: Segment;
  sum: number;
}

export class Segmenter {
  private readonly open = new Map<number, Open>();
  private readonly done: Segment[] = [];

  constructor(
    private readonly speakers: string[],
    private readonly hopS: number,
  ) {}

  /** Takes one event; returns the segment it closed, if any. */
  add(e: EmotionMessage): Segment | undefined {
    const current = this.open.get(e.channel);
    const scores = e.smoothed ?? e.scores;
    if (!e.speech || !scores) return this.close(e.channel);
    const label = topLabel(scores);
    const start = Math.max(e.start_s, e.end_s - this.hopS);
    if (current && current.segment.label === label && start - current.segment.end_s < this.hopS / 2) {
      current.segment.end_s = e.end_s;
      current.segment.windows++;
      current.sum += scores[label];
      current.segment.mean_confidence = current.sum / current.segment.windows;
      return undefined;
    }
    const closed = this.close(e.channel);
    this.open.set(e.channel, {
      segment: {
        channel: e.channel,
        speaker: this.speakers[e.channel] ?? `channel ${e.channel}`,
        start_s: start,
        end_s: e.end_s,
        label,
        mean_confidence: scores[label],
        windows: 1,
      },
      sum: scores[label],
    });
    return closed;
  }

  close(channel: number): Segment | undefined {
    const current = this.open.get(channel);
    if (!current) return undefined;
    this.open.delete(channel);
    this.done.push(current.segment);
    return current.segment;
  }

  /** Closes what is open; all segments in time order. */
  finish(): Segment[] {
    for (const channel of [...this.open.keys()]) this.close(channel);
    return [...this.done].sort((a, b) => a.start_s - b.start_s || a.channel - b.channel);
  }
}

const CSV_FIELDS = ['speaker', 'channel', 'start_s', 'end_s', 'label', 'mean_confidence', 'windows'] as const;

export function segmentsAsCsv(segments: Segment[]): string {
  const rows = segments.map((s) =>
    CSV_FIELDS.map((f) => (typeof s[f] === 'number' && f !== 'channel' && f !== 'windows' ? (s[f] as number).toFixed(3) : String(s[f]))).join(','),
  );
  return `${[CSV_FIELDS.join(','), ...rows].join('\n')}\n`;
}

export function segmentsAsJsonl(segments: Segment[]): string {
  return (
    segments
      .map((s) => JSON.stringify({ ...s, start_s: +s.start_s.toFixed(3), end_s: +s.end_s.toFixed(3), mean_confidence: +s.mean_confidence.toFixed(3) }))
      .join('\n') + (segments.length ? '\n' : '')
  );
}
