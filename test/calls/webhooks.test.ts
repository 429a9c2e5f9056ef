import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { StoredEvent } from '../../src/calls/bus.ts';
import { type DeliveryResult, parseWebhook, signature, Webhooks } from '../../src/calls/webhooks.ts';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A receiver that answers each request with the next of `statuses` (the last repeats), or never answers (`hang`). */
async function receiver(statuses: number[] | 'hang'): Promise<{ url: string; got: Received[]; close(): Promise<void> }> {
  const got: Received[] = [];
  let k = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      if (statuses === 'hang') return;
      res.writeHead(statuses[Math.min(k++, statuses.length - 1)]).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

const event = (seq: number, type: StoredEvent['type'] = 'change'): StoredEvent => ({
  seq,
  type,
  time: Date.now(),
  json: JSON.stringify({ call_id: 'CA1', seq, type }),
});
const fast = { secret: 'whsec-test', timeoutMs: 300, attempts: 3, backoffMs: 20, maxBackoffMs: 50, maxQueued: 5 };
const until = async (check: () => boolean, ms = 5000) => {
  for (const end = Date.now() + ms; !check() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
};

test('the spec: a URL, optionally with the events it takes (summary is call_ended); bad ones say what is wrong', () => {
  assert.equal(parseWebhook('https://crm.example.com/aer').types, undefined);
  assert.deepEqual([...parseWebhook('https://crm.example.com/aer?x=1 events=change,alert,summary').types!], ['change', 'alert', 'call_ended']);
  assert.throws(() => parseWebhook('crm.example.com'), /http\(s\) URL/);
  assert.throws(() => parseWebhook('ftp://crm.example.com'), /http or https/);
  assert.throws(() => parseWebhook('https://crm.example.com events=change,mood'), /"mood" is not an event type/);
  assert.throws(() => parseWebhook('https://crm.example.com only=change'), /events=TYPE/);
});

test('events are POSTed in order, filtered, signed over timestamp and body; a 500 is retried and a dead endpoint delays no other', async () => {
  const good = await receiver([500, 200]);
  const dead = await receiver('hang');
  const results: [string, DeliveryResult][] = [];
  const hooks = new Webhooks([parseWebhook(`${good.url} events=change,call_ended`), parseWebhook(dead.url)], fast, {
    delivery: (w, r) => results.push([w, r]),
    queued: () => {},
  });
  const started = Date.now();
  hooks.event('CA1', event(1));
  hooks.event('CA1', event(2, 'emotion'));
  hooks.event('CA1', event(3, 'call_ended'));
  await until(() => good.got.length >= 3);
  assert.ok(Date.now() - started < 2000, 'the dead endpoint did not hold the good one back');
  const seqs = good.got.map((r) => JSON.parse(r.body).seq);
  assert.deepEqual(seqs, [1, 1, 3], 'the first attempt got 500 and was repeated; emotion was filtered out');
  const last = good.got[2];
  assert.equal(last.headers['x-aer-event'], 'call_ended');
  assert.equal(last.headers['x-aer-call'], 'CA1');
  assert.equal(last.headers['x-aer-signature'], signature('whsec-test', String(last.headers['x-aer-timestamp']), last.body));
  assert.equal(good.got[0].headers['x-aer-delivery'], good.got[1].headers['x-aer-delivery'], 'a retry is the same delivery');
  assert.equal(good.got[1].headers['x-aer-attempt'], '2');
  await hooks.close(Date.now() + 100);
  const host = new URL(dead.url).host;
  assert.ok(results.some(([w, r]) => w === host && (r === 'retried' || r === 'dropped' || r === 'failed')));
  await good.close();
  await dead.close();
});

test('a queue past its bound drops its oldest: memory stays bounded while an endpoint is down', async () => {
  const results: DeliveryResult[] = [];
  let queued = 0;
  const hooks = new Webhooks(
    [parseWebhook('http://127.0.0.1:1/hook')],
    { ...fast, backoffMs: 10_000, maxBackoffMs: 10_000 },
    {
      delivery: (_w, r) => results.push(r),
      queued: (_w, n) => (queued = n),
    },
  );
  for (let i = 1; i <= 50; i++) hooks.event('CA2', event(i));
  assert.ok(queued <= 5, `at most 5 wait (${queued})`);
  assert.equal(results.filter((r) => r === 'dropped').length, 50 - 5 - 1, 'all but the bound and the one being sent were dropped');
  await hooks.close(Date.now());
});
