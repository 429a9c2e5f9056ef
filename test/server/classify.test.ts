/** POST /v1/classify streams its body, bounds its work, yields to live streams and stops when the client goes. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { writeWav } from '../../src/audio/wav-write.ts';
import type { Engine } from '../../src/engine/engine.ts';
import { forEachTransport, liveBeside, metricValue, normalSession, type Service, startService, voiced, wrapEngine } from '../helpers/service.ts';

/** A 16-bit WAV of `seconds` of voiced audio: its header, then the same second of data on repeat. */
function wavParts(seconds: number, rate: number, channels: number): { header: Uint8Array; second: Uint8Array; total: number } {
  const one = writeWav({ sampleRate: rate, channels: Array.from({ length: channels }, () => voiced(1, rate)) });
  const header = new Uint8Array(one.subarray(0, 44));
  const dataBytes = seconds * rate * channels * 2;
  new DataView(header.buffer).setUint32(4, 36 + dataBytes, true);
  new DataView(header.buffer).setUint32(40, dataBytes, true);
  return { header, second: one.subarray(44), total: 44 + dataBytes };
}

/** The WAV as a body made on demand, a second at a time. */
function lazyWav(seconds: number, rate: number, channels: number): ReadableStream<Uint8Array> {
  const { header, second } = wavParts(seconds, rate, channels);
  let sent = -1;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === seconds) return controller.close();
      controller.enqueue(sent < 0 ? header : second);
      sent++;
    },
  });
}

/** Uploads the WAV over a raw socket, a second of audio every `everyMs`; `sent()` counts the seconds sent. */
function rawUpload(port: number, seconds: number, rate: number, channels: number, everyMs: number): { sent: () => number; socket: net.Socket } {
  const { header, second, total } = wavParts(seconds, rate, channels);
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    socket.write(`POST /v1/classify?vad=false HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${total}\r\n\r\n`);
    socket.write(header);
    timer = setInterval(() => (sent < seconds && !socket.destroyed ? (socket.write(second), sent++) : clearInterval(timer)), everyMs);
  });
  socket.on('close', () => clearInterval(timer));
  return { sent: () => sent, socket };
}

const waitUntil = async (what: string, ok: () => boolean | Promise<boolean>, ms = 5000) => {
  const started = Date.now();
  while (!(await ok())) {
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

forEachTransport((transport, workers) => {
  let service: Service;
  /** While set, the engine holds bulk work: every batch waits for it. */
  let gate: Promise<void> | undefined;
  let open = () => {};

  before(async () => {
    service = await startService({ transport, workers, maxClassify: 1 }, [], (engine: Engine) =>
      wrapEngine(engine, async (w, n) => {
        while (gate) await gate;
        return engine.predict(w, n);
      }),
    );
  });
  after(() => service.stop());

  const hold = () => (gate = new Promise((resolve) => (open = () => ((gate = undefined), resolve()))));
  const metrics = async () => (await fetch(`${service.http}/metrics`)).text();

  describe('/v1/classify', () => {
    test('analysis starts while the body is still arriving; a client that goes away mid-upload stops the work and frees its slot', async () => {
      hold();
      const upload = rawUpload(Number(new URL(service.http).port), 300, 16000, 1, 20);
      // The old handler read the whole body before cutting a window: here windows wait for the engine after a few seconds of upload.
      await waitUntil('windows of the part received are queued', () => service.server.scheduler.depth > 0);
      assert.ok(upload.sent() < 150, `${upload.sent()} of 300 s sent`);
      // One at a time here: the next is told to come back.
      const busy = await fetch(`${service.http}/v1/classify`, { method: 'POST', body: writeWav({ sampleRate: 16000, channels: [voiced(1)] }) });
      assert.equal(busy.status, 503);
      assert.equal(busy.headers.get('retry-after'), '5');
      assert.equal(((await busy.json()) as { error: { code: string } }).error.code, 'busy');
      upload.socket.destroy();
      await waitUntil('the abandoned request ends', async () => metricValue(await metrics(), 'aer_classify_active') === 0, 2000);
      await waitUntil('its windows leave the scheduler', () => service.server.scheduler.depth === 0, 1000);
      open();
      assert.equal(metricValue(await metrics(), 'aer_classify_requests_total', 'result="client_gone"'), 1);
      const ok = await fetch(`${service.http}/v1/classify?vad=false&hop_ms=1000`, {
        method: 'POST',
        body: writeWav({ sampleRate: 16000, channels: [voiced(4)] }),
      });
      assert.equal(ok.status, 200);
    });

    test('a long file streams through in bounded chunks; a live stream beside it keeps its events and sheds nothing', async () => {
      const beside = liveBeside(`${service.url}?encoding=pcm_s16le&sample_rate=16000&vad=false`);
      const answer = await fetch(`${service.http}/v1/classify?vad=false&attention=false`, {
        method: 'POST',
        body: lazyWav(600, 8000, 1),
        duplex: 'half',
      } as RequestInit);
      assert.equal(answer.status, 200);
      const result = (await answer.json()) as { duration_s: number; warnings: string[]; events: { type: string }[] };
      assert.equal(result.duration_s, 600);
      assert.deepEqual(result.warnings, []);
      assert.ok(result.events.filter((e) => e.type === 'emotion').length >= 1170);
      await new Promise((r) => setTimeout(r, 4000));
      const live = await beside.finish();
      const closed = live.messages.at(-1);
      assert.ok(closed?.type === 'closed' && closed.stats.shed_windows === 0, JSON.stringify(closed));
      assert.ok(live.of('emotion').length >= 2);
      await normalSession(service.url);
    });

    test('a truncated WAV is analysed as far as it goes and says so; a body over the limit is 413 from its declared length', async () => {
      const wav = writeWav({ sampleRate: 16000, channels: [voiced(5)] });
      const cut = await fetch(`${service.http}/v1/classify?vad=false`, { method: 'POST', body: wav.subarray(0, 44 + 16000 * 2 * 4) });
      assert.equal(cut.status, 200);
      const result = (await cut.json()) as { duration_s: number; warnings: string[] };
      assert.equal(result.duration_s, 4);
      assert.match(result.warnings[0], /truncated/);
      const huge = await fetch(`${service.http}/v1/classify`, {
        method: 'POST',
        headers: { 'content-length': String(65 * 1024 * 1024) },
        body: new Uint8Array(1024),
        duplex: 'half',
      } as RequestInit).catch((e: Error) => e);
      // undici refuses a body shorter than its declared length; a raw client gets the 413 (test below for the server side).
      assert.ok(huge instanceof Error || huge.status === 413);
    });
  });
});

describe('/v1/classify over a raw socket', () => {
  test('a declared length over the limit is refused at once with 413, before any body is read', async () => {
    const service = await startService();
    try {
      const socket = net.connect(Number(new URL(service.http).port), '127.0.0.1');
      const reply = await new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (d) => (text += d));
        socket.on('close', () => resolve(text));
        socket.write(`POST /v1/classify HTTP/1.1\r\nhost: x\r\ncontent-length: ${65 * 1024 * 1024}\r\n\r\nRIFF`);
      });
      assert.match(reply, /^HTTP\/1\.1 413/);
      assert.match(reply, /connection: close/i);
    } finally {
      await service.stop();
    }
  });
});
