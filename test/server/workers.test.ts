import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { writeWav } from '../../src/audio/wav-write.ts';
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

test('a file being classified on a worker that dies gets 503 worker_failed; the next file is classified', { timeout: 60_000 }, async () => {
  const service = await startService({ workers: 1 });
  try {
    const rate = 16000;
    const second = writeWav({ sampleRate: rate, channels: [voiced(1, rate)] }).subarray(44);
    const header = new Uint8Array(writeWav({ sampleRate: rate, channels: [voiced(1, rate)] }).subarray(0, 44));
    new DataView(header.buffer).setUint32(40, 30 * second.length, true);
    new DataView(header.buffer).setUint32(4, 36 + 30 * second.length, true);
    let sent = 0;
    const pool = (service.server as unknown as { pool: PoolInside & { workers: { files: Map<string, unknown> }[] } }).pool;
    // The body comes a second of audio at a time, slowly, so the worker is killed mid-file.
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 30) return controller.close();
        await new Promise((r) => setTimeout(r, 50));
        controller.enqueue(sent === 0 ? header : second);
        sent++;
      },
    });
    const answer = fetch(`${service.http}/v1/classify?vad=false&events=false`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    for (let i = 0; i < 200 && !(pool.workers[0].files.size > 0 && sent > 5); i++) await new Promise((r) => setTimeout(r, 20));
    pool.workers[0].worker.postMessage({ type: 'batch', items: null });
    const reply = await answer;
    assert.equal(reply.status, 503);
    const { error } = (await reply.json()) as { error: { code: string; message: string } };
    assert.equal(error.code, 'worker_failed');
    for (let i = 0; i < 200 && !pool.workers.every((w) => w.alive); i++) await new Promise((r) => setTimeout(r, 50));
    const next = await fetch(`${service.http}/v1/classify?vad=false&events=false`, {
      method: 'POST',
      body: writeWav({ sampleRate: rate, channels: [voiced(4, rate)] }),
    });
    assert.equal(next.status, 200);
    const { summary } = (await next.json()) as { summary: { windows: number }[] };
    assert.ok(summary[0].windows >= 2);
  } finally {
    await service.stop();
  }
});
