/**
 * /v1/classify beside live streams: a separate `aer serve` process takes
 * one (or `--files`) 64 MiB WAV upload(s) (8 kHz mono 16-bit, 70 min of
 * EmoDB speech looped) while `--live` Opus streams play at real-time pace.
 * Measured from outside the server: its RSS (from /proc, every 100 ms)
 * before, at peak and after; the time to the answer; /healthz latency; and
 * the live streams' window latency and shed windows, during the files
 * against the same streams alone just before (the baseline of this run).
 * Binds 127.0.0.1 only; bounded in time.
 *
 *   node --import tsx bench/load/classify.ts [--files 1] [--live 10] [--mib 64] [--server-args "--max-classify 2"]
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { resample } from '../../src/audio/resample.ts';
import { writeWav } from '../../src/audio/wav-write.ts';
import { header, table } from '../lib/machine.ts';
import { opusPackets } from '../lib/opus-packets.ts';
import { startServer } from '../lib/serve.ts';
import { speech } from '../lib/speech.ts';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '1' },
    live: { type: 'string', default: '10' },
    mib: { type: 'string', default: '64' },
    'server-args': { type: 'string', default: '' },
    root: { type: 'string' },
  },
});
const files = Number(values.files);
const liveCount = Number(values.live);
const root = values.root ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN);

header(`/v1/classify: ${files} upload(s) of ${values.mib} MiB (8 kHz mono 16-bit WAV) beside ${liveCount} live Opus streams`);

// The upload: EmoDB speech at 8 kHz, looped to the size asked for.
const { samples, source } = speech(60);
const at8k = resample(samples, 22050, 8000);
const seconds = Math.floor((Number(values.mib) * 2 ** 20 - 44) / 2 / 8000);
const looped = new Float32Array(seconds * 8000);
for (let o = 0; o < looped.length; o += at8k.length) looped.set(at8k.subarray(0, looped.length - o), o);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aer-bench-'));
const wavPath = path.join(dir, 'long.wav');
fs.writeFileSync(wavPath, writeWav({ sampleRate: 8000, channels: [looped] }));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
process.stdout.write(`upload: ${(fs.statSync(wavPath).size / 2 ** 20).toFixed(1)} MiB, ${(seconds / 60).toFixed(1)} min of ${source}\n`);

const server = await startServer(root, ['--idle-timeout-ms', '0', ...values['server-args']!.split(' ').filter(Boolean)]);
const { port, rssMiB } = server;
const base = `http://127.0.0.1:${port}`;
process.stdout.write(`server: ${root} (pid ${server.child.pid})\n\n`);

// Live streams: 48 kHz Opus, 20 ms packets, at their own phase.
const packets = opusPackets(resample(speech(60).samples, 22050, 48000));
interface Live {
  ws: WebSocket;
  latencies: number[];
  shed: number;
  /** The next packet to send. */
  next: number;
}
const live: Live[] = await Promise.all(
  Array.from(
    { length: liveCount },
    () =>
      new Promise<Live>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream?encoding=opus&sample_rate=48000`);
        const stream: Live = { ws, latencies: [], shed: 0, next: 0 };
        ws.on('message', (data) => {
          const m = JSON.parse(String(data)) as { type: string; latency_ms?: number; windows?: number; code?: string };
          if (m.type === 'emotion') stream.latencies.push(m.latency_ms!);
          else if (m.type === 'warning' && m.code === 'overloaded') stream.shed += m.windows ?? 0;
        });
        ws.once('open', () => resolve(stream));
        ws.once('error', reject);
      }),
  ),
);
const started = performance.now();
const sendTimer = setInterval(() => {
  const now = performance.now() - started;
  live.forEach((s, i) => {
    for (const due = (now - (i * 20) / live.length) / 20; s.next <= due; s.next++) {
      if (s.ws.readyState === WebSocket.OPEN) s.ws.send(packets[s.next % packets.length]);
    }
  });
}, 5);

/** Live latencies and shed since the last call. */
const takeLive = () => {
  const latencies = live.flatMap((s) => s.latencies.splice(0)).sort((a, b) => a - b);
  const shed = live.reduce((n, s) => n + s.shed, 0);
  live.forEach((s) => (s.shed = 0));
  return { latencies, shed };
};

const rss: number[] = [];
const health: number[] = [];
let healthFailures = 0;
const sampler = setInterval(() => rss.push(rssMiB()), 100);
let probing = true;
const healthLoop = (async () => {
  while (probing) {
    const t = performance.now();
    await fetch(`${base}/healthz`).then(
      (r) => r.text(),
      () => healthFailures++,
    );
    health.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 200));
  }
})();

// Warm-up, then the baseline: the live streams alone.
await new Promise((r) => setTimeout(r, 5000));
takeLive();
rss.length = 0;
health.length = 0;
await new Promise((r) => setTimeout(r, 15_000));
const alone = takeLive();
const rssBefore = Math.max(...rss);
const healthAlone = [...health].sort((a, b) => a - b);
rss.length = 0;
health.length = 0;

// The uploads, streamed from disk.
const t0 = performance.now();
/** node:http rather than fetch: fetch gives up on an answer that takes over 300 s (as the old, whole-body handler's did). */
const upload = () =>
  new Promise<{ status: number; seconds: number; bytes: number; events: number }>((resolve, reject) => {
    const request = http.request(
      `${base}/v1/classify?attention=false`,
      { method: 'POST', headers: { 'content-length': String(fs.statSync(wavPath).size) } },
      (reply) => {
        const parts: Buffer[] = [];
        reply.on('data', (d: Buffer) => parts.push(d));
        reply.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          const ok = reply.statusCode === 200;
          resolve({
            status: reply.statusCode!,
            seconds: (performance.now() - t0) / 1000,
            bytes: text.length,
            events: ok ? (JSON.parse(text) as { events: unknown[] }).events.length : 0,
          });
        });
      },
    );
    request.on('error', reject);
    fs.createReadStream(wavPath).pipe(request);
  });
const answers = await Promise.all(Array.from({ length: files }, upload));
const during = takeLive();
const rssPeak = Math.max(...rss);
const healthDuring = [...health].sort((a, b) => a - b);
await new Promise((r) => setTimeout(r, 5000));
const rssAfter = rssMiB();

clearInterval(sendTimer);
clearInterval(sampler);
probing = false;
await healthLoop;
for (const s of live) s.ws.terminate();
server.child.kill('SIGTERM');

process.stdout.write('Uploads\n');
table(
  answers.map((a, i) => [i + 1, a.status, a.seconds.toFixed(1), a.events, `${(a.bytes / 2 ** 20).toFixed(1)} MiB`]),
  ['upload', 'status', 'answered after s', 'events', 'answer size'],
);
process.stdout.write('\nServer memory (RSS)\n');
table(
  [[`${rssBefore.toFixed(0)} MiB`, `${rssPeak.toFixed(0)} MiB`, `+${(rssPeak - rssBefore).toFixed(0)} MiB`, `${rssAfter.toFixed(0)} MiB`]],
  ['before (live only)', 'peak during upload', 'peak - before', '5 s after'],
);
process.stdout.write(`\nLive streams (${liveCount} x Opus 48 kHz, real-time pace) and /healthz\n`);
table(
  [
    [
      'alone (15 s)',
      alone.latencies.length,
      percentile(alone.latencies, 0.5).toFixed(0),
      percentile(alone.latencies, 0.99).toFixed(0),
      alone.shed,
      percentile(healthAlone, 0.99).toFixed(1),
      healthAlone.at(-1)!.toFixed(1),
    ],
    [
      'during upload',
      during.latencies.length,
      percentile(during.latencies, 0.5).toFixed(0),
      percentile(during.latencies, 0.99).toFixed(0),
      during.shed,
      percentile(healthDuring, 0.99).toFixed(1),
      healthDuring.at(-1)!.toFixed(1),
    ],
  ],
  ['', 'windows', 'p50 ms', 'p99 ms', 'shed', '/healthz p99 ms', '/healthz max ms'],
);
process.stdout.write(
  `\np99 during / alone: ${(percentile(during.latencies, 0.99) / percentile(alone.latencies, 0.99)).toFixed(2)}x; /healthz requests that failed: ${healthFailures}\n`,
);
process.exit(0);
