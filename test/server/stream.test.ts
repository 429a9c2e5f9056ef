import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Engine } from '../../src/engine/engine.ts';
import type { ClosedMessage, EmotionMessage } from '../../src/protocol/wire.ts';
import { writeWav } from '../../src/audio/wav-write.ts';
import { forEachTransport, normalSession, pieces, s16, type Service, startService, TestClient, voiced } from '../helpers/service.ts';

forEachTransport((transport, workers) => {
  let service: Service;
  /** Set to make the engine's next batch fail. */
  let failNext = false;

  before(async () => {
    service = await startService(
      { transport, workers, maxSessions: 4, maxMessageBytes: 64 * 1024, idleTimeoutMs: 1500 },
      [],
      (engine) =>
        ({
          ...engine,
          name: engine.name,
          detail: engine.detail,
          labels: engine.labels,
          attentionSteps: engine.attentionSteps,
          metadata: engine.metadata,
          dispose: () => engine.dispose(),
          predict: async (windows, batch) => {
            if (failNext) {
              failNext = false;
              throw new Error('the engine broke');
            }
            return engine.predict(windows, batch);
          },
        }) satisfies Engine,
    );
  });
  after(() => service.stop());

  const pcm = '?encoding=pcm_s16le&sample_rate=16000&vad=false';

  const normal = () => normalSession(service.url, pcm);

  describe('the stream protocol over a real WebSocket', () => {
    test('ready, emotion events in order with scores and attention, closed with stats, close 1000', async () => {
      const client = await normal();
      const ready = client.messages[0];
      assert.equal(ready.type, 'ready');
      if (ready.type === 'ready') {
        assert.equal(ready.protocol, 'v1');
        assert.deepEqual(ready.labels, ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad']);
        assert.equal(ready.config.hop_ms, 500);
      }
      const emotions = client.of('emotion') as EmotionMessage[];
      assert.deepEqual(
        emotions.map((e) => e.seq),
        emotions.map((_, i) => i),
      );
      assert.ok(emotions.every((e) => e.speech && e.attention?.length === 16 && e.latency_ms >= 0));
      const closed = client.messages.at(-1) as ClosedMessage;
      assert.equal(closed.reason, 'close_stream');
      assert.equal(closed.stats.bytes, 3.5 * 16000 * 2);
    });

    test('bad query parameters close 4400 with the reason', async () => {
      for (const [query, reason] of [
        ['?encoding=pcm_s16le&sample_rate=16000&colour=red', /unknown query parameter "colour"/],
        ['?encoding=pcm_s16le&sample_rate=4000', /sample_rate must be a whole number from 8000 to 48000/],
        ['?sample_rate=16000', /encoding query parameter is required/],
        ['?encoding=mp3', /encoding must be one of/],
        ['?encoding=pcm_s16le&channels=3', /channels must be/],
        ['?encoding=pcm_s16le&hop_ms=50', /hop_ms must be/],
      ] as const) {
        const client = new TestClient(service.url + query);
        const closed = await client.closed;
        assert.equal(closed.code, 4400, query);
        assert.match(closed.reason, reason);
      }
      await normal();
    });

    test('malformed control messages get an error and the stream goes on', async () => {
      const client = new TestClient(service.url + pcm);
      await client.opened;
      client.send('{not json');
      client.control({ type: 'dance' });
      client.control({ type: 'configure', hop_ms: 250 });
      client.control({ type: 'configure', attention: false });
      for (const m of pieces(s16([voiced(3.2)]), 640)) client.send(m);
      client.control({ type: 'close_stream' });
      assert.equal((await client.closed).code, 1000);
      // The first is sent at once; the two after it, within a second, come as one message with their count.
      const errors = client.of('error');
      assert.deepEqual(
        errors.map((e) => e.count ?? 1),
        [1, 2],
      );
      assert.ok(errors.every((e) => !e.fatal && e.code === 'bad_message'));
      assert.match(errors[0].message, /must be JSON/);
      assert.match(errors[1].message, /configure cannot change "hop_ms"/);
      assert.ok(client.of('emotion').every((e) => e.attention === undefined));
    });

    test('odd-length PCM messages: frames split across messages are joined', async () => {
      const client = new TestClient(service.url + pcm);
      await client.opened;
      for (const m of pieces(s16([voiced(3.2)]), 333)) client.send(m);
      client.control({ type: 'close_stream' });
      await client.closed;
      assert.equal((client.messages.at(-1) as ClosedMessage).stats.audio_s, 3.2);
    });

    test('an oversize message closes 1009', async () => {
      const client = new TestClient(service.url + pcm);
      await client.opened;
      client.send(new Uint8Array(65 * 1024));
      assert.equal((await client.closed).code, 1009);
      await normal();
    });

    test('invalid Opus packets are concealed and reported; the session goes on', async () => {
      const client = new TestClient(`${service.url}?encoding=opus&vad=false`);
      await client.opened;
      for (let i = 0; i < 5; i++) client.send(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]));
      client.control({ type: 'close_stream' });
      assert.equal((await client.closed).code, 1000);
      assert.ok(client.of('warning').some((w) => w.code === 'audio_problem'));
      assert.ok((client.messages.at(-1) as ClosedMessage).stats.decode_errors >= 1);
      assert.match(await (await fetch(`${service.http}/metrics`)).text(), /aer_decode_errors_total\{encoding="opus"\} [1-9]/);
      await normal();
    });

    test('a stream that is not Ogg on ogg_opus gets a fatal error and 4400', async () => {
      const client = new TestClient(`${service.url}?encoding=ogg_opus`);
      await client.opened;
      for (const m of pieces(new Uint8Array(70 * 1024).fill(7), 16 * 1024)) client.send(m);
      const closed = await client.closed;
      assert.equal(closed.code, 4400);
      const error = client.of('error')[0];
      assert.ok(error.fatal);
      assert.equal(error.code, 'malformed_ogg');
      await normal();
    });

    test('a whole file sent on a raw encoding is refused at its header, saying what it is', async () => {
      for (const [encoding, file, what, hint] of [
        ['pcm_s16le', writeWav({ sampleRate: 16000, channels: [voiced(1)] }), 'WAV', /send the samples that follow the header/],
        ['mulaw', writeWav({ sampleRate: 8000, channels: [voiced(1, 8000)] }), 'WAV', /POST the whole file to \/v1\/classify/],
        ['pcm_f32le', new Uint8Array([...new TextEncoder().encode('OggS'), ...new Uint8Array(60)]), 'Ogg', /encoding=ogg_opus/],
        ['pcm_s16le', new Uint8Array([...new TextEncoder().encode('ID3'), 4, ...new Uint8Array(60)]), 'MP3', /ffmpeg -i in -f s16le/],
      ] as const) {
        const client = new TestClient(`${service.url}?encoding=${encoding}`);
        await client.opened;
        client.send(file);
        assert.equal((await client.closed).code, 4400);
        const error = client.of('error')[0];
        assert.equal(error.code, 'unsupported_format');
        assert.match(error.message, new RegExp(`opened for raw ${encoding} samples, but its first bytes are the header of a ${what} file`));
        assert.match(error.hint ?? '', hint);
      }
      await normal();
    });

    test('too many sessions: the next is refused with 1013', async () => {
      const open = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const c = new TestClient(service.url + pcm);
          await c.opened;
          await c.waitFor((m) => m.type === 'ready');
          return c;
        }),
      );
      const refused = new TestClient(service.url + pcm);
      const closed = await refused.closed;
      assert.equal(closed.code, 1013);
      assert.match(closed.reason, /full/);
      for (const c of open) c.ws.close();
      await Promise.all(open.map((c) => c.closed));
      await new Promise((r) => setTimeout(r, 50));
      await normal();
    });

    test('a client that vanishes mid-stream is torn down', async () => {
      const client = new TestClient(service.url + pcm);
      await client.opened;
      for (const m of pieces(s16([voiced(2)]), 640)) client.send(m);
      client.ws.terminate();
      for (let i = 0; i < 100 && service.server.activeSessions > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(service.server.activeSessions, 0);
      await normal();
    });

    test("an engine error fails that batch's windows with an error event; the session and others go on", async () => {
      const client = new TestClient(service.url + pcm);
      await client.opened;
      failNext = true;
      const audio = pieces(s16([voiced(5)]), 640);
      for (const m of audio.slice(0, 160)) client.send(m);
      await client.waitFor((m) => m.type === 'error');
      for (const m of audio.slice(160)) client.send(m);
      client.control({ type: 'close_stream' });
      assert.equal((await client.closed).code, 1000);
      const error = client.of('error')[0];
      assert.ok(error && !error.fatal && /window 0 of channel 0 could not be analysed: the engine broke/.test(error.message));
      assert.ok(client.of('emotion').length >= 1);
      await normal();
    });

    test('a client sending far faster than real time is slowed down, not buffered or shed', async () => {
      const client = new TestClient(service.url + pcm);
      await client.opened;
      // 60 s of audio at once: the server pauses reading while its windows are analysed.
      for (const m of pieces(s16([voiced(60)]), 32000)) client.send(m);
      client.control({ type: 'close_stream' });
      assert.equal((await client.closed).code, 1000);
      const closed = client.messages.at(-1) as ClosedMessage;
      assert.equal(closed.stats.shed_windows, 0);
      assert.equal(client.of('emotion').length, closed.stats.windows);
      assert.ok(closed.stats.windows >= 110);
    });

    test('an idle session closes after the idle timeout with its closed stats', async () => {
      const client = new TestClient(service.url + pcm);
      await client.opened;
      const closed = await client.closed;
      assert.equal(closed.code, 1000);
      assert.equal((client.messages.at(-1) as ClosedMessage).reason, 'idle_timeout');
    });
  });

  describe('auth', () => {
    test('a missing or wrong token closes 1008; the right one streams', async () => {
      const token = 'a-test-token-of-enough-length';
      const guarded = await startService({ transport, workers }, [token]);
      try {
        for (const headers of [{}, { authorization: 'Bearer wrong-token-of-some-length' }] as Record<string, string>[]) {
          const c = new TestClient(guarded.url + pcm, headers);
          const closed = await c.closed;
          assert.equal(closed.code, 1008);
        }
        const viaQuery = new TestClient(`${guarded.url}${pcm}&token=${token}`);
        await viaQuery.waitFor((m) => m.type === 'ready');
        viaQuery.ws.close();
        const viaHeader = new TestClient(guarded.url + pcm, { authorization: `Bearer ${token}` });
        await viaHeader.waitFor((m) => m.type === 'ready');
        viaHeader.ws.close();
        assert.equal((await fetch(`${guarded.http}/v1/models`)).status, 401);
        assert.equal((await fetch(`${guarded.http}/healthz`)).status, 200);
      } finally {
        await guarded.stop();
      }
    });
  });
});
