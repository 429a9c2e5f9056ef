/**
 * Wire protocol v1 of aer-stream (docs/protocol.md in the service's
 * repository): the stream's parameters and every message, as they travel.
 * The server, the pipeline and the client SDK all use this file (the SDK a
 * copy made by scripts/sync-protocol.ts), so they cannot drift.
 */
export const PROTOCOL_VERSION = 'v1';
export const ENCODINGS = ['pcm_s16le', 'pcm_f32le', 'mulaw', 'alaw', 'opus', 'ogg_opus'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/** The rate a stream has without sample_rate: Opus's 48 kHz, a telephone's 8 kHz for G.711, else 16 kHz. */
export function defaultSampleRate(encoding: Encoding): number {
  if (encoding === 'opus' || encoding === 'ogg_opus') return 48000;
  return encoding === 'mulaw' || encoding === 'alaw' ? 8000 : 16000;
}

/**
 * Which model hears the stream: `wide` (the default model, trained on
 * full-band speech) or `narrow` (the telephone-band companion, trained on
 * 8 kHz G.711 calls). `auto` picks narrow for audio at 8 kHz or less, when
 * the server has that model.
 */
export const BANDS = ['auto', 'wide', 'narrow'] as const;
export type Band = (typeof BANDS)[number];
export type ServedBand = Exclude<Band, 'auto'>;

/** WebSocket close codes the service uses. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  abnormal: 1006,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  tryAgainLater: 1013,
  badRequest: 4400,
} as const;

/** The stream's query parameters (snake_case on the wire). */
export interface StreamParameters {
  encoding: Encoding;
  sample_rate?: number;
  channels?: number;
  hop_ms?: number;
  smoothing?: 'ema' | 'none';
  vad?: boolean;
  attention?: boolean;
  band?: Band;
}

export type ControlMessage =
  | { type: 'configure'; smoothing?: 'ema' | 'none'; attention?: boolean }
  | { type: 'flush' }
  | { type: 'keepalive' }
  | { type: 'close_stream' };

export interface ReadyMessage {
  type: 'ready';
  protocol: typeof PROTOCOL_VERSION;
  session_id: string;
  config: { encoding: Encoding; sample_rate: number; channels: number; hop_ms: number; smoothing: string; vad: boolean; attention: boolean; band: Band };
  labels: string[];
  /** The model that hears this stream: `band` is the one `auto` chose. */
  model: { variant: string; engine: string; band: ServedBand };
  attention_hop_s: number;
}

export interface EmotionMessage {
  type: 'emotion';
  channel: number;
  seq: number;
  start_s: number;
  end_s: number;
  speech: boolean;
  /** null for a window without speech. */
  label: string | null;
  confidence: number | null;
  scores: Record<string, number> | null;
  smoothed: Record<string, number> | null;
  attention?: number[];
  attention_hop_s?: number;
  latency_ms: number;
}

export interface ChangeMessage {
  type: 'change';
  channel: number;
  from: string | null;
  to: string;
  at_s: number;
  confidence: number;
}

export interface WarningMessage {
  type: 'warning';
  /** overloaded: windows skipped to keep up; audio_problem: damaged audio concealed; slow_consumer: events dropped because the client does not read them. */
  code: 'overloaded' | 'audio_problem' | 'slow_consumer';
  message: string;
  channel?: number;
  /** Windows not analysed, for overloaded. */
  windows?: number;
  /** Events not sent, for slow_consumer. */
  dropped?: number;
  /** Repeats of this warning since the last one sent, when it stands for more than one (at most one a second is sent). */
  count?: number;
}

export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
  fatal: boolean;
  /** What to do about it, when the service can say. */
  hint?: string;
  /** Repeats of this error since the last one sent, when it stands for more than one (at most one a second is sent). */
  count?: number;
}

export interface ClosedStats {
  /** Seconds of audio the server read from this stream. */
  audio_s: number;
  /** Of those, seconds no window covered: 0 unless the server had to end the session before it could analyse everything (a shutdown past its deadline). */
  unanalysed_s: number;
  windows: number;
  speech_windows: number;
  shed_windows: number;
  events: number;
  bytes: number;
  decode_errors: number;
}

export interface ClosedMessage {
  type: 'closed';
  reason: string;
  stats: ClosedStats;
}

export type ServerMessage = ReadyMessage | EmotionMessage | ChangeMessage | WarningMessage | ErrorMessage | ClosedMessage;
