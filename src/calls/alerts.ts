/**
 * Alerts: a party held on a label a supervisor should see (angry, by
 * default) for long enough that it is not one heated sentence. The label
 * is the confirmed (smoothed) one of `change` events; time is the call's
 * audio time, so a replayed recording alerts where a live call would.
 */
import type { Alert, Role } from '../protocol/calls.ts';
import type { ChangeMessage, EmotionMessage } from '../protocol/wire.ts';

export interface AlertOptions {
  /** Labels that alert. */
  labels: string[];
  /** Seconds of call time on the label before it alerts. */
  afterS: number;
}

export const DEFAULT_ALERTS: AlertOptions = { labels: ['angry'], afterS: 6 };

interface Held {
  label: string;
  since: number;
  confidence: number;
  alerted: boolean;
}

export class AlertDetector {
  private readonly held = new Map<number, Held>();

  constructor(private readonly options: AlertOptions) {}

  change(m: ChangeMessage): void {
    this.held.set(m.channel, { label: m.to, since: m.at_s, confidence: m.confidence, alerted: false });
  }

  /** An emotion window ending at `end_s`: the alert, once per episode, when the held label has lasted. */
  emotion(m: EmotionMessage, role: Role): Alert | undefined {
    const held = this.held.get(m.channel);
    if (!held || held.alerted || !this.options.labels.includes(held.label)) return undefined;
    if (m.smoothed) held.confidence = m.smoothed[held.label] ?? held.confidence;
    if (m.end_s - held.since < this.options.afterS) return undefined;
    held.alerted = true;
    return { party: role, channel: m.channel, label: held.label, since_s: held.since, at_s: m.end_s, confidence: round(held.confidence) };
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
