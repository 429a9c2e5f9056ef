import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { ForkStep } from '../../src/telephony/media-fork.ts';
import { TwilioMediaStream } from '../../src/telephony/twilio.ts';
import { PROJECT_ROOT } from '../helpers/shared.ts';

/** Twilio's documented example of each message (test/fixtures/telephony). */
const documented = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'test/fixtures/telephony/twilio-media-streams.json'), 'utf8')) as Record<
  string,
  Record<string, unknown>
>;
const text = (m: unknown) => JSON.stringify(m);
const withStart = (change: (start: Record<string, unknown>) => void) => {
  const m = structuredClone(documented.start);
  change(m.start as Record<string, unknown>);
  return text(m);
};
const problems = (steps: ForkStep[]) => steps.filter((s) => s.kind === 'problem');

describe('Twilio Media Streams, as documented', () => {
  test('connected, start, media, dtmf, mark and stop: one call, inbound the customer on channel 0, outbound the agent on 1', () => {
    const twilio = new TwilioMediaStream();
    assert.deepEqual(twilio.text(text(documented.connected)), []);
    const [start] = twilio.text(text(documented.start));
    assert.equal(start.kind, 'start');
    assert.ok(start.kind === 'start');
    assert.equal(start.callId, 'CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX');
    assert.equal(start.source, 'twilio');
    assert.equal(start.encoding, 'mulaw');
    assert.equal(start.sampleRate, 8000);
    assert.deepEqual(start.parties, [
      { channel: 0, role: 'customer', track: 'inbound' },
      { channel: 1, role: 'agent', track: 'outbound' },
    ]);
    assert.equal(start.external.streamSid, 'MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX');
    assert.equal(start.external['param.FirstName'], 'Jane');
    const [media] = twilio.text(text(documented.media));
    assert.ok(media.kind === 'track_audio');
    assert.equal(media.track, 1);
    assert.equal(media.timestampMs, 5);
    assert.equal(media.bytes.length, 160);
    assert.ok(media.bytes.every((b) => b === 0xff));
    assert.deepEqual(twilio.text(text(documented.dtmf)), []);
    assert.deepEqual(twilio.text(text(documented.mark)), []);
    assert.deepEqual(twilio.text(text(documented.stop)), [{ kind: 'stop', reason: 'stop' }]);
    assert.equal(problems(twilio.text(text(documented.media))).length, 1, 'nothing is taken after stop');
  });

  test('custom parameters set the roles and carry the token, which is not shown with the call', () => {
    const [start] = new TwilioMediaStream().text(
      withStart((s) => (s.customParameters = { inbound_role: 'agent', outbound_role: 'customer', token: 'secret-token-of-16+' })),
    );
    assert.ok(start.kind === 'start');
    assert.deepEqual(
      start.parties.map((p) => p.role),
      ['agent', 'customer'],
    );
    assert.equal(start.token, 'secret-token-of-16+');
    assert.ok(!JSON.stringify(start.external).includes('secret'));
  });

  test('one track: media without a track name is that track', () => {
    const twilio = new TwilioMediaStream();
    twilio.text(withStart((s) => (s.tracks = ['inbound'])));
    const { track: _track, ...untracked } = (documented.media as { media: Record<string, unknown> }).media;
    const [media] = twilio.text(text({ ...documented.media, media: untracked }));
    assert.ok(media.kind === 'track_audio');
    assert.equal(media.track, 0);
  });

  test('malformed messages: fatal before the call can be placed, dropped and counted after', () => {
    const fatal = (steps: ForkStep[]) => steps.length === 1 && steps[0].kind === 'problem' && steps[0].fatal;
    assert.ok(fatal(new TwilioMediaStream().text(text(documented.media))), 'media before start');
    assert.ok(fatal(new TwilioMediaStream().text(text(documented.stop))), 'stop before start');
    assert.ok(fatal(new TwilioMediaStream().text(withStart((s) => delete s.callSid))), 'start without callSid');
    assert.ok(
      fatal(new TwilioMediaStream().text(withStart((s) => (s.mediaFormat = { encoding: 'audio/x-l16', sampleRate: 16000 })))),
      'a format Twilio does not send',
    );
    assert.ok(fatal(new TwilioMediaStream().text(withStart((s) => (s.tracks = ['both_tracks'])))), 'a track name that is not one');
    assert.ok(fatal(new TwilioMediaStream().text(withStart((s) => (s.customParameters = { inbound_role: 'manager' })))), 'a role that is not one');
    assert.ok(fatal(new TwilioMediaStream().text(withStart((s) => (s.customParameters = { inbound_role: 'agent' })))), 'both parties the agent');

    const twilio = new TwilioMediaStream();
    twilio.text(withStart((s) => (s.tracks = ['inbound'])));
    const media = documented.media as { media: Record<string, unknown> };
    const dropped = (m: unknown) => {
      const steps = twilio.text(typeof m === 'string' ? m : text(m));
      return steps.length === 1 && steps[0].kind === 'problem' && !steps[0].fatal ? steps[0].code : undefined;
    };
    assert.equal(dropped({ ...media, media: { ...media.media, track: 'outbound' } }), 'unknown_track');
    assert.equal(dropped({ ...media, media: { ...media.media, track: 'inbound', payload: 'not base64!' } }), 'bad_audio');
    assert.equal(dropped({ ...media, media: { ...media.media, track: 'inbound', timestamp: '-5' } }), 'bad_message');
    assert.equal(dropped('{"event":'), 'bad_message');
    assert.equal(dropped({ event: 'hangup' }), 'bad_message');
    assert.equal(dropped(documented.start), 'out_of_order');
    assert.equal(problems(twilio.binary()).length, 1);
  });
});
