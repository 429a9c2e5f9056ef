import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { writeWav } from '../../src/audio/wav-write.ts';
import type { Engine } from '../../src/engine/engine.ts';
import type { ClosedMessage } from '../../src/protocol/wire.ts';
import { forEachTransport, metricsAfterSession, pieces, s16, type Service, startService, TestClient, voiced } from '../helpers/service.ts';

forEachTransport((transport, workers) => {
  let service: Service;
  before(async () => {
    service = await startService({ transport, workers });
  });
  after(() => service.stop());

  describe('HTTP on the same port', () => {
    test('/healthz, /readyz and /v1/models', async () => {
      assert.deepEqual(await (await fetch(`${service.http}/healthz`)).json(), { status: 'ok' });
      const ready = await fetch(`${service.http}/readyz`);
      assert.equal(ready.status, 200);
      const models = (await (await fetch(`${service.http}/v1/models`)).json()) as { models: { labels: string[]; engine: string; attention_steps: number }[] };
      assert.deepEqual(models.models[0].labels, ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad']);
      assert.match(models.models[0].engine, /onnxruntime/);
      assert.equal(models.models[0].attention_steps, 16);
      const missing = await fetch(`${service.http}/nope`);
      assert.equal(missing.status, 404);
    });

    test('POST /v1/classify: a WAV in, every window out; a bad body is a 400 with the reason', async () => {
      const wav = writeWav({ sampleRate: 16000, channels: [voiced(4), voiced(4)] });
      const response = await fetch(`${service.http}/v1/classify?vad=false&hop_ms=1000`, { method: 'POST', body: wav });
      assert.equal(response.status, 200);
      const result = (await response.json()) as { channels: number; duration_s: number; events: { type: string; channel: number; speech: boolean }[] };
      assert.equal(result.channels, 2);
      assert.equal(result.duration_s, 4);
      const emotions = result.events.filter((e) => e.type === 'emotion');
      assert.ok(emotions.some((e) => e.channel === 1 && e.speech));
      assert.equal(result.events.at(-1)?.type, 'closed');
      // The summary per channel; with events=false, only it.
      const summary = (result as unknown as { summary: { channel: number; speech_s: number; windows: number }[] }).summary;
      assert.deepEqual(
        summary.map((c) => [c.channel, c.windows]),
        [0, 1].map((c) => [c, emotions.filter((e) => e.channel === c).length]),
      );
      assert.ok(summary.every((c) => Math.abs(c.speech_s - 4) < 0.02));
      const brief = (await (await fetch(`${service.http}/v1/classify?vad=false&hop_ms=1000&events=false`, { method: 'POST', body: wav })).json()) as Record<
        string,
        unknown
      >;
      assert.deepEqual(Object.keys(brief), ['format', 'duration_s', 'channels', 'model', 'warnings', 'summary']);
      assert.deepEqual(brief.model, { band: 'wide' });
      assert.deepEqual(brief.summary, summary);
      assert.equal((await fetch(`${service.http}/v1/classify?events=maybe`, { method: 'POST', body: wav })).status, 400);
      // A form upload (curl -F file=@call.wav) is read as its file part.
      const form = new FormData();
      form.append('note', 'not the audio');
      form.append('file', new Blob([wav]), 'call.wav');
      const uploaded = (await (await fetch(`${service.http}/v1/classify?vad=false&hop_ms=1000&events=false`, { method: 'POST', body: form })).json()) as Record<
        string,
        unknown
      >;
      assert.deepEqual(uploaded.summary, summary);
      const noFile = new FormData();
      noFile.append('note', 'no audio here');
      const refused = await fetch(`${service.http}/v1/classify`, { method: 'POST', body: noFile });
      assert.equal(refused.status, 400);
      assert.deepEqual(((await refused.json()) as { error: { message: string; hint: string } }).error, {
        code: 'invalid_argument',
        message: 'the multipart form holds no file',
        hint: 'send the audio as a file field: curl -F file=@call.wav',
      });
      const bad = await fetch(`${service.http}/v1/classify`, { method: 'POST', body: new TextEncoder().encode('ID3 not audio at all') });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'unsupported_format');
      const unknown = await fetch(`${service.http}/v1/classify?speed=fast`, { method: 'POST', body: wav });
      assert.equal(unknown.status, 400);
    });

    test('/metrics: aer_ histograms, counters and gauges after a session, labels kept low-cardinality', async () => {
      const text = await metricsAfterSession(service);
      for (const name of [
        'aer_window_latency_seconds_bucket',
        'aer_inference_seconds_bucket',
        'aer_queue_wait_seconds_bucket',
        'aer_batch_size_bucket',
        'aer_windows_total',
        'aer_events_sent_total',
        'aer_windows_shed_total',
        'aer_bytes_received_total',
        'aer_sessions_opened_total',
        'aer_sessions_closed_total',
        'aer_active_sessions',
        'aer_queue_depth',
        'aer_emotion_labels_total',
        'process_cpu_seconds_total',
      ]) {
        assert.ok(text.includes(name), name);
      }
      assert.match(text, /aer_sessions_closed_total\{reason="close_stream"\} [1-9]/);
      assert.match(text, /aer_windows_total\{result="speech"\} [1-9]/);
      assert.doesNotMatch(text, /session_id|[0-9a-f]{8}-[0-9a-f]{4}-/);
    });

    test('graceful shutdown: an open session analyses what it received and gets closed before the socket closes', async () => {
      const own = await startService({ transport, workers });
      const client = new TestClient(`${own.url}?encoding=pcm_s16le&sample_rate=16000&vad=false`);
      await client.opened;
      for (const m of pieces(s16([voiced(3.5)]), 640)) client.send(m);
      await client.waitFor((m) => m.type === 'emotion');
      const stopped = own.stop();
      const { code } = await client.closed;
      await stopped;
      assert.equal(code, 1000);
      const closed = client.messages.at(-1) as ClosedMessage;
      assert.equal(closed.type, 'closed');
      assert.equal(closed.reason, 'server_shutdown');
      assert.equal(closed.stats.audio_s, 3.5);
      const refused = await fetch(`${own.http}/healthz`).catch(() => undefined);
      assert.equal(refused, undefined);
    });

    test('graceful shutdown is bounded: a stuck engine does not hold stop() past the shutdown timeout', { timeout: 20_000 }, async () => {
      let called!: () => void;
      const predicting = new Promise<void>((resolve) => (called = resolve));
      // Stuck once streaming starts (the service's warm-up at start must still go through).
      let jammed = false;
      const stuck = (engine: Engine): Engine =>
        Object.assign(Object.create(engine) as Engine, {
          predict: (w: Float32Array, n: number) => (jammed ? (called(), new Promise<never>(() => {})) : engine.predict(w, n)),
        });
      const own = await startService({ transport, workers, shutdownTimeoutMs: 300 }, [], stuck);
      const client = new TestClient(`${own.url}?encoding=pcm_s16le&sample_rate=16000&vad=false`);
      await client.opened;
      jammed = true;
      for (const m of pieces(s16([voiced(3.5)]), 640)) client.send(m);
      await predicting;
      const started = Date.now();
      await own.stop();
      assert.ok(Date.now() - started < 2000, `stop() took ${Date.now() - started} ms with a 300 ms timeout`);
      // The stuck window's audio is reported as not analysed, and the socket closed as going away.
      assert.equal((await client.closed).code, 1001);
      const last = client.messages.at(-1) as ClosedMessage;
      assert.deepEqual([last.type, last.reason, last.stats.unanalysed_s], ['closed', 'server_shutdown', 3.5]);
    });
  });
});
