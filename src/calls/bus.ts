/**
 * Where calls' events go, so that a subscriber on any replica can read any
 * call: the in-process bus (one replica) or Redis streams (several). The
 * replica that owns a call (its telephony connection is there) is its only
 * writer: it numbers the events and keeps the call's snapshot current.
 * Readers pull: a slow subscriber only falls behind its own cursor, and
 * holds no events of its own.
 */
import type { CallEventType, CallInfo, CallSummary } from '../protocol/calls.ts';

/** An event as stored and sent: its number, type, and its JSON text. */
export interface StoredEvent {
  seq: number;
  type: CallEventType;
  /** When it was published, epoch ms (also in the JSON). */
  time: number;
  json: string;
}

export interface BusHealth {
  ok: boolean;
  /** What is wrong, when it is not. */
  detail?: string;
}

export interface CallBus {
  readonly name: 'memory' | 'redis';
  /** Append an event of a call this replica owns. Returns at once; never waits on the store (the audio path calls it). */
  publish(callId: string, event: StoredEvent): void;
  /** Replace the call's snapshot (its owner's view); `ended` starts the call's retention. */
  putCall(summary: CallSummary): void;
  /** Live and recently ended calls, newest first. */
  calls(): Promise<CallInfo[]>;
  call(id: string): Promise<CallSummary | undefined>;
  /**
   * The call's events after `after` (0: from its start; older ones the bus
   * no longer holds are skipped), then each as it is published, until the
   * call's last (`call_ended`) or the signal aborts.
   */
  events(callId: string, after: number, signal: AbortSignal): AsyncIterable<StoredEvent>;
  health(): BusHealth;
  close(): Promise<void>;
}

export interface RetentionOptions {
  /** Events kept per call; older ones are dropped (a late subscriber starts at the oldest kept). */
  maxEventsPerCall: number;
  /** How long an ended call stays listed and readable, ms. */
  endedRetentionMs: number;
  /** Ended calls kept at most (the oldest go first), whatever their age. */
  maxEndedCalls: number;
}

export const DEFAULT_RETENTION: RetentionOptions = { maxEventsPerCall: 20_000, endedRetentionMs: 15 * 60_000, maxEndedCalls: 500 };

/** The info part of a snapshot (what the listing shows). */
export function infoOf(s: CallSummary): CallInfo {
  const { id, source, external, started_at, ended_at, status, parties, last_seq, alerts } = s;
  return { id, source, external, started_at, ended_at, status, parties, last_seq, alerts };
}
