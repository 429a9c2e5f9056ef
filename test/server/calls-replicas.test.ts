import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { audioHookCall } from '../../clients/examples/call-centre/audiohook-client.ts';
import { twilioMessages } from '../../clients/examples/call-centre/twilio-media-stream.ts';
import { floatToMulaw } from '../../src/audio/g711.ts';
import type { CallEvent, CallInfo, CallSummary } from '../../src/protocol/calls.ts';
import { readSse, twilioStream } from '../helpers/calls.ts';
import { needsRedis, type RedisProcess, startRedis } from '../helpers/redis.ts';
import { type ServeProcess, serveProcess } from '../helpers/serve-process.ts';
import { metricValue, type Service, startService, voiced } from '../helpers/service.ts';

const TOKEN = 'replicas-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

/** A two-party call of `seconds`: the customer speaks the first half, the agent the second. */
function call(seconds: number): { inbound: Uint8Array; outbound: Uint8Array } {
  const n = seconds * 8000;
  const customer = new Float32Array(n);
  const agent = new Float32Array(n);
  customer.set(voiced(seconds / 2, 8000));
  agent.set(voiced(seconds / 2, 8000), n / 2);
  return { inbound: floatToMulaw(customer), outbound: floatToMulaw(agent) };
}
const ids = (callSid: string) => ({ callSid, streamSid: `MZ${callSid}`, accountSid: 'AC0', customParameters: { token: TOKEN } });

async function listed(http: string, id: string): Promise<CallInfo | undefined> {
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${http}/v1/calls`, { headers: auth });
    if (res.status === 200) {
      const found = ((await res.json()) as { calls: CallInfo[] }).calls.find((c) => c.id === id);
      if (found) return found;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return undefined;
}

/** A call's events read over SSE for at most `ms` (a call whose replica died never sends call_ended). */
async function readFor(http: string, id: string, ms: number, since = 0): Promise<CallEvent[]> {
  const signal = AbortSignal.timeout(ms);
  const events: CallEvent[] = [];
  try {
    const res = await fetch(`${http}/v1/calls/${id}/events?since=${since}`, { headers: auth, signal });
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of res.body!) {
      text += decoder.decode(chunk, { stream: true });
      let end = text.indexOf('\n\n');
      while (end >= 0) {
        const data = /^data: (.*)$/m.exec(text.slice(0, end));
        if (data) events.push(JSON.parse(data[1]) as CallEvent);
        text = text.slice(end + 2);
        end = text.indexOf('\n\n');
      }
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  return events;
}

const seqs = (events: CallEvent[]) => events.map((e) => e.seq);

/** A whole call as a subscriber read it: numbered 1, 2, 3, ... without gaps, ending with call_ended; that event. */
function whole(events: CallEvent[]): Extract<CallEvent, { type: 'call_ended' }> {
  assert.deepEqual(
    seqs(events),
    events.map((_, i) => i + 1),
  );
  const last = events.at(-1)!;
  assert.ok(last.type === 'call_ended');
  return last;
}

describe('calls across replicas, through Redis', { skip: needsRedis }, () => {
  let redis: RedisProcess;
  let a: ServeProcess;
  let b: Service;

  before(async () => {
    redis = await startRedis();
    // Replica A is `aer serve` itself, so that it can be killed as a process; B is in this process.
    a = await serveProcess(['--port', '0', '--bus', redis.url, '--workers', '1'], { AER_TOKENS: TOKEN });
    b = await startService({ bus: redis.url }, [TOKEN]);
  });
  after(async () => {
    await a.stop();
    await b.stop();
    await redis.stop();
  });

  test('a call streamed to one replica: a subscriber on another gets every event of both parties, in order, and the summary', async () => {
    const streamed = twilioStream(`ws://127.0.0.1:${a.port}/v1/telephony/twilio`, twilioMessages(ids('CA-across'), call(8)));
    assert.equal((await listed(b.http, 'CA-across'))?.source, 'twilio', 'the call is listed on the other replica');
    const live = readSse(`${b.http}/v1/calls/CA-across/events`, auth);
    assert.equal((await streamed).code, 1000);
    const { events } = await live;
    const last = whole(events);
    assert.equal(last.summary.stats?.audio_s, 8);
    const parties = new Set(events.flatMap((e) => (e.type === 'emotion' ? [e.party] : [])));
    assert.deepEqual([...parties].sort(), ['agent', 'customer']);
    const summary = (await (await fetch(`${b.http}/v1/calls/CA-across`, { headers: auth })).json()) as CallSummary;
    assert.equal(summary.status, 'ended');
    assert.equal(summary.last_seq, last.seq);
  });

  test('an AudioHook call streamed to one replica is followed on the other, external the customer and internal the agent', async () => {
    const audio = call(6);
    const streamed = audioHookCall(
      `ws://127.0.0.1:${a.port}/v1/telephony/audiohook`,
      { conversationId: 'conv-across', apiKey: TOKEN },
      audio.inbound,
      audio.outbound,
    );
    assert.ok(await listed(b.http, 'conv-across'));
    const live = readSse(`${b.http}/v1/calls/conv-across/events`, auth);
    assert.equal((await streamed).close.code, 1000);
    const last = whole((await live).events);
    assert.deepEqual(
      last.summary.parties.map((p) => [p.role, p.track]),
      [
        ['customer', 'external'],
        ['agent', 'internal'],
      ],
    );
    const ws = new (await import('ws')).default(`${b.http.replace('http', 'ws')}/v1/calls/conv-across/events?token=not-the-token-0000000`);
    assert.equal(await new Promise((resolve) => ws.once('close', resolve)), 1008, 'a subscriber with a bad token is refused');
  });

  test('a replica killed mid-call loses no event it published; a subscriber resuming with since gets the rest without gaps or repeats', async () => {
    const audio = call(30);
    const messages = twilioMessages(ids('CA-killed'), audio);
    // Real time: 20 ms of both tracks every 20 ms, until the replica dies.
    const ws = new (await import('ws')).default(`ws://127.0.0.1:${a.port}/v1/telephony/twilio`);
    await new Promise((resolve) => ws.once('open', resolve));
    ws.on('error', () => {});
    const pacer = setInterval(() => {
      for (let k = 0; k < 2; k++) {
        const next = messages.next();
        if (next.done || ws.readyState !== ws.OPEN) return clearInterval(pacer);
        ws.send(next.value);
      }
    }, 20);
    assert.ok(await listed(b.http, 'CA-killed'));
    const first = await readFor(b.http, 'CA-killed', 4000);
    assert.ok(first.length > 3, `events before the kill (${first.length})`);
    a.child.kill('SIGKILL');
    clearInterval(pacer);
    await a.stop();
    const lastSeen = first.at(-1)!.seq;
    const rest = await readFor(b.http, 'CA-killed', 1500, lastSeen);
    const all = await readFor(b.http, 'CA-killed', 1500);
    assert.deepEqual(
      seqs(all),
      seqs(all).map((_, i) => i + 1),
      'what the bus holds is numbered without gaps',
    );
    assert.deepEqual([...seqs(first), ...seqs(rest)], seqs(all), 'the first subscription and the resumed one are the whole, once each');
    assert.deepEqual(seqs(first), seqs(all).slice(0, first.length));
    a = await serveProcess(['--port', '0', '--bus', redis.url], { AER_TOKENS: TOKEN });
  });

  test('Redis that stops answering mid-call: the call goes on, the bus is reported degraded, and every event arrives once Redis is back', async () => {
    const messages = [...twilioMessages(ids('CA-stall'), call(6))];
    const ws = new (await import('ws')).default(`${b.http.replace('http', 'ws')}/v1/telephony/twilio`);
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(messages[0]);
    ws.send(messages[1]);
    assert.ok(await listed(b.http, 'CA-stall'));
    redis.pause();
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    for (const m of messages.slice(2)) ws.send(m);
    assert.equal(await closed, 1000, 'the call was tagged to its end with Redis away');
    type Ready = { status?: string; bus?: { ok: boolean; detail?: string } };
    let ready: Ready = {};
    for (let i = 0; i < 100 && ready.bus?.ok !== false; i++) {
      await new Promise((r) => setTimeout(r, 50));
      ready = (await (await fetch(`${b.http}/readyz`)).json()) as Ready;
    }
    assert.equal(ready.bus?.ok, false, JSON.stringify(ready));
    const metrics = await (await fetch(`${b.http}/metrics`, { headers: auth })).text();
    assert.equal(metricValue(metrics, 'aer_bus_up'), 0);
    redis.resume();
    let events: CallEvent[] = [];
    for (let i = 0; i < 100 && events.at(-1)?.type !== 'call_ended'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      events = (await readSse(`${b.http}/v1/calls/CA-stall/events`, auth)).events;
    }
    assert.equal(events.at(-1)?.type, 'call_ended');
    assert.deepEqual(
      seqs(events),
      events.map((_, i) => i + 1),
    );
    ready = (await (await fetch(`${b.http}/readyz`)).json()) as Ready;
    assert.equal(ready.bus?.ok, true);
  });

  test('Redis away at start: the replica starts, says the bus is degraded, and tags calls; the calls API answers 503', async () => {
    const down = await startService({ bus: 'redis://127.0.0.1:1' }, [TOKEN]);
    try {
      assert.match(down.logs.join('\n'), /bus is degraded/);
      const ready = (await (await fetch(`${down.http}/readyz`)).json()) as { status: string; bus: { ok: boolean } };
      assert.equal(ready.status, 'ready');
      assert.equal(ready.bus.ok, false);
      const closed = await twilioStream(`${down.http.replace('http', 'ws')}/v1/telephony/twilio`, twilioMessages(ids('CA-nobus'), call(4)));
      assert.equal(closed.code, 1000);
      const list = await fetch(`${down.http}/v1/calls`, { headers: auth });
      assert.equal(list.status, 503);
      assert.equal(((await list.json()) as { error: { code: string } }).error.code, 'unavailable');
    } finally {
      await down.stop();
    }
  });
});
