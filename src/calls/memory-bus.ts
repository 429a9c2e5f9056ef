/**
 * The in-process bus: one replica's calls, in memory, bounded (events per
 * call, ended calls by age and count). Subscribers wait on a call's
 * publications and read from their own cursor.
 */
import type { CallInfo, CallSummary } from '../protocol/calls.ts';
import { type BusHealth, type CallBus, DEFAULT_RETENTION, infoOf, type RetentionOptions, type StoredEvent } from './bus.ts';

interface Held {
  events: StoredEvent[];
  summary: CallSummary | undefined;
  endedAt: number | undefined;
}

export class MemoryBus implements CallBus {
  readonly name = 'memory';
  private readonly held = new Map<string, Held>();
  /** Per call, the subscribers waiting for its next event. */
  private readonly waiting = new Map<string, Set<() => void>>();

  constructor(private readonly retention: RetentionOptions = DEFAULT_RETENTION) {}

  publish(callId: string, event: StoredEvent): void {
    const held = this.hold(callId);
    held.events.push(event);
    if (held.events.length > this.retention.maxEventsPerCall) held.events.splice(0, held.events.length - this.retention.maxEventsPerCall);
    const waiting = this.waiting.get(callId);
    this.waiting.delete(callId);
    for (const wake of waiting ?? []) wake();
  }

  putCall(summary: CallSummary): void {
    const held = this.hold(summary.id);
    held.summary = summary;
    if (summary.status === 'ended' && held.endedAt === undefined) {
      held.endedAt = Date.now();
      this.expire();
    }
  }

  async calls(): Promise<CallInfo[]> {
    this.expire();
    return [...this.held.values()].flatMap((h) => (h.summary ? [infoOf(h.summary)] : [])).sort((a, b) => b.started_at - a.started_at);
  }

  async call(id: string): Promise<CallSummary | undefined> {
    this.expire();
    return this.held.get(id)?.summary;
  }

  async *events(callId: string, after: number, signal: AbortSignal): AsyncIterable<StoredEvent> {
    let cursor = after;
    while (!signal.aborted) {
      const events = this.held.get(callId)?.events ?? [];
      // Sequence numbers have no gaps: the first unread is found by arithmetic, not a search.
      const first = events.length > 0 ? Math.max(0, cursor + 1 - events[0].seq) : 0;
      if (first < events.length) {
        const event = events[first];
        cursor = event.seq;
        yield event;
        if (event.type === 'call_ended') return;
        continue;
      }
      // Checked and registered in one turn: nothing can be published between the two.
      await this.next(callId, signal);
    }
  }

  /** Resolves at the call's next publication, or when the signal aborts. */
  private next(callId: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let waiting = this.waiting.get(callId);
      if (!waiting) {
        waiting = new Set();
        this.waiting.set(callId, waiting);
      }
      const wake = () => {
        signal.removeEventListener('abort', aborted);
        resolve();
      };
      const aborted = () => {
        this.waiting.get(callId)?.delete(wake);
        resolve();
      };
      waiting.add(wake);
      signal.addEventListener('abort', aborted, { once: true });
    });
  }

  health(): BusHealth {
    return { ok: true };
  }

  async close(): Promise<void> {
    for (const waiting of this.waiting.values()) for (const wake of waiting) wake();
    this.waiting.clear();
  }

  private hold(callId: string): Held {
    let held = this.held.get(callId);
    if (!held) {
      held = { events: [], summary: undefined, endedAt: undefined };
      this.held.set(callId, held);
    }
    return held;
  }

  /** Ended calls past their retention, and the oldest beyond the count, are forgotten. */
  private expire(): void {
    const now = Date.now();
    const ended = [...this.held.entries()].filter(([, h]) => h.endedAt !== undefined).sort((a, b) => a[1].endedAt! - b[1].endedAt!);
    const over = ended.length - this.retention.maxEndedCalls;
    ended.forEach(([id, h], i) => {
      if (i < over || now - h.endedAt! > this.retention.endedRetentionMs) this.held.delete(id);
    });
  }
}
