/**
 * Fuzzing a live `aer serve` process (issue 19): 10,000 random upgrade
 * queries (raw HTTP, so any bytes the parser takes), 10,000 random control
 * messages, and 10,000 random binary frames per encoding. Seeded
 * (AER_FUZZ_SEED reproduces a run) and bounded in time. The process must
 * stay up, catch no unexpected exception, and serve a normal session after.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { ENCODINGS } from '../../src/protocol/wire.ts';
import { serveProcess, type ServeProcess } from '../helpers/serve-process.ts';
import { metricValue, normalSession, testModelDir, TestClient } from '../helpers/service.ts';
import { prerequisite } from '../helpers/shared.ts';
import { random } from '../helpers/signals.ts';
import { TRANSPORTS } from '../../src/server/transport/transport.ts';
import { uwsAvailable } from '../../src/server/transport/uws-transport.ts';

const SEED = Number(process.env.AER_FUZZ_SEED ?? 19);
const CASES = 10_000;

type Rng = () => number;
const pick = <T>(r: Rng, list: readonly T[]): T => list[Math.floor(r() * list.length)];
const int = (r: Rng, max: number) => Math.floor(r() * max);

const NAMES = [
  'encoding',
  'sample_rate',
  'channels',
  'hop_ms',
  'smoothing',
  'vad',
  'attention',
  'token',
  'Encoding',
  'sample-rate',
  '',
  '€',
  '__proto__',
  'constructor',
  'hop_ms[]',
];
const VALUES = [
  'pcm_s16le',
  'pcm_f32le',
  'mulaw',
  'alaw',
  'opus',
  'ogg_opus',
  'mp3',
  '16000',
  '48000',
  '0x3e80',
  '1.6e4',
  '-1',
  '0',
  '1',
  '2',
  '3',
  '99999999999999999999',
  'NaN',
  'true',
  'false',
  'ema',
  'none',
  '',
  ' ',
  '€'.repeat(40),
  '😀',
  '%',
  '%zz',
  '%00',
  '%E2%82',
  '\u0000',
  'a'.repeat(3000),
];

/** Any text: from the lists, random code points (lone surrogates included), or percent-escapes of random bytes. */
function text(r: Rng): string {
  switch (int(r, 4)) {
    case 0:
      return pick(r, VALUES);
    case 1:
      return pick(r, NAMES);
    case 2:
      return String.fromCharCode(...Array.from({ length: int(r, 20) }, () => int(r, 0xffff)));
    default:
      return Array.from({ length: int(r, 12) }, () => `%${int(r, 256).toString(16).padStart(2, '0')}`).join('');
  }
}

/** A query as raw bytes on the request line: encoded, half-encoded, or raw (the HTTP parser may refuse it, which is an answer too). */
function query(r: Rng): string {
  const parts = Array.from({ length: int(r, 9) }, () => {
    const [name, value] = [text(r), text(r)];
    const mode = int(r, 3);
    const enc = (s: string) =>
      mode === 0
        ? encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '?'))
        : mode === 1
          ? s.replace(/[\s\r\n]/g, '+')
          : Buffer.from(s.replace(/[\uD800-\uDFFF]/g, '?'))
              .toString('latin1')
              .replace(/[\s\r\n]/g, '%20');
    return r() < 0.1 ? enc(name) : `${enc(name)}=${enc(value)}`;
  });
  return parts.join(pick(r, ['&', '&', '&', ';', '&&']));
}

/**
 * A raw upgrade with that query; resolves when the server has answered
 * (ready, refused, an HTTP error) or closed, or with `no answer` after
 * `waitMs` (uWS leaves a request line it cannot parse unanswered until its
 * own idle timeout).
 */
function upgrade(port: number, q: string, waitMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let head = '';
    const done = (outcome: string) => {
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done('no answer'), waitMs);
    socket.on('connect', () =>
      socket.write(
        `GET /v1/stream?${q} HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n`,
        'latin1',
      ),
    );
    socket.on('data', (d) => {
      head += d.toString('latin1');
      // The first frame after the 101 says it: ready, or the error before the server's close frame.
      const outcome = head.includes('"type":"ready"') ? 'ready' : head.includes('"type":"error"') ? 'refused' : undefined;
      if (outcome) {
        clearTimeout(timer);
        done(outcome);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(/^HTTP\/1\.1 101/.test(head) ? 'refused' : (/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 'dropped'));
    });
  });
}

/** A random control message: JSON of known and unknown shapes, junk, deep nesting, huge strings. */
function control(r: Rng): string | Buffer {
  switch (int(r, 7)) {
    case 0:
      return JSON.stringify({ type: pick(r, ['flush', 'keepalive', 'configure', 'close_stream', 'dance', '', null, 7, ['flush']]) });
    case 1:
      return JSON.stringify({
        type: 'configure',
        [pick(r, ['smoothing', 'attention', 'hop_ms', 'vad', '__proto__'])]: pick(r, [true, false, 'ema', 'none', 5, null, {}, [], '€'.repeat(50)]),
      });
    case 2:
      return '['.repeat(int(r, 3000)) + ']'.repeat(int(r, 3000));
    case 3:
      return text(r);
    case 4:
      return JSON.stringify({ type: 'x'.repeat(int(r, 200_000)) });
    case 5:
      // Invalid UTF-8 in a text frame: the server closes 1007, the fuzzer reconnects.
      return Buffer.from(Array.from({ length: int(r, 40) + 1 }, () => int(r, 256)));
    default:
      return JSON.stringify(Object.fromEntries(Array.from({ length: int(r, 5) }, () => [text(r), text(r)])));
  }
}

/** Opens sessions on `query`, reopening whenever the server closes one, and sends `count` messages from `make`. */
async function flood(
  url: string,
  count: number,
  make: (i: number) => { data: string | Buffer; binary: boolean },
  deadline: number,
): Promise<{ sent: number; closes: Record<number, number> }> {
  const closes: Record<number, number> = {};
  let sent = 0;
  while (sent < count && Date.now() < deadline) {
    const ws = new WebSocket(url);
    const open = await new Promise<boolean>((resolve) => {
      ws.once('open', () => resolve(true));
      ws.once('error', () => resolve(false));
    });
    if (!open) continue;
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('error', () => {});
    while (sent < count && ws.readyState === WebSocket.OPEN && Date.now() < deadline) {
      const { data, binary } = make(sent++);
      ws.send(data, { binary });
      if (ws.bufferedAmount > 256 * 1024 || sent % 200 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    if (ws.readyState === WebSocket.OPEN) ws.close();
    const code = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 5000))]);
    closes[code] = (closes[code] ?? 0) + 1;
    ws.terminate();
  }
  return { sent, closes };
}

for (const transport of TRANSPORTS) {
  describe(`fuzzing aer serve over ${transport} (seed ${SEED}, AER_FUZZ_SEED to change)`, {
    skip: prerequisite(transport !== 'uws' || uwsAvailable(), 'uWebSockets.js is not installed'),
  }, () => {
    let served: ServeProcess;
    before(async () => {
      served = await serveProcess([
        '--port',
        '0',
        '--model',
        await testModelDir(),
        '--transport',
        transport,
        '--idle-timeout-ms',
        '3000',
        '--max-sessions',
        '500',
      ]);
    });
    after(async () => {
      await served.stop();
    });

    test(`${CASES} random upgrade queries`, { timeout: 180_000 }, async () => {
      const r = random(SEED);
      const outcomes: Record<string, number> = {};
      const deadline = Date.now() + 150_000;
      let next = 0;
      await Promise.all(
        Array.from({ length: 128 }, async () => {
          while (next < CASES && Date.now() < deadline) {
            const q = query(r);
            next++;
            const outcome = await upgrade(served.port, q, transport === 'uws' ? 1000 : 10_000);
            outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
          }
        }),
      );
      assert.equal(next, CASES, `only ${next} queries within the time bound`);
      assert.ok(served.alive(), served.log());
      if (transport === 'ws') assert.equal(outcomes['no answer'] ?? 0, 0, JSON.stringify(outcomes));
      // Both kinds of answer were exercised.
      assert.ok((outcomes.ready ?? 0) > 0 && (outcomes.refused ?? 0) > 0, JSON.stringify(outcomes));
    });

    test(`${CASES} random control messages`, { timeout: 120_000 }, async () => {
      const r = random(SEED + 1);
      const { sent } = await flood(
        `${served.url}?encoding=pcm_s16le&vad=false`,
        CASES,
        () => {
          const data = control(r);
          return { data, binary: false };
        },
        Date.now() + 100_000,
      );
      assert.equal(sent, CASES);
      assert.ok(served.alive(), served.log());
    });

    for (const encoding of ENCODINGS) {
      test(`${CASES} random binary frames as ${encoding}`, { timeout: 120_000 }, async () => {
        const r = random(SEED + 2 + ENCODINGS.indexOf(encoding));
        const channels = 1 + int(r, 2);
        const { sent } = await flood(
          `${served.url}?encoding=${encoding}&channels=${channels}&vad=${r() < 0.5}`,
          CASES,
          () => {
            const length = pick(r, [0, 1, 2, 3, 4, 5, 160, 320, 640, 1275, 4096]);
            const frame = Buffer.from(Array.from({ length }, () => int(r, 256)));
            // Some frames start like a real Ogg page or Opus packet, so the decoders go deeper than their first check.
            if (length > 4 && r() < 0.3) frame.write(encoding === 'ogg_opus' ? 'OggS' : '\x78', 0, 'latin1');
            return { data: frame, binary: true };
          },
          Date.now() + 100_000,
        );
        assert.equal(sent, CASES);
        assert.ok(served.alive(), served.log());
      });
    }

    test('afterwards: still up, no unexpected exception caught, and a normal session works', async () => {
      assert.ok(served.alive(), served.log());
      await normalSession(served.url);
      const metrics = await (await fetch(`${served.http}/metrics`)).text();
      for (const site of ['http', 'upgrade', 'message', 'close'])
        assert.equal(metricValue(metrics, 'aer_internal_errors_total', `site="${site}"`), 0, `${site}: ${served.log()}`);
      const probe = new TestClient(`${served.url}?encoding=opus`);
      await probe.waitFor((m) => m.type === 'ready');
      probe.ws.close();
    });
  });
}
