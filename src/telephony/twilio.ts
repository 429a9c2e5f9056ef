/**
 * Twilio Media Streams (https://www.twilio.com/docs/voice/media-streams/websocket-messages):
 * Twilio opens the WebSocket and sends JSON text messages: `connected`
 * (protocol "Call"), `start` once (streamSid, accountSid, callSid, the
 * tracks to expect, customParameters, mediaFormat: audio/x-mulaw at 8000
 * Hz, 1 channel), then `media` (track inbound or outbound, chunk number,
 * timestamp in ms from the stream's start, base64 mu-law payload), `dtmf`
 * and `mark` (bidirectional streams), and `stop`.
 *
 * Each track is a channel (inbound first): `inbound` is what the caller
 * says (the customer, on a contact centre's inbound call) and `outbound`
 * what the call plays to them (the agent); custom parameters
 * `inbound_role` and `outbound_role` say otherwise, e.g. for outbound
 * campaigns. A `token` custom parameter (<Parameter name="token">)
 * authenticates the stream where the service has tokens: Twilio cannot
 * set headers or a query on the socket.
 */
import { quoted } from '../protocol/client-text.ts';
import { type Party, type Role, ROLES } from '../protocol/calls.ts';
import type { ForkStep, MediaForkProtocol, ProblemCode } from './media-fork.ts';

const TRACKS = ['inbound', 'outbound'] as const;
type Track = (typeof TRACKS)[number];
const DEFAULT_ROLES: Record<Track, Role> = { inbound: 'customer', outbound: 'agent' };
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Twilio's ids are strings; these bound what an impostor can make us keep. */
const MAX_ID_LENGTH = 128;
const MAX_PARAMETERS = 32;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH;
/** Twilio sends numbers in media as decimal strings ("chunk": "1", "timestamp": "5"). */
const decimal = (v: unknown): number | undefined =>
  typeof v === 'string' && /^[0-9]{1,12}$/.test(v) ? Number(v) : typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;

function problem(code: ProblemCode, message: string, fatal = false): ForkStep[] {
  return [{ kind: 'problem', code, message, fatal }];
}

export class TwilioMediaStream implements MediaForkProtocol {
  private tracks: Track[] | undefined;
  private stopped = false;

  text(message: string): ForkStep[] {
    let m: unknown;
    try {
      m = JSON.parse(message);
    } catch {
      return problem('bad_message', `a Twilio message must be JSON, got ${quoted(message)}`);
    }
    if (!isObject(m) || typeof m.event !== 'string') return problem('bad_message', 'a Twilio message is a JSON object with an "event"');
    if (this.stopped) return problem('out_of_order', `${quoted(m.event)} after stop`);
    switch (m.event) {
      case 'connected':
        if (m.protocol !== undefined && m.protocol !== 'Call')
          return problem('bad_message', `connected names protocol ${quoted(m.protocol)}, not "Call"`, true);
        return [];
      case 'start':
        return this.start(m);
      case 'media':
        return this.media(m);
      case 'stop':
        if (!this.tracks) return problem('out_of_order', 'stop before start', true);
        this.stopped = true;
        return [{ kind: 'stop', reason: 'stop' }];
      case 'mark':
      case 'dtmf':
        // Marks answer audio a bidirectional stream sent to the call, which this service never does; key presses carry no emotion.
        return [];
      default:
        return problem('bad_message', `unknown Twilio event ${quoted(m.event)}; expected connected, start, media, mark, dtmf or stop`);
    }
  }

  binary(): ForkStep[] {
    return problem('bad_message', 'Twilio sends JSON text messages; a binary message was dropped');
  }

  private start(m: Json): ForkStep[] {
    if (this.tracks) return problem('out_of_order', 'a second start on the same stream was ignored');
    const s = m.start;
    if (!isObject(s)) return problem('bad_message', 'start has no "start" object', true);
    for (const key of ['streamSid', 'accountSid', 'callSid'] as const)
      if (!isId(s[key])) return problem('bad_message', `start.${key} must be a string of 1-${MAX_ID_LENGTH} characters`, true);
    const format = s.mediaFormat;
    if (!isObject(format)) return problem('bad_message', 'start.mediaFormat is missing', true);
    if (format.encoding !== 'audio/x-mulaw' || format.sampleRate !== 8000 || (format.channels ?? 1) !== 1)
      return problem(
        'unsupported_media',
        `start.mediaFormat is ${JSON.stringify(format)}; Twilio Media Streams carry audio/x-mulaw at 8000 Hz, 1 channel per track`,
        true,
      );
    const tracks = s.tracks ?? ['inbound'];
    if (
      !Array.isArray(tracks) ||
      tracks.length === 0 ||
      tracks.length > 2 ||
      !tracks.every((t) => (TRACKS as readonly unknown[]).includes(t)) ||
      new Set(tracks).size !== tracks.length
    )
      return problem('bad_message', `start.tracks must be ["inbound"], ["outbound"] or ["inbound", "outbound"], got ${JSON.stringify(tracks)}`, true);
    const params = s.customParameters ?? {};
    if (!isObject(params) || Object.keys(params).length > MAX_PARAMETERS || !Object.values(params).every((v) => typeof v === 'string' && v.length <= 1024))
      return problem('bad_message', `start.customParameters must be an object of at most ${MAX_PARAMETERS} strings`, true);
    const parameters = params as Record<string, string>;
    const ordered = TRACKS.filter((t) => tracks.includes(t));
    const parties: Party[] = [];
    for (const [channel, track] of ordered.entries()) {
      const role = parameters[`${track}_role`] ?? DEFAULT_ROLES[track];
      if (!(ROLES as readonly string[]).includes(role))
        return problem('bad_message', `customParameters.${track}_role must be ${ROLES.join(' or ')}, got ${quoted(role)}`, true);
      parties.push({ channel, role: role as Role, track });
    }
    if (parties.length === 2 && parties[0].role === parties[1].role)
      return problem('bad_message', `both tracks have the role ${parties[0].role}; give inbound_role and outbound_role different roles`, true);
    this.tracks = ordered;
    const { token, ...shown } = parameters;
    return [
      {
        kind: 'start',
        source: 'twilio',
        callId: s.callSid as string,
        external: { callSid: s.callSid as string, streamSid: s.streamSid as string, accountSid: s.accountSid as string, ...prefixed(shown) },
        parties,
        encoding: 'mulaw',
        sampleRate: 8000,
        ...(token !== undefined ? { token } : {}),
      },
    ];
  }

  private media(m: Json): ForkStep[] {
    if (!this.tracks) return problem('out_of_order', 'media before start: Twilio sends start first', true);
    const media = m.media;
    if (!isObject(media)) return problem('bad_message', 'media has no "media" object');
    const track = media.track ?? (this.tracks.length === 1 ? this.tracks[0] : undefined);
    const channel = this.tracks.indexOf(track as Track);
    if (channel < 0) return problem('unknown_track', `media.track ${quoted(track)} is not one of the stream's tracks (${this.tracks.join(', ')})`);
    const timestamp = decimal(media.timestamp);
    if (timestamp === undefined) return problem('bad_message', `media.timestamp must be milliseconds in decimal digits, got ${quoted(media.timestamp)}`);
    const payload = media.payload;
    if (typeof payload !== 'string' || payload.length === 0 || !BASE64.test(payload))
      return problem('bad_audio', 'media.payload is not base64 audio; the chunk was dropped');
    return [{ kind: 'track_audio', track: channel, timestampMs: timestamp, bytes: new Uint8Array(Buffer.from(payload, 'base64')) }];
  }
}

/** Custom parameters, shown with the call under their own prefix so that they cannot pass for Twilio's ids. */
function prefixed(parameters: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(parameters).map(([k, v]) => [`param.${k}`, v]));
}
