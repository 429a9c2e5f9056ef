/**
 * What a telephony platform's media fork (Twilio Media Streams, Genesys
 * AudioHook) asks of the service, whatever its protocol: each platform's
 * module reads its own messages and answers with these steps, and one
 * connection (server/call-connection.ts) carries them out. The protocols
 * are pure state machines, tested against the platforms' documented
 * examples.
 */
import type { CallSource, Party } from '../protocol/calls.ts';

export interface ForkStart {
  kind: 'start';
  source: CallSource;
  /** The call's id in the service: the platform's call id. */
  callId: string;
  external: Record<string, string>;
  /** One per channel, in channel order. */
  parties: Party[];
  encoding: 'mulaw' | 'alaw';
  sampleRate: number;
  /** A token the platform carried in the protocol itself (Twilio's custom parameters), for services with tokens. */
  token?: string;
  /** What the platform is told once the call is open (AudioHook's `opened`), made when it is sent. */
  opened?: () => string;
}

export type ForkStep =
  | ForkStart
  /** One track's audio at its place in the call (ms from the stream's start): the aligner interleaves the tracks. */
  | { kind: 'track_audio'; track: number; timestampMs: number; bytes: Uint8Array }
  /** Audio already interleaved, one sample per channel in turn, following the last. */
  | { kind: 'audio'; bytes: Uint8Array }
  /** A message for the platform (JSON text). */
  | { kind: 'reply'; text: string }
  /** The platform paused the audio (no audio comes meanwhile; the call's time goes on). */
  | { kind: 'pause' }
  | { kind: 'resume' }
  /** The platform ended the stream; `reply` is what it expects last, if anything. */
  | { kind: 'stop'; reason: string }
  /** Something wrong in what the platform sent: fatal ends the connection (4400 with this message), else the message is dropped and counted. */
  | { kind: 'problem'; code: ProblemCode; message: string; fatal: boolean };

/** Why a platform's message was refused (the label of aer_telephony_rejected_total). */
export const PROBLEM_CODES = ['bad_message', 'out_of_order', 'unknown_track', 'bad_audio', 'unsupported_media', 'unauthorized'] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

export interface MediaForkProtocol {
  text(message: string): ForkStep[];
  binary(data: Uint8Array): ForkStep[];
  /** What the platform is told before the service closes on it, when its protocol has such a message (AudioHook's `disconnect`). */
  refuse?(reason: 'unauthorized' | 'error', info: string): string | undefined;
}
