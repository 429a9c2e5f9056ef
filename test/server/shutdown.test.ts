/** Graceful shutdown loses nothing it accepted, keeps answering while it drains, and reports what it could not finish. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { writeWav } from '../../src/audio/wav-write.ts';
import type { Engine } from '../../src/engine/engine.ts';
import type { ClosedMessage } from '../../src/protocol/wire.ts';
import { forEachTransport, metricValue, pieces, s16, startService, TestClient, voiced, wrapEngine } from '../helpers/service.ts';

const pcm = '?encoding=pcm_s16le&sample_rate=16000&vad=false';

/** Polls /metrics (at most 10 s) until the service has taken `bytes` bytes of PCM from its clients. */
async function untilBytesReceived(http: string, bytes: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const got = metricValue(await (await fetch(`${http}/metrics`)).text(), 'aer_bytes_received_total', 'encoding="pcm_s16le"');
    if (got >= bytes) return;
    if (Date.now() > deadline) throw new Error(`the service took ${got} of ${bytes} bytes in 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every batch takes `ms` longer (a slow engine: a drain that lasts), or never returns while `stuck`. */
function slowed(ms: number, state = { stuck: false }) {
  return (engine: Engine): Engine =>
    wrapEngine(engine, async (w, n) => {
      if (state.stuck) return new Promise<never>(() => {});
      await new Promise((r) => setTimeout(r, ms));
      return engine.predict(w, n);
    });
}

forEachTransport((transport, workers) => {
  describe('graceful shutdown', () => {
    test('a client far ahead of real time: everything the server read is analysed and delivered before closed, with no errors', {
      timeout: 30_000,
    }, async () => {
      const service = await startService({ transport, workers }, [], slowed(20));
      const client = new TestClient(service.url + pcm);
      await client.opened;
      // 40 s at once: the server pauses reading after a few seconds' windows.
      for (const m of pieces(s16([voiced(40)]), 3200)) client.send(m);
      await client.waitFor((m) => m.type === 'emotion');
      await service.stop();
      const { code } = await client.closed;
      assert.equal(code, 1000);
      assert.deepEqual(client.of('error'), []);
      const closed = client.messages.at(-1) as ClosedMessage;
      assert.equal(closed.reason, 'server_shutdown');
      assert.equal(closed.stats.unanalysed_s, 0);
      // ws stops reading the socket (the rest waits in TCP, never read); uWS cannot, so it has held and now analyses all 40 s.
      // With a worker, the main thread hears of the windows in flight a tick later, by when it may have read all 40 s.
      const readAll = transport === 'uws' ? closed.stats.audio_s === 40 : workers > 0 ? closed.stats.audio_s <= 40 : closed.stats.audio_s < 40;
      assert.ok(closed.stats.audio_s > 3 && readAll, `audio_s ${closed.stats.audio_s}`);
      assert.equal(client.of('emotion').length, closed.stats.windows);
      // Every window of what was read, to its end.
      assert.ok(client.of('emotion').at(-1)!.end_s >= closed.stats.audio_s);
    });

    test('while draining the port stays open: a new stream gets 1013, /readyz 503, a new classify 503; an in-flight classify finishes', {
      timeout: 30_000,
    }, async () => {
      const service = await startService({ transport, workers }, [], slowed(150));
      const live = new TestClient(service.url + pcm);
      await live.opened;
      for (const m of pieces(s16([voiced(8)]), 3200)) live.send(m);
      const file = fetch(`${service.http}/v1/classify?vad=false`, { method: 'POST', body: writeWav({ sampleRate: 16000, channels: [voiced(6)] }) });
      await live.waitFor((m) => m.type === 'emotion');
      const stopped = service.stop();
      const refused = new TestClient(service.url + pcm);
      const refusal = await refused.closed;
      assert.equal(refusal.code, 1013);
      assert.match(refusal.reason, /shutting down/);
      const ready = await fetch(`${service.http}/readyz`);
      assert.equal(ready.status, 503);
      assert.equal(((await ready.json()) as { status: string }).status, 'stopping');
      const late = await fetch(`${service.http}/v1/classify`, { method: 'POST', body: writeWav({ sampleRate: 16000, channels: [voiced(1)] }) });
      assert.equal(late.status, 503);
      assert.equal(late.headers.get('retry-after'), '5');
      const answer = await file;
      assert.equal(answer.status, 200);
      assert.equal(((await answer.json()) as { duration_s: number }).duration_s, 6);
      assert.equal((await live.closed).code, 1000);
      await stopped;
      assert.equal(await fetch(`${service.http}/healthz`).catch(() => 'refused'), 'refused');
    });

    test('past the deadline: closed says how much was not analysed (close 1001); an in-flight classify gets 503', { timeout: 30_000 }, async () => {
      const state = { stuck: false };
      const service = await startService({ transport, workers, shutdownTimeoutMs: 500 }, [], slowed(0, state));
      const live = new TestClient(service.url + pcm);
      await live.opened;
      for (const m of pieces(s16([voiced(3.2)]), 3200)) live.send(m);
      await live.waitFor((m) => m.type === 'emotion');
      state.stuck = true;
      // 2.5 s more: five windows wait on the stuck engine, under the six that would pause reading (and make what was read a race).
      for (const m of pieces(s16([voiced(2.5)]), 3200)) live.send(m);
      const file = fetch(`${service.http}/v1/classify?vad=false`, { method: 'POST', body: writeWav({ sampleRate: 16000, channels: [voiced(6)] }) });
      // Stop only once the session has taken all 5.7 s (a fixed wait was too short on a loaded CI machine).
      await untilBytesReceived(service.http, 5.7 * 16000 * 2);
      await service.stop();
      assert.equal((await live.closed).code, 1001);
      const closed = live.messages.at(-1) as ClosedMessage;
      assert.equal(closed.type, 'closed');
      assert.equal(closed.reason, 'server_shutdown');
      assert.ok(closed.stats.unanalysed_s >= 2.5, `unanalysed_s ${closed.stats.unanalysed_s}`);
      assert.equal(closed.stats.audio_s, 5.7);
      assert.deepEqual(live.of('error'), []);
      const answer = await file;
      assert.equal(answer.status, 503);
      assert.equal(((await answer.json()) as { error: { code: string } }).error.code, 'shutting_down');
    });
  });
});
