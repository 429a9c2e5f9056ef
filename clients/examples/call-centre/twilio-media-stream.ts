/**
 * A call as Twilio Media Streams sends it
 * (https://www.twilio.com/docs/voice/media-streams/websocket-messages):
 * `connected`, `start` (ids, tracks, mu-law at 8000 Hz, custom
 * parameters), then each track's audio as `media` messages of 20 ms
 * (base64 mu-law, chunk numbers from 1 per track, timestamps in ms from
 * the stream's start), the tracks alternating, and `stop`. What the
 * reference integration replays into the service, and what the tests and
 * the benchmark use as a Twilio client.
 */

export interface TwilioCallIds {
  callSid: string;
  streamSid: string;
  accountSid: string;
  customParameters?: Record<string, string>;
}

/** mu-law bytes per 20 ms at 8000 Hz. */
const TWILIO_CHUNK_BYTES = 160;
export const TWILIO_CHUNK_MS = 20;

/** The messages, in the order Twilio sends them. `outbound` may be absent (an inbound-only stream). */
export function* twilioMessages(ids: TwilioCallIds, tracks: { inbound: Uint8Array; outbound?: Uint8Array }): Generator<string> {
  let sequenceNumber = 0;
  const names = tracks.outbound ? (['inbound', 'outbound'] as const) : (['inbound'] as const);
  yield JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' });
  yield JSON.stringify({
    event: 'start',
    sequenceNumber: String(++sequenceNumber),
    start: {
      accountSid: ids.accountSid,
      streamSid: ids.streamSid,
      callSid: ids.callSid,
      tracks: names,
      customParameters: ids.customParameters ?? {},
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    },
    streamSid: ids.streamSid,
  });
  const length = Math.max(...names.map((n) => tracks[n]!.length));
  for (let chunk = 0; chunk * TWILIO_CHUNK_BYTES < length; chunk++) {
    for (const track of names) {
      const audio = tracks[track]!.subarray(chunk * TWILIO_CHUNK_BYTES, (chunk + 1) * TWILIO_CHUNK_BYTES);
      if (audio.length === 0) continue;
      yield JSON.stringify({
        event: 'media',
        sequenceNumber: String(++sequenceNumber),
        media: { track, chunk: String(chunk + 1), timestamp: String(chunk * TWILIO_CHUNK_MS), payload: Buffer.from(audio).toString('base64') },
        streamSid: ids.streamSid,
      });
    }
  }
  yield JSON.stringify({
    event: 'stop',
    sequenceNumber: String(++sequenceNumber),
    stop: { accountSid: ids.accountSid, callSid: ids.callSid },
    streamSid: ids.streamSid,
  });
}
