import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StoredEvent } from '../../src/calls/bus.ts';
import { MemoryBus } from '../../src/calls/memory-bus.ts';
import type { CallSummary } from '../../src/protocol/calls.ts';

const event = (seq: number, type: StoredEvent['type'] = 'emotion'): StoredEvent => ({ seq, type, time: Date.now(), json: JSON.stringify({ seq }) });
const summary = (id: string, status: 'live' | 'ended', started_at = Date.now()): CallSummary => ({
  id,
  source: 'twilio',
  external: {},
  started_at,
  ended_at: status === 'ended' ? Date.now() : null,
  status,
  parties: [],
  last_seq: 0,
  alerts: 0,
  summary: [],
  alert_list: [],
  end_reason: null,
  stats: null,
});

async function collect(bus: MemoryBus, id: string, after: number, signal = new AbortController().signal): Promise<number[]> {
  const seqs: number[] = [];
  for await (const e of bus.events(id, after, signal)) seqs.push(e.seq);
  return seqs;
}

test('a subscriber gets the replay after `since`, then live events, and ends with call_ended', async () => {
  const bus = new MemoryBus();
  for (let i = 1; i <= 3; i++) bus.publish('c1', event(i));
  const got = collect(bus, 'c1', 1);
  await new Promise((r) => setImmediate(r));
  bus.publish('c1', event(4));
  bus.publish('c1', event(5, 'call_ended'));
  bus.publish('c1', event(6));
  assert.deepEqual(await got, [2, 3, 4, 5]);
  assert.deepEqual(await collect(bus, 'c1', 0), [1, 2, 3, 4, 5], 'a late subscriber replays from the start');
});

test('a subscriber of a quiet call ends when its signal aborts, and leaves nothing waiting', async () => {
  const bus = new MemoryBus();
  const stop = new AbortController();
  const got = collect(bus, 'c2', 0, stop.signal);
  await new Promise((r) => setImmediate(r));
  stop.abort();
  assert.deepEqual(await got, []);
});

test('events beyond the cap are dropped oldest first; a subscriber from the start begins at the oldest kept', async () => {
  const bus = new MemoryBus({ maxEventsPerCall: 3, endedRetentionMs: 60_000, maxEndedCalls: 10 });
  for (let i = 1; i <= 5; i++) bus.publish('c3', event(i, i === 5 ? 'call_ended' : 'emotion'));
  assert.deepEqual(await collect(bus, 'c3', 0), [3, 4, 5]);
  assert.deepEqual(await collect(bus, 'c3', 3), [4, 5]);
});

test('calls are listed newest first; ended ones are forgotten past their retention or their count', async () => {
  const bus = new MemoryBus({ maxEventsPerCall: 10, endedRetentionMs: 60_000, maxEndedCalls: 1 });
  bus.putCall(summary('old', 'live', 1));
  bus.putCall(summary('new', 'live', 2));
  assert.deepEqual(
    (await bus.calls()).map((c) => c.id),
    ['new', 'old'],
  );
  bus.putCall(summary('old', 'ended', 1));
  bus.putCall(summary('new', 'ended', 2));
  assert.deepEqual(
    (await bus.calls()).map((c) => c.id),
    ['new'],
    'one ended call kept: the latest to end',
  );
  assert.equal(await bus.call('old'), undefined);
  assert.equal((await bus.call('new'))?.status, 'ended');
});
