import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { AudioHookSession } from '../../src/telephony/audiohook.ts';
import type { ForkStep } from '../../src/telephony/media-fork.ts';
import { PROJECT_ROOT } from '../helpers/shared.ts';

/** The protocol specification's examples (test/fixtures/telephony). */
const documented = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'test/fixtures/telephony/audiohook.json'), 'utf8')) as Record<
  string,
  Record<string, unknown>
>;
const text = (m: unknown) => JSON.stringify(m);
const replies = (steps: ForkStep[]) => steps.flatMap((s) => (s.kind === 'reply' ? [JSON.parse(s.text)] : []));
const fatal = (steps: ForkStep[]) => steps.length === 1 && steps[0].kind === 'problem' && steps[0].fatal;

test('the documented session: open takes both channels (external the customer), ping gets pong, close gets closed, each numbered as the specification shows', () => {
  const hook = new AudioHookSession();
  const [start] = hook.text(text(documented.open));
  assert.ok(start.kind === 'start');
  assert.equal(start.callId, '090eaa2f-72fa-480a-83e0-8667ff89c0ec');
  assert.equal(start.source, 'audiohook');
  assert.deepEqual(start.parties, [
    { channel: 0, role: 'customer', track: 'external' },
    { channel: 1, role: 'agent', track: 'internal' },
  ]);
  assert.equal(start.external.ani, '+1-555-555-1234');
  assert.deepEqual(JSON.parse(start.opened!()), documented.opened);
  const frame = new Uint8Array(1600).fill(0xff);
  assert.deepEqual(hook.binary(frame), [{ kind: 'audio', bytes: frame }]);
  assert.deepEqual(replies(hook.text(text(documented.ping))), [documented.pong]);
  assert.deepEqual(hook.text(text(documented.update)), []);
  assert.deepEqual(hook.text(text(documented.paused)), [{ kind: 'pause' }]);
  assert.deepEqual(hook.text(text(documented.resumed)), [{ kind: 'resume' }]);
  const closing = hook.text(text(documented.close));
  assert.deepEqual(replies(closing), [documented.closed]);
  assert.ok(closing.some((s) => s.kind === 'stop'));
});

test('one channel offered alone is taken: internal only is the agent on channel 0', () => {
  const open = structuredClone(documented.open) as { parameters: { media: unknown[] } };
  open.parameters.media = [{ type: 'audio', format: 'PCMU', channels: ['internal'], rate: 8000 }];
  const [start] = new AudioHookSession().text(text(open));
  assert.ok(start.kind === 'start');
  assert.deepEqual(start.parties, [{ channel: 0, role: 'agent', track: 'internal' }]);
});

test('bad input: a format the service cannot take, audio before open, messages out of sequence or of another session; a disconnect says why', () => {
  const l16 = structuredClone(documented.open) as { parameters: { media: unknown[] } };
  l16.parameters.media = [{ type: 'audio', format: 'L16', channels: ['external', 'internal'], rate: 16000 }];
  const hook = new AudioHookSession();
  const refused = hook.text(text(l16));
  assert.ok(fatal(refused));
  assert.ok(refused[0].kind === 'problem' && refused[0].code === 'unsupported_media');
  const disconnect = JSON.parse(hook.refuse('error', 'no format')!);
  assert.equal(disconnect.type, 'disconnect');
  assert.deepEqual(disconnect.parameters, { reason: 'error', info: 'no format' });

  assert.ok(fatal(new AudioHookSession().binary(new Uint8Array(160))), 'audio before open');
  assert.equal(new AudioHookSession().refuse('error', 'x'), undefined, 'nothing to say before the session has an id');
  assert.ok(fatal(new AudioHookSession().text(text(documented.ping))), 'ping before open');
  const skipping = new AudioHookSession();
  skipping.text(text(documented.open));
  assert.ok(fatal(skipping.text(text({ ...documented.ping, seq: 5 }))), 'seq skips');
  const other = new AudioHookSession();
  other.text(text(documented.open));
  assert.ok(fatal(other.text(text({ ...documented.ping, id: '00000000-0000-0000-0000-000000000000' }))), 'another session id');
  const odd = new AudioHookSession();
  odd.text(text(documented.open));
  const [dropped] = odd.binary(new Uint8Array(161));
  assert.ok(dropped.kind === 'problem' && !dropped.fatal, 'half a stereo sample is dropped, not fatal');
  assert.ok(fatal(new AudioHookSession().text('{"version": "1"}')));
});
