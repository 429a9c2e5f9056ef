import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { twilioMessages } from '../../clients/examples/call-centre/twilio-media-stream.ts';
import { floatToMulaw } from '../../src/audio/g711.ts';
import { DEFAULT_WEBHOOK_OPTIONS, parseWebhook, signature } from '../../src/calls/webhooks.ts';
import type { CallEvent, CallInfo, CallSummary } from '../../src/protocol/calls.ts';
import { readSse, twilioStream } from '../helpers/calls.ts';
import { metricValue, type Service, startService, voiced } from '../helpers/service.ts';
import { prerequisite } from '../helpers/shared.ts';
import { UWS_PACKAGE, uwsAvailable } from '../../src/server/transport/uws-transport.ts';

const TOKEN = 'telephony-test-token-0123456789';
const ids = (callSid: string, customParameters: Record<string, string> = { token: TOKEN }) => ({
  callSid,
  streamSid: `MZ${callSid}`,
  accountSid: 'AC0000',
  customParameters,
});
/** A two-party call: the customer talks for the first 4 s, the agent for the next 4. */
function call(): { inbound: Uint8Array; outbound: Uint8Array } {
  const n = 8 * 8000;
  const customer = new Float32Array(n);
  const agent = new Float32Array(n);
  customer.set(voiced(4, 8000));
  agent.set(voiced(4, 8000), 4 * 8000);
  return { inbound: floatToMulaw(customer), outbound: floatToMulaw(agent) };
}

const auth = { authorization: `Bearer ${TOKEN}` };

describe('Twilio Media Streams in, the call out to subscribers', () => {
  let service: Service;
  let base: string;

  before(async () => {
    service = await startService({}, [TOKEN]);
    base = service.http.replace('http', 'ws');
  });
  after(() => service.stop());

  test('a two-track call: every event numbered, labelled by role, replayed to a late SSE subscriber and a WebSocket one, with the summary', async () => {
    const closed = await twilioStream(`${base}/v1/telephony/twilio`, twilioMessages(ids('CA-two'), call()));
    assert.equal(closed.code, 1000, closed.reason);
    const { status, events, ids: seqIds } = await readSse(`${service.http}/v1/calls/CA-two/events`, auth);
    assert.equal(status, 200);
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i + 1),
      'numbered 1, 2, 3, ... without gaps',
    );
    assert.deepEqual(
      seqIds,
      events.map((e) => e.seq),
      'the SSE id is the sequence number',
    );
    assert.equal(events[0].type, 'call_started');
    const last = events.at(-1)!;
    assert.ok(last.type === 'call_ended');
    assert.equal(last.reason, 'stop');
    const emotions = events.filter((e) => e.type === 'emotion');
    for (const role of ['customer', 'agent'])
      assert.ok(
        emotions.some((e) => e.party === role),
        `${role} windows`,
      );
    assert.ok(emotions.every((e) => (e.party === 'customer') === (e.channel === 0)));
    const windowsEnd = Math.max(...emotions.map((e) => e.end_s));
    assert.ok(windowsEnd >= 7.5, `the call's windows reach its end (${windowsEnd} s)`);
    assert.deepEqual(
      last.summary.parties.map((p) => [p.channel, p.role, p.track]),
      [
        [0, 'customer', 'inbound'],
        [1, 'agent', 'outbound'],
      ],
    );
    assert.equal(last.summary.external.streamSid, 'MZCA-two');
    assert.ok(!JSON.stringify(last).includes(TOKEN), 'the token is not shown');

    const ws = new WebSocket(`${base}/v1/calls/CA-two/events?since=3`, { headers: auth });
    const got: CallEvent[] = [];
    ws.on('message', (d) => got.push(JSON.parse(String(d)) as CallEvent));
    const wsClosed = await new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    assert.equal(wsClosed, 1000);
    assert.deepEqual(
      got.map((e) => e.seq),
      events.slice(3).map((e) => e.seq),
      'since=3 resumes at 4, without gaps or duplicates',
    );

    const list = (await (await fetch(`${service.http}/v1/calls`, { headers: auth })).json()) as { calls: CallInfo[] };
    assert.equal(list.calls.find((c) => c.id === 'CA-two')?.status, 'ended');
    const summary = (await (await fetch(`${service.http}/v1/calls/CA-two`, { headers: auth })).json()) as CallSummary;
    assert.equal(summary.end_reason, 'stop');
    assert.equal(summary.last_seq, last.seq);
    assert.equal(summary.stats?.audio_s, 8);
    const metrics = await (await fetch(`${service.http}/metrics`, { headers: auth })).text();
    assert.equal(metricValue(metrics, 'aer_calls_started_total', 'source="twilio"'), 1);
  });

  test('a live subscriber gets the events as they happen; Last-Event-ID resumes', async () => {
    const messages = [...twilioMessages(ids('CA-live'), call())];
    const ws = new WebSocket(`${base}/v1/telephony/twilio`);
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(messages[0]);
    ws.send(messages[1]);
    // The call exists once its start is taken.
    let listed: CallInfo | undefined;
    for (let i = 0; i < 100 && !listed; i++) {
      await new Promise((r) => setTimeout(r, 20));
      listed = ((await (await fetch(`${service.http}/v1/calls`, { headers: auth })).json()) as { calls: CallInfo[] }).calls.find((c) => c.id === 'CA-live');
    }
    assert.equal(listed?.status, 'live');
    const live = readSse(`${service.http}/v1/calls/CA-live/events`, auth);
    for (const m of messages.slice(2)) ws.send(m);
    const { events } = await live;
    assert.equal(events.at(-1)?.type, 'call_ended');
    const resumed = await readSse(`${service.http}/v1/calls/CA-live/events`, { ...auth, 'last-event-id': String(events.length - 2) });
    assert.deepEqual(
      resumed.events.map((e) => e.seq),
      [events.length - 1, events.length],
    );
  });

  test('bad input: no token, media before start, an unknown call, a bad since', async () => {
    const noToken = await twilioStream(`${base}/v1/telephony/twilio`, twilioMessages(ids('CA-anon', {}), call()));
    assert.equal(noToken.code, 1008);
    assert.match(noToken.reason, /token/);
    const headerToken = await twilioStream(`${base}/v1/telephony/twilio`, twilioMessages(ids('CA-header', {}), call()), auth);
    assert.equal(headerToken.code, 1000, 'a token on the connection is enough');
    const [, start, media] = [...twilioMessages(ids('CA-early'), call())];
    const early = await twilioStream(`${base}/v1/telephony/twilio`, [media, start]);
    assert.equal(early.code, 4400);
    assert.match(early.reason, /media before start/);
    assert.equal((await fetch(`${service.http}/v1/calls/CA-nowhere`, { headers: auth })).status, 404);
    assert.equal((await fetch(`${service.http}/v1/calls/CA-two/events?since=x`, { headers: auth })).status, 400);
    assert.equal((await fetch(`${service.http}/v1/calls`)).status, 401, 'the calls API needs a token');
  });
});

describe('webhooks of a call', () => {
  test("the call's events reach a webhook, signed; one that never answers does not hold up the call or the other", async () => {
    const got: { body: string; headers: http.IncomingHttpHeaders }[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        got.push({ body, headers: req.headers });
        res.writeHead(204).end();
      });
    });
    const hanging = http.createServer(() => {});
    for (const s of [receiver, hanging]) await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const url = (s: http.Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`;
    const service = await startService({
      webhooks: [parseWebhook(`${url(hanging)} events=emotion`), parseWebhook(`${url(receiver)} events=change,call_ended`)],
      webhook: { ...DEFAULT_WEBHOOK_OPTIONS, secret: 'whsec-0123456789', timeoutMs: 60_000 },
      // The hanging endpoint's queue is given up at the shutdown deadline.
      shutdownTimeoutMs: 1000,
    });
    try {
      const started = performance.now();
      const closed = await twilioStream(`${service.http.replace('http', 'ws')}/v1/telephony/twilio`, twilioMessages(ids('CA-hooks', {}), call()));
      assert.equal(closed.code, 1000);
      assert.ok(performance.now() - started < 20_000);
      for (let i = 0; i < 200 && !got.some((g) => JSON.parse(g.body).type === 'call_ended'); i++) await new Promise((r) => setTimeout(r, 25));
      const ended = got.find((g) => JSON.parse(g.body).type === 'call_ended');
      assert.ok(ended, 'call_ended delivered');
      assert.equal(ended.headers['x-aer-signature'], signature('whsec-0123456789', String(ended.headers['x-aer-timestamp']), ended.body));
      assert.ok(
        got.every((g) => ['change', 'call_ended'].includes(JSON.parse(g.body).type)),
        'only the events asked for',
      );
    } finally {
      await service.stop();
      hanging.closeAllConnections();
      for (const s of [receiver, hanging]) await new Promise((resolve) => s.close(resolve));
    }
  });
});

describe('calls over the uWebSockets.js transport', { skip: prerequisite(uwsAvailable(), `${UWS_PACKAGE} is not installed (optional dependency)`) }, () => {
  test('the Twilio endpoint, the SSE events and the WebSocket events as over ws', async () => {
    const service = await startService({ transport: 'uws' }, [TOKEN]);
    try {
      const base = service.http.replace('http', 'ws');
      const closed = await twilioStream(`${base}/v1/telephony/twilio`, twilioMessages(ids('CA-uws'), call()));
      assert.equal(closed.code, 1000, closed.reason);
      const { events } = await readSse(`${service.http}/v1/calls/CA-uws/events`, auth);
      assert.deepEqual(
        events.map((e) => e.seq),
        events.map((_, i) => i + 1),
      );
      assert.equal(events.at(-1)?.type, 'call_ended');
      const ws = new WebSocket(`${base}/v1/calls/CA-uws/events?since=1`, { headers: auth });
      const got: CallEvent[] = [];
      ws.on('message', (d) => got.push(JSON.parse(String(d)) as CallEvent));
      assert.equal(await new Promise((resolve) => ws.once('close', resolve)), 1000);
      assert.deepEqual(
        got.map((e) => e.seq),
        events.slice(1).map((e) => e.seq),
      );
      const nowhere = new WebSocket(`${base}/v1/nowhere`);
      const refused = await new Promise<number>((resolve) => nowhere.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
      assert.equal(refused, 404, 'no upgrade on a path the service does not serve');
    } finally {
      await service.stop();
    }
  });
});
