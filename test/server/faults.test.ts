/**
 * Hostile input and faults (issue 19): none stops the process, each fails
 * only its own work, and a live session beside each keeps receiving events.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Engine, Prediction } from '../../src/engine/engine.ts';
import { AerError } from '../../src/errors.ts';
import type { ClosedMessage } from '../../src/protocol/wire.ts';
import type { HttpReply, HttpRequest, StreamHandlers, StreamSocket, UpgradeRequest } from '../../src/server/transport/transport.ts';
import {
  forEachTransport,
  liveBeside,
  metricValue,
  normalSession,
  pieces,
  s16,
  type Service,
  startService,
  TestClient,
  testModelDir,
  voiced,
  wrapEngine,
} from '../helpers/service.ts';
import { tempDir } from '../helpers/tools.ts';

/** A raw TCP client: what an attacker or a broken client can do that fetch and ws will not. */
function rawSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with everything the server sent, once it has closed the connection (or after `limitMs`, with `timedOut`). */
function readUntilClosed(socket: net.Socket, limitMs: number): Promise<{ text: string; ms: number; timedOut: boolean }> {
  const started = Date.now();
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), ms: Date.now() - started, timedOut: true });
    }, limitMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), ms: Date.now() - started, timedOut: false });
    });
  });
}

forEachTransport((transport, workers) => {
  let service: Service;
  /** Set to make the engine answer NaN. */
  let nan = false;

  before(async () => {
    service = await startService(
      { transport, workers, body: { maxBytes: 64 * 1024 * 1024, idleMs: 400, minBytesPerSecond: 2000 } },
      ['a-test-token-of-enough-length'],
      (engine) =>
        wrapEngine(engine, async (windows, batch): Promise<Prediction> => {
          const p = await engine.predict(windows, batch);
          return nan ? { probabilities: p.probabilities.map(() => NaN), attention: p.attention } : p;
        }),
    );
  });
  after(() => service.stop());

  const auth = '&token=a-test-token-of-enough-length';
  const pcm = `?encoding=pcm_s16le&sample_rate=16000&vad=false${auth}`;
  const normal = () => normalSession(service.url, pcm);
  const metrics = async () => (await fetch(`${service.http}/metrics`, { headers: { authorization: 'Bearer a-test-token-of-enough-length' } })).text();

  describe('no request takes the process down', () => {
    test('an upgrade whose query holds forty € closes 4400 with a reason that fits a close frame', async () => {
      const beside = liveBeside(service.url + pcm);
      for (const query of [`?encoding=${encodeURIComponent('€'.repeat(40))}${auth}`, `?encoding=pcm_s16le&${encodeURIComponent('😀'.repeat(300))}=1${auth}`]) {
        const client = new TestClient(service.url + query);
        const closed = await client.closed;
        assert.equal(closed.code, 4400);
        assert.ok(Buffer.byteLength(closed.reason) <= 123, `${Buffer.byteLength(closed.reason)} bytes`);
      }
      await normal();
      assert.ok((await beside.finish()).of('emotion').length >= 1);
    });

    test('an exception in the upgrade, a message or an HTTP handler fails that socket (1011) or request (500) alone, logged and counted', async () => {
      const beside = liveBeside(service.url + pcm);
      const server = service.server;
      const stream = server.stream.bind(server);
      const http = server.http.bind(server);
      const boom = new Error('injected fault');
      server.stream = (req: UpgradeRequest, socket: StreamSocket): StreamHandlers | undefined => {
        if (req.url.searchParams.get('hop_ms') === '777') throw boom;
        const handlers = stream(req, socket);
        if (!handlers || req.url.searchParams.get('hop_ms') !== '778') return handlers;
        return {
          ...handlers,
          message: (data, binary) =>
            binary
              ? handlers.message(data, binary)
              : (() => {
                  throw boom;
                })(),
        };
      };
      server.http = (req: HttpRequest): Promise<HttpReply> => (req.url.pathname === '/boom' ? Promise.reject(boom) : http(req));
      try {
        const upgrade = new TestClient(`${service.url}${pcm}&hop_ms=777`);
        assert.equal((await upgrade.closed).code, 1011);
        const message = new TestClient(`${service.url}${pcm}&hop_ms=778`);
        await message.opened;
        message.control({ type: 'keepalive' });
        assert.equal((await message.closed).code, 1011);
        const reply = await fetch(`${service.http}/boom`);
        assert.equal(reply.status, 500);
        assert.equal(((await reply.json()) as { error: { code: string } }).error.code, 'internal_error');
      } finally {
        server.stream = stream;
        server.http = http;
      }
      const text = await metrics();
      for (const site of ['upgrade', 'message', 'http']) assert.equal(metricValue(text, 'aer_internal_errors_total', `site="${site}"`), 1, site);
      assert.equal(service.logs.filter((l) => l.includes('injected fault')).length, 3);
      await normal();
      assert.ok((await beside.finish()).of('emotion').length >= 1);
    });
  });

  describe('engine and VAD faults fail only their own windows', () => {
    test('an engine that starts answering NaN: those windows get error events, /readyz turns 503, and recovers with the engine', async () => {
      const client = new TestClient(service.url + pcm);
      await client.opened;
      const audio = pieces(s16([voiced(6)]), 640);
      for (const m of audio.slice(0, 160)) client.send(m);
      await client.waitFor((m) => m.type === 'emotion');
      nan = true;
      for (const m of audio.slice(160, 200)) client.send(m);
      await client.waitFor((m) => m.type === 'error');
      const degraded = await fetch(`${service.http}/readyz`);
      assert.equal(degraded.status, 503);
      assert.match(((await degraded.json()) as { reason: string }).reason, /non-probabilities/);
      nan = false;
      for (const m of audio.slice(200)) client.send(m);
      client.control({ type: 'close_stream' });
      assert.equal((await client.closed).code, 1000);
      const error = client.of('error')[0];
      assert.ok(error.code === 'engine_fault' && !error.fatal, JSON.stringify(error));
      assert.ok(client.of('emotion').every((e) => e.confidence === null || Number.isFinite(e.confidence)));
      assert.equal((await fetch(`${service.http}/readyz`)).status, 200);
    });

    // The failure is injected into the main thread's VAD; a worker runs the same code on its own.
    if (workers === 0)
      test('a VAD batch that fails fails the windows that needed it; the sessions waiting on it go on', async () => {
        const vad = service.vad as unknown as { session: { run: (...a: unknown[]) => Promise<unknown> } };
        const run = vad.session.run.bind(vad.session);
        let failures = 0;
        vad.session.run = (...a: unknown[]) => (failures++ < 3 ? Promise.reject(new Error('VAD broke')) : run(...a));
        const clients = [0, 1].map(() => new TestClient(`${service.url}?encoding=pcm_s16le&sample_rate=16000${auth}`));
        try {
          await Promise.all(clients.map((c) => c.opened));
          for (const m of pieces(s16([voiced(5)]), 640)) for (const c of clients) c.send(m);
          for (const c of clients) c.control({ type: 'close_stream' });
          for (const c of clients) {
            assert.equal((await c.closed).code, 1000);
            const errors = c.of('error');
            assert.ok(errors.length >= 1 && errors.every((e) => !e.fatal && /voice activity detection failed/.test(e.message)), JSON.stringify(errors));
            const closed = c.messages.at(-1) as ClosedMessage;
            // Windows after the failed chunks were decided as usual.
            assert.ok(closed.stats.windows > (errors[0].count ?? 1), JSON.stringify(closed.stats));
          }
        } finally {
          vad.session.run = run;
        }
      });
  });

  describe('timeouts and HTTP', () => {
    test("a body that stops, or trickles, gets 408 in well under Node's 300 s", async () => {
      for (const trickle of [false, true]) {
        const socket = await rawSocket(Number(new URL(service.http).port));
        socket.write(`POST /v1/classify?token=a-test-token-of-enough-length HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 100000\r\n\r\nRIFF`);
        const timer = trickle ? setInterval(() => socket.writable && socket.write('x'), 100) : undefined;
        const { text, ms } = await readUntilClosed(socket, 5000);
        clearInterval(timer);
        assert.match(text, /^HTTP\/1\.1 408/, text.slice(0, 200));
        assert.ok(ms < 4000, `${ms} ms`);
      }
    });

    test('a socket refused before streaming that ignores the close frame is dropped within seconds, not held 30 s', async () => {
      const socket = await rawSocket(Number(new URL(service.http).port));
      socket.write(
        'GET /v1/stream?encoding=pcm_s16le HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n',
      );
      const { text, timedOut, ms } = await readUntilClosed(socket, 10_000);
      assert.match(text, /101 Switching Protocols/);
      assert.ok(!timedOut, 'still open after 10 s');
      assert.ok(ms < 5000, `${ms} ms`);
    });

    test('HEAD answers on every GET route; a wrong method is 405 with Allow', async () => {
      for (const route of ['/healthz', '/readyz', '/metrics?token=a-test-token-of-enough-length', '/v1/models?token=a-test-token-of-enough-length', '/']) {
        const head = await fetch(service.http + route, { method: 'HEAD' });
        assert.equal(head.status, 200, route);
        assert.equal((await head.arrayBuffer()).byteLength, 0);
      }
      const wrong = await fetch(`${service.http}/v1/classify${auth.replace('&', '?')}`);
      assert.equal(wrong.status, 405);
      assert.equal(wrong.headers.get('allow'), 'POST');
      assert.equal((await fetch(`${service.http}/healthz`, { method: 'POST' })).status, 405);
      // The demo serves its own few files by name: no path reaches the disk.
      for (const route of ['/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fpackage.json', '/src/server/server.ts'])
        assert.equal((await fetch(service.http + route)).status, 404, route);
    });

    test('sample_rate=0x3e80 or 1.6e4 is refused, not taken as 16000', async () => {
      for (const rate of ['0x3e80', '1.6e4', '16000.0']) {
        const client = new TestClient(`${service.url}?encoding=pcm_s16le&sample_rate=${rate}${auth}`);
        const closed = await client.closed;
        assert.equal(closed.code, 4400);
        assert.match(closed.reason, /sample_rate must be a whole number/);
      }
    });

    test('a thousand frames of NaN samples are a few error messages that count them all', async () => {
      const client = new TestClient(`${service.url}?encoding=pcm_f32le&sample_rate=16000&vad=false${auth}`);
      await client.opened;
      const bad = new Uint8Array(new Float32Array(160).fill(NaN).buffer);
      for (let i = 0; i < 1000; i++) client.send(bad);
      client.control({ type: 'close_stream' });
      assert.equal((await client.closed).code, 1000);
      const errors = client.of('error');
      assert.ok(errors.length <= 5, `${errors.length} error messages`);
      assert.equal(
        errors.reduce((n, e) => n + (e.count ?? 1), 0),
        1000,
      );
      assert.equal((client.messages.at(-1) as ClosedMessage).stats.decode_errors, 1000);
    });
  });
});

describe('a model that does not answer probabilities', () => {
  test('NaN weights: the service refuses to start, naming the fault', async () => {
    const dir = tempDir();
    const source = await testModelDir();
    for (const file of fs.readdirSync(source)) fs.copyFileSync(path.join(source, file), path.join(dir, file));
    const weights = fs.readFileSync(path.join(dir, 'weights.bin'));
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(new Float32Array(weights.length / 4).fill(NaN).buffer));
    await assert.rejects(
      startService({}, [], undefined, dir),
      (e: unknown) => e instanceof AerError && e.code === 'engine_fault' && /not answer probabilities/.test(e.message) && e.hint !== undefined,
    );
  });

  test('an engine whose scores do not sum to 1 is refused too', async () => {
    const skewed = (engine: Engine) =>
      wrapEngine(engine, async (w, n) => {
        const p = await engine.predict(w, n);
        return { probabilities: p.probabilities.map((v) => v * 2), attention: p.attention };
      });
    await assert.rejects(startService({}, [], skewed), /sum to 2/);
  });
});
