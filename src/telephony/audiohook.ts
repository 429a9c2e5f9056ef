/**
 * Genesys Cloud AudioHook (protocol version 2, Genesys Cloud Developer
 * Center: "AudioHook Protocol Specification"; the messages' shapes and
 * sequence rules as Genesys's published reference implementation,
 * purecloudlabs/audiohook-reference-implementation, defines them): Genesys opens the WebSocket
 * (its API key in the X-API-KEY header) and sends `open` with the
 * conversation, the participant and the media formats it offers; the
 * server answers `opened` with the one it takes, then audio comes as
 * binary frames, the channels interleaved in the order the chosen format
 * names them. Text messages carry `version`, the session `id`, `seq`
 * (1, 2, ... per side), the other side's last `seq` (`serverseq` or
 * `clientseq`) and, from the client, its `position` in the audio.
 *
 * The service takes PCMU at 8000 Hz with `external` (the customer) and/or
 * `internal` (the agent) channels, preferring both; it answers `ping` with
 * `pong` and `close` with `closed`, takes `paused`, `resumed`, `update`,
 * `discarded` and `error` as information, and refuses with `disconnect`
 * (reason `unauthorized` or `error`, and what was wrong) before closing.
 */
import { quoted } from '../protocol/client-text.ts';
import type { Party, Role } from '../protocol/calls.ts';
import type { ForkStep, MediaForkProtocol, ProblemCode } from './media-fork.ts';

const VERSION = '2';
const CHANNEL_ROLES: Record<string, Role> = { external: 'customer', internal: 'agent' };
const CLIENT_TYPES = ['open', 'close', 'ping', 'paused', 'resumed', 'update', 'discarded', 'error'] as const;
const MAX_TEXT = 65_535;
const MAX_ID_LENGTH = 128;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH;

interface Media {
  type: 'audio';
  format: 'PCMU';
  channels: string[];
  rate: 8000;
}

/** An offered format the service takes: PCMU at 8 kHz, one or both of external and internal, each once. */
function acceptable(m: unknown): m is Media {
  return (
    isObject(m) &&
    m.type === 'audio' &&
    m.format === 'PCMU' &&
    m.rate === 8000 &&
    Array.isArray(m.channels) &&
    m.channels.length >= 1 &&
    m.channels.length <= 2 &&
    m.channels.every((c) => c in CHANNEL_ROLES) &&
    new Set(m.channels).size === m.channels.length
  );
}

export class AudioHookSession implements MediaForkProtocol {
  private id: string | undefined;
  /** The last client seq taken, and the server's own. */
  private clientseq = 0;
  private seq = 0;
  private media: Media | undefined;
  private closing = false;

  text(message: string): ForkStep[] {
    if (message.length > MAX_TEXT) return this.refusal('bad_message', `a text message of ${message.length} characters is over the protocol's 64 KiB`);
    let m: unknown;
    try {
      m = JSON.parse(message);
    } catch {
      return this.refusal('bad_message', `a message is not JSON: ${quoted(message)}`);
    }
    if (!isObject(m) || m.version !== VERSION || !isId(m.id) || typeof m.type !== 'string' || !Number.isSafeInteger(m.seq) || !isObject(m.parameters))
      return this.refusal('bad_message', 'a message must have version "2", id, type, seq and parameters');
    if (m.seq !== this.clientseq + 1) return this.refusal('out_of_order', `seq ${m.seq} after ${this.clientseq}: client messages are numbered 1, 2, 3, ...`);
    if (typeof m.serverseq === 'number' && m.serverseq > this.seq)
      return this.refusal('out_of_order', `serverseq ${m.serverseq} is past the last server message (${this.seq})`);
    if (this.id !== undefined && m.id !== this.id) return this.refusal('bad_message', `session id ${quoted(m.id)} is not this session's (${this.id})`);
    this.clientseq = m.seq as number;
    if (!(CLIENT_TYPES as readonly string[]).includes(m.type))
      return this.refusal('bad_message', `${quoted(m.type)} is not a client message (${CLIENT_TYPES.join(', ')})`);
    const parameters = m.parameters;
    if (m.type === 'open') {
      if (this.id !== undefined) return this.refusal('out_of_order', 'a second open on the same session');
      this.id = m.id as string;
      return this.open(parameters);
    }
    if (this.id === undefined) return this.refusal('out_of_order', `${m.type} before open: AudioHook sends open first`);
    switch (m.type) {
      case 'ping':
        return [{ kind: 'reply', text: this.message('pong', {}) }];
      case 'close':
        this.closing = true;
        return [
          { kind: 'reply', text: this.message('closed', {}) },
          { kind: 'stop', reason: 'stop' },
        ];
      case 'paused':
        return [{ kind: 'pause' }];
      case 'resumed':
        return [{ kind: 'resume' }];
      default:
        // update (the conversation's language), discarded (audio the client dropped) and error (the client's report) change nothing here.
        return [];
    }
  }

  binary(data: Uint8Array): ForkStep[] {
    if (!this.media) return this.refusal('out_of_order', 'audio before the session was opened: AudioHook sends open, then audio once opened');
    if (this.closing) return [{ kind: 'problem', code: 'out_of_order', message: 'audio after close was dropped', fatal: false }];
    if (data.length % this.media.channels.length !== 0)
      return [
        {
          kind: 'problem',
          code: 'bad_audio',
          message: `an audio frame of ${data.length} bytes does not hold whole samples of ${this.media.channels.length} channels; dropped`,
          fatal: false,
        },
      ];
    return [{ kind: 'audio', bytes: data }];
  }

  /** `disconnect` before the service closes the connection: `unauthorized` for a bad API key, else `error`. */
  refuse(reason: 'unauthorized' | 'error', info: string): string | undefined {
    return this.id === undefined ? undefined : this.message('disconnect', { reason, info });
  }

  private open(p: Json): ForkStep[] {
    if (!isId(p.conversationId) || !isId(p.organizationId))
      return this.refusal('bad_message', 'open needs parameters.conversationId and parameters.organizationId');
    const offered = Array.isArray(p.media) ? p.media : [];
    // Both parties if offered, else what is.
    const media = offered.filter(acceptable).sort((a, b) => b.channels.length - a.channels.length)[0];
    if (!media)
      return this.refusal(
        'unsupported_media',
        `none of the offered media ${JSON.stringify(offered)} can be taken: the service takes PCMU at 8000 Hz with external and/or internal channels`,
      );
    this.media = media;
    const parties: Party[] = media.channels.map((track, channel) => ({ channel, role: CHANNEL_ROLES[track], track }));
    const participant = isObject(p.participant) ? p.participant : {};
    const shown = (v: unknown) => (typeof v === 'string' ? v.slice(0, MAX_ID_LENGTH) : undefined);
    const external = Object.fromEntries(
      Object.entries({
        sessionId: this.id,
        conversationId: p.conversationId,
        organizationId: p.organizationId,
        participantId: shown(participant.id),
        ani: shown(participant.ani),
        dnis: shown(participant.dnis),
        language: shown(p.language),
      }).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    return [
      {
        kind: 'start',
        source: 'audiohook',
        callId: p.conversationId as string,
        external,
        parties,
        encoding: 'mulaw',
        sampleRate: 8000,
        opened: () => this.message('opened', { media: [media], startPaused: false }),
      },
    ];
  }

  private refusal(code: ProblemCode, message: string): ForkStep[] {
    return [{ kind: 'problem', code, message, fatal: true }];
  }

  private message(type: string, parameters: Json): string {
    return JSON.stringify({ version: VERSION, type, seq: ++this.seq, clientseq: this.clientseq, id: this.id, parameters });
  }
}
