// Copied from the service's src/protocol/calls.ts by scripts/sync-protocol.ts: edit that file, then run the script.
/**
 * The calls API's messages (docs/calls.md in the service's repository): a
 * call is one session fed by a telephony platform, one channel per party,
 * and every event of it carries the call's id, a sequence number and the
 * party's role. Subscribers (SSE, WebSocket, webhooks, other replicas
 * through the bus) all see these.
 */
import type { ChangeMessage, ClosedStats, EmotionMessage, ErrorMessage, WarningMessage } from './protocol.ts';

export const CALL_SOURCES = ['twilio', 'audiohook'] as const;
export type CallSource = (typeof CALL_SOURCES)[number];

/** Who is speaking on a channel. Platforms name their tracks; the service maps them to these. */
export const ROLES = ['customer', 'agent'] as const;
export type Role = (typeof ROLES)[number];

export interface Party {
  channel: number;
  role: Role;
  /** The platform's own name for the track (Twilio `inbound`, AudioHook `external`). */
  track: string;
}

/** A party as a call's snapshot shows it: the latest label heard. */
export interface PartyState extends Party {
  label: string | null;
  confidence: number | null;
  /** Seconds into the call the label was last heard at. */
  at_s: number | null;
}

/** A party's whole call in figures (also what /v1/classify answers per channel). */
export interface ChannelTotals {
  /** Seconds of speech. */
  speech_s: number;
  /** Seconds of speech per label, most first. */
  by_label: Record<string, number>;
  /** The label heard longest, or null without speech. */
  dominant: string | null;
  /** Label changes after the first label. */
  changes: number;
  windows: number;
  speech_windows: number;
}

export interface Alert {
  party: Role;
  channel: number;
  label: string;
  /** When the label began (seconds into the call) and when it had lasted long enough to alert. */
  since_s: number;
  at_s: number;
  confidence: number;
}

/** What GET /v1/calls lists. */
export interface CallInfo {
  id: string;
  source: CallSource;
  /** The platform's ids (Twilio callSid and streamSid, AudioHook session and conversation ids). */
  external: Record<string, string>;
  /** Epoch milliseconds. */
  started_at: number;
  ended_at: number | null;
  status: 'live' | 'ended';
  parties: PartyState[];
  /** The last event's sequence number. */
  last_seq: number;
  alerts: number;
}

/** What GET /v1/calls/{id} answers: the listing's fields, and the whole call in figures. */
export interface CallSummary extends CallInfo {
  summary: (ChannelTotals & { role: Role; channel: number })[];
  alert_list: Alert[];
  /** Why it ended (stop, client_gone, idle_timeout, server_shutdown, error), once it has. */
  end_reason: string | null;
  stats: ClosedStats | null;
}

interface Envelope {
  call_id: string;
  /** 1, 2, 3, ... per call, with no gaps: a subscriber that resumes `since` the last it saw misses nothing. */
  seq: number;
  /** Epoch milliseconds when the service published it. */
  time: number;
}

type OnParty<M> = Omit<M, 'type'> & { party: Role };

export type CallEventBody =
  | { type: 'call_started'; call: CallInfo }
  /** `window` is the stream's per-channel window number (the stream API's `seq`); `seq` here numbers the call's events. */
  | ({ type: 'emotion' } & Omit<OnParty<EmotionMessage>, 'seq' | 'attention' | 'attention_hop_s'> & { window: number })
  | ({ type: 'change' } & OnParty<ChangeMessage>)
  | ({ type: 'alert' } & Omit<Alert, never>)
  | ({ type: 'warning' } & Omit<WarningMessage, 'type'> & { party?: Role })
  | ({ type: 'error' } & Omit<ErrorMessage, 'type'>)
  | { type: 'call_ended'; reason: string; summary: CallSummary };

export type CallEvent = Envelope & CallEventBody;
export type CallEventType = CallEventBody['type'];
export const CALL_EVENT_TYPES: readonly CallEventType[] = ['call_started', 'emotion', 'change', 'alert', 'warning', 'error', 'call_ended'];
