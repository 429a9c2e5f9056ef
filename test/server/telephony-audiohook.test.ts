import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { audioHookCall } from '../../clients/examples/call-centre/audiohook-client.ts';
import { floatToMulaw } from '../../src/audio/g711.ts';
import { readSse } from '../helpers/calls.ts';
import { type Service, startService, voiced } from '../helpers/service.ts';

const TOKEN = 'audiohook-test-api-key-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('Genesys AudioHook in, the call out to subscribers', () => {
  let service: Service;
  let url: string;

  before(async () => {
    service = await startService({}, [TOKEN]);
    url = `${service.http.replace('http', 'ws')}/v1/telephony/audiohook`;
  });
  after(() => service.stop());

  test('open, opened, audio, ping, close, closed: the call tagged per party, external the customer and internal the agent', async () => {
    const customer = floatToMulaw(voiced(6, 8000));
    const agent = floatToMulaw(new Float32Array(6 * 8000));
    const result = await audioHookCall(url, { conversationId: 'conv-ok', apiKey: TOKEN }, customer, agent);
    assert.equal(result.close.code, 1000, result.close.reason);
    assert.deepEqual(
      result.messages.map((m) => m.type),
      ['opened', 'pong', 'closed'],
    );
    assert.deepEqual(result.messages[0].parameters.media, [{ type: 'audio', format: 'PCMU', channels: ['external', 'internal'], rate: 8000 }]);
    const { events } = await readSse(`${service.http}/v1/calls/conv-ok/events`, auth);
    const last = events.at(-1)!;
    assert.ok(last.type === 'call_ended');
    assert.equal(last.summary.source, 'audiohook');
    assert.deepEqual(
      last.summary.parties.map((p) => [p.role, p.track]),
      [
        ['customer', 'external'],
        ['agent', 'internal'],
      ],
    );
    assert.equal(last.summary.stats?.audio_s, 6);
    const emotions = events.filter((e) => e.type === 'emotion');
    assert.ok(emotions.some((e) => e.party === 'customer') && emotions.some((e) => e.party === 'agent'));
  });

  test('a wrong API key: disconnect (unauthorized) and 1008, no call', async () => {
    const result = await audioHookCall(url, { conversationId: 'conv-key', apiKey: 'not-the-key-at-all-0000' }, new Uint8Array(800), new Uint8Array(800));
    assert.equal(result.close.code, 1008);
    assert.deepEqual(
      result.messages.map((m) => [m.type, m.parameters.reason]),
      [['disconnect', 'unauthorized']],
    );
    assert.equal((await fetch(`${service.http}/v1/calls/conv-key`, { headers: auth })).status, 404);
  });

  test('a media format the service cannot take, and audio before open: disconnect with the reason, 4400', async () => {
    const ws = new WebSocket(url, { headers: { 'X-API-KEY': TOKEN } });
    const got: { type: string; parameters: { reason?: string; info?: string } }[] = [];
    ws.on('message', (d) => got.push(JSON.parse(String(d))));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise((resolve) => ws.once('open', resolve));
    const id = crypto.randomUUID();
    ws.send(
      JSON.stringify({
        version: '2',
        type: 'open',
        seq: 1,
        serverseq: 0,
        id,
        position: 'PT0S',
        parameters: {
          organizationId: id,
          conversationId: 'conv-l16',
          participant: {},
          media: [{ type: 'audio', format: 'L16', channels: ['external'], rate: 16000 }],
        },
      }),
    );
    assert.equal(await closed, 4400);
    assert.equal(got[0]?.type, 'disconnect');
    assert.equal(got[0].parameters.reason, 'error');
    assert.match(got[0].parameters.info ?? '', /PCMU at 8000 Hz/);

    const early = new WebSocket(url, { headers: { 'X-API-KEY': TOKEN } });
    const earlyClosed = new Promise<{ code: number; reason: string }>((resolve) =>
      early.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
    await new Promise((resolve) => early.once('open', resolve));
    early.send(new Uint8Array(320));
    const { code, reason } = await earlyClosed;
    assert.equal(code, 4400);
    assert.match(reason, /audio before/);
  });
});
