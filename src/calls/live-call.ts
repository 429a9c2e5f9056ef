/**
 * A call this replica owns: its session's events become the call's events
 * (numbered, stamped, with each party's role, attention weights left to the
 * stream API), its snapshot (current label per party, totals, alerts) is
 * kept current in the bus, and `call_ended` carries the whole summary.
 */
import type { Alert, CallEventBody, CallInfo, CallSource, CallSummary, Party, PartyState, Role } from '../protocol/calls.ts';
import type { ClosedStats, ServerMessage } from '../protocol/wire.ts';
import { StreamSummary } from '../stream/summary.ts';
import { AlertDetector, type AlertOptions } from './alerts.ts';
import type { StoredEvent } from './bus.ts';

export interface CallStart {
  id: string;
  source: CallSource;
  external: Record<string, string>;
  parties: Party[];
}

/** Where a live call's events and snapshots go (the hub: bus and webhooks). */
export interface CallOutlet {
  event(call: LiveCall, event: StoredEvent): void;
  snapshot(summary: CallSummary): void;
  ended(call: LiveCall): void;
}

/** The snapshot is rewritten at most this often while only emotion windows arrive (changes and alerts rewrite it at once). */
const SNAPSHOT_INTERVAL_MS = 1000;

export class LiveCall {
  readonly id: string;
  private seq = 0;
  private readonly startedAt = Date.now();
  private endedAt: number | null = null;
  private endReason: string | null = null;
  private stats: ClosedStats | null = null;
  private readonly parties: PartyState[];
  private readonly totals: StreamSummary;
  private readonly alertDetector: AlertDetector;
  private readonly alerts: Alert[] = [];
  private lastSnapshot = 0;

  constructor(
    private readonly start: CallStart,
    alerts: AlertOptions,
    private readonly outlet: CallOutlet,
  ) {
    this.id = start.id;
    this.parties = start.parties.map((p) => ({ ...p, label: null, confidence: null, at_s: null }));
    this.totals = new StreamSummary(Math.max(...start.parties.map((p) => p.channel)) + 1);
    this.alertDetector = new AlertDetector(alerts);
    this.publish({ type: 'call_started', call: this.info() });
    this.snapshot();
  }

  get ended(): boolean {
    return this.endedAt !== null;
  }

  /** A message of the call's session. `closed` ends the call. */
  message(m: ServerMessage): void {
    if (this.ended) return;
    switch (m.type) {
      case 'emotion': {
        this.totals.add(m);
        const { type: _type, seq: window, attention: _attention, attention_hop_s: _hop, ...rest } = m;
        const role = this.role(m.channel);
        this.publish({ type: 'emotion', window, ...rest, party: role });
        const alert = this.alertDetector.emotion(m, role);
        if (alert) {
          this.alerts.push(alert);
          this.publish({ type: 'alert', ...alert });
          return this.snapshot();
        }
        if (Date.now() - this.lastSnapshot >= SNAPSHOT_INTERVAL_MS) this.snapshot();
        return;
      }
      case 'change': {
        this.totals.add(m);
        this.alertDetector.change(m);
        const party = this.parties.find((p) => p.channel === m.channel);
        if (party) Object.assign(party, { label: m.to, confidence: m.confidence, at_s: m.at_s });
        const { type: _type, ...rest } = m;
        this.publish({ type: 'change', ...rest, party: this.role(m.channel) });
        return this.snapshot();
      }
      case 'warning': {
        const { type: _type, ...rest } = m;
        this.publish({ type: 'warning', ...rest, ...(m.channel !== undefined ? { party: this.role(m.channel) } : {}) });
        return;
      }
      case 'error': {
        const { type: _type, ...rest } = m;
        this.publish({ type: 'error', ...rest });
        return;
      }
      case 'closed':
        this.stats = m.stats;
        return this.end(m.reason);
      case 'ready':
        return;
    }
  }

  /** The call is over (the platform said stop, or its connection went): `call_ended` with the summary. */
  end(reason: string): void {
    if (this.ended) return;
    this.endedAt = Date.now();
    this.endReason = reason;
    // call_ended is the last event: the summary it carries counts itself.
    const summary = { ...this.summary(), last_seq: this.seq + 1 };
    this.publish({ type: 'call_ended', reason, summary });
    this.outlet.snapshot(summary);
    this.outlet.ended(this);
  }

  info(): CallInfo {
    return {
      id: this.id,
      source: this.start.source,
      external: this.start.external,
      started_at: this.startedAt,
      ended_at: this.endedAt,
      status: this.ended ? 'ended' : 'live',
      parties: this.parties.map((p) => ({ ...p })),
      last_seq: this.seq,
      alerts: this.alerts.length,
    };
  }

  summary(): CallSummary {
    const totals = this.totals.result();
    return {
      ...this.info(),
      summary: this.parties.map((p) => {
        const { channel: _channel, ...t } = totals[p.channel];
        return { role: p.role, channel: p.channel, ...t };
      }),
      alert_list: [...this.alerts],
      end_reason: this.endReason,
      stats: this.stats,
    };
  }

  private role(channel: number): Role {
    return this.parties.find((p) => p.channel === channel)?.role ?? 'customer';
  }

  private publish(body: CallEventBody): void {
    const seq = ++this.seq;
    const time = Date.now();
    // The envelope last: no field of the body may pass for it.
    this.outlet.event(this, { seq, type: body.type, time, json: JSON.stringify({ ...body, call_id: this.id, seq, time }) });
  }

  private snapshot(): void {
    this.lastSnapshot = Date.now();
    this.outlet.snapshot(this.summary());
  }
}
