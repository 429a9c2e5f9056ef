/**
 * A stream's result in a few numbers per channel, built as its events go
 * by (memory: a few numbers per channel, never the events): speech time,
 * time per label, the dominant label and how often it changed. Each speech
 * window stands for the audio it added to the channel's previous window
 * (the first for its whole span), so the times tile the speech and never
 * count the windows' overlap twice.
 */
import type { ChannelTotals } from '../protocol/calls.ts';
import type { ServerMessage } from '../protocol/wire.ts';

/** One channel's figures: the calls API's per-party totals, with the channel they are of. */
export interface ChannelSummary extends ChannelTotals {
  channel: number;
}

const round = (s: number) => Math.round(s * 100) / 100;

export class StreamSummary {
  private readonly channels: {
    lastEnd: number | undefined;
    speech: number;
    byLabel: Map<string, number>;
    changes: number;
    windows: number;
    speechWindows: number;
  }[];

  constructor(channels: number) {
    this.channels = Array.from({ length: channels }, () => ({ lastEnd: undefined, speech: 0, byLabel: new Map(), changes: 0, windows: 0, speechWindows: 0 }));
  }

  add(message: ServerMessage): void {
    if (message.type === 'change' && message.from !== null) this.channels[message.channel].changes++;
    if (message.type !== 'emotion') return;
    const c = this.channels[message.channel];
    const added = Math.max(0, message.end_s - Math.max(message.start_s, c.lastEnd ?? message.start_s));
    c.lastEnd = message.end_s;
    c.windows++;
    if (!message.speech || message.label === null) return;
    c.speechWindows++;
    c.speech += added;
    c.byLabel.set(message.label, (c.byLabel.get(message.label) ?? 0) + added);
  }

  result(): ChannelSummary[] {
    return this.channels.map((c, channel) => {
      const byLabel = [...c.byLabel.entries()].sort((a, b) => b[1] - a[1]);
      return {
        channel,
        speech_s: round(c.speech),
        by_label: Object.fromEntries(byLabel.map(([label, s]) => [label, round(s)])),
        dominant: byLabel[0]?.[0] ?? null,
        changes: c.changes,
        windows: c.windows,
        speech_windows: c.speechWindows,
      };
    });
  }
}
