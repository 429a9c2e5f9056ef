import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import type { ClosedMessage, ReadyMessage } from '../../src/protocol/wire.ts';
import { metricValue, normalSession, pieces, s16, startService, TestClient, voiced } from '../helpers/service.ts';

const pcm = '?encoding=pcm_s16le&sample_rate=16000&vad=false';

interface PoolInside {
  workers: { worker: Worker; alive: boolean; sessions: Map<string, unknown> }[];
}

test('a front-end worker that dies: its streams get a fatal error and close 1011, a stream on the other worker loses no window, and a new worker serves', {
  timeout: 60_000,
}, async () => {
  const service = await startService({ workers: 2 });
  try {
    const [doomed, survivor] = [new TestClient(service.url + pcm), new TestClient(service.url + pcm)];
    await Promise.all([doomed.opened, survivor.opened]);
    const ids = await Promise.all([doomed, survivor].map(async (c) => ((await c.waitFor((m) => m.type === 'ready')) as ReadyMessage).session_id));
    const pool = (service.server as unknown as { pool: PoolInside }).pool;
    const host = pool.workers.find((w) => w.sessions.has(ids[0]))!;
    assert.ok(!host.sessions.has(ids[1]), 'the two sessions are on different workers');
    const audio = pieces(s16([voiced(5)]), 640);
    for (const m of audio.slice(0, 200)) doomed.send(m);
    for (const m of audio) survivor.send(m);
    await doomed.waitFor((m) => m.type === 'emotion');
    host.worker.postMessage({ type: 'batch', items: null });

    const { code } = await doomed.closed;
    assert.equal(code, 1011);
    const fatal = doomed.of('error').at(-1);
    assert.ok(
      fatal?.fatal && fatal.code === 'worker_failed' && /worker analysing this stream failed/.test(fatal.message) && /reconnect/.test(fatal.hint ?? ''),
      JSON.stringify(fatal),
    );

    survivor.control({ type: 'close_stream' });
    assert.equal((await survivor.closed).code, 1000);
    const closed = survivor.messages.at(-1) as ClosedMessage;
    assert.equal(closed.stats.shed_windows, 0);
    assert.equal(closed.stats.windows, survivor.of('emotion').length);
    assert.equal(closed.stats.audio_s, 5);

    for (let i = 0; i < 200 && pool.workers.filter((w) => w.alive).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    const metrics = await (await fetch(`${service.http}/metrics`)).text();
    assert.equal(metricValue(metrics, 'aer_frontend_worker_failures_total'), 1);
    assert.equal(metricValue(metrics, 'aer_frontend_workers'), 2);
    assert.match(service.logs.join('\n'), /front-end worker \d+ stopped/);
    await normalSession(service.url);
    await normalSession(service.url);
  } finally {
    await service.stop();
  }
});
