/**
 * Calls end to end: N concurrent two-party calls streamed as Twilio Media
 * Streams (mu-law 8 kHz, 20 ms per track per message, real-time pace) to
 * one `aer serve`, and every call followed over Server-Sent Events by a
 * subscriber on another replica sharing a Redis bus (`redis-server`
 * started here on a loopback port), as a supervisor's wallboard behind a
 * load balancer would. Measured at the subscriber: the latency of every
 * emotion event from the moment the audio that completed its window was
 * sent to the moment the subscriber read the event; events missing or out
 * of order; CPU and memory of both replicas and Redis.
 *
 * The baseline, in the same run: the same calls with one replica and its
 * in-process bus, the subscriber on the replica that analyses the calls.
 * The ratio is what the bus and the second replica cost.
 *
 * The calls are the shared EmoDB speech, the parties taking 4 s turns
 * with 0.4 s between, both tracks sent throughout (silence between turns),
 * as a telephone call is. The replicas run the shipped models (the calls
 * are heard by the telephone-band one). Binds 127.0.0.1 only; bounded in
 * time.
 *
 *   node --import tsx bench/calls/calls.ts [--calls 10,20,30] [--seconds 40] [--workers N]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { followCall } from '../../clients/examples/call-centre/follow-call.ts';
import { twilioMessages } from '../../clients/examples/call-centre/twilio-media-stream.ts';
import { bandPass } from '../../src/audio/band-pass.ts';
import { floatToMulaw } from '../../src/audio/g711.ts';
import { resample } from '../../src/audio/resample.ts';
import { header, table } from '../lib/machine.ts';
import { type BenchServer, startServer } from '../lib/serve.ts';
import { speech } from '../lib/speech.ts';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '10,20,30' },
    seconds: { type: 'string', default: '40' },
    workers: { type: 'string' },
  },
});
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const STEPS = values.calls.split(',').map(Number);
const SECONDS = Number(values.seconds);
const TURN_S = 4;
const GAP_S = 0.4;
const TICK_MS = 20;
const BYTES_PER_TICK = 160;

/** The call both parties speak, as the telephone carries it: EmoDB speech in alternating 4 s turns. */
function callAudio(seconds: number): { inbound: Uint8Array; outbound: Uint8Array; source: string } {
  const { samples, source } = speech(seconds + TURN_S);
  const at8k = bandPass(resample(samples, 22050, 8000), 8000, 300, 3400);
  const n = seconds * 8000;
  const tracks = [new Float32Array(n), new Float32Array(n)];
  for (let t = 0, k = 0; t < n; t += (TURN_S + GAP_S) * 8000, k++) {
    const end = Math.min(n, t + TURN_S * 8000);
    tracks[k % 2].set(at8k.subarray(t, end), t);
  }
  return { inbound: floatToMulaw(tracks[0]), outbound: floatToMulaw(tracks[1]), source };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuOf(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface CallResult {
  latencies: number[];
  speechLatencies: number[];
  events: number;
  gaps: number;
  ended: boolean;
}

/** Follows a call's events over SSE on `http` (once it is listed), timing each emotion event against when its audio was sent. */
async function follow(http: string, id: string, sentAt: number[], signal: AbortSignal): Promise<CallResult> {
  const result: CallResult = { latencies: [], speechLatencies: [], events: 0, gaps: 0, ended: false };
  let last = 0;
  try {
    await followCall(
      http,
      id,
      (e) => {
        const now = performance.now();
        result.events++;
        if (e.seq !== last + 1) result.gaps++;
        last = e.seq;
        if (e.type === 'call_ended') result.ended = true;
        if (e.type !== 'emotion') return;
        // The window was complete when the tick holding its last sample was sent.
        const tick = Math.min(sentAt.length - 1, Math.ceil((e.end_s * 1000) / TICK_MS) - 1);
        if (sentAt[tick] === undefined) return;
        result.latencies.push(now - sentAt[tick]);
        if (e.speech) result.speechLatencies.push(now - sentAt[tick]);
      },
      { signal },
    );
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  return result;
}

/** Streams one call to `ws` at real time (both tracks' 20 ms every 20 ms), noting when each tick went. */
async function stream(wsUrl: string, id: string, audio: { inbound: Uint8Array; outbound: Uint8Array }, sentAt: number[]): Promise<number> {
  const ws = new WebSocket(wsUrl);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const messages = twilioMessages({ callSid: id, streamSid: `MZ${id}`, accountSid: 'AC-bench' }, audio);
  ws.send(messages.next().value as string);
  ws.send(messages.next().value as string);
  const start = performance.now();
  const ticks = audio.inbound.length / BYTES_PER_TICK;
  for (let k = 0; k < ticks; k++) {
    const wait = start + k * TICK_MS - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    ws.send(messages.next().value as string);
    ws.send(messages.next().value as string);
    sentAt[k] = performance.now();
  }
  for (const rest of messages) ws.send(rest);
  return closed;
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

interface Setup {
  name: string;
  ingest: BenchServer;
  subscribe: BenchServer;
  redisPid?: number;
}

async function step(setup: Setup, calls: number, audio: { inbound: Uint8Array; outbound: Uint8Array }): Promise<(string | number)[]> {
  const pids = [
    setup.ingest.child.pid!,
    ...(setup.subscribe === setup.ingest ? [] : [setup.subscribe.child.pid!]),
    ...(setup.redisPid ? [setup.redisPid] : []),
  ];
  const cpu0 = pids.map(cpuOf);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  const stop = new AbortController();
  const runs = Array.from({ length: calls }, async (_, i) => {
    const id = `CA-${setup.name}-${calls}-${i}`;
    const sentAt: number[] = [];
    // Calls start spread over the first two seconds, as calls do.
    await new Promise((r) => setTimeout(r, (i * 2000) / calls));
    const following = follow(`http://127.0.0.1:${setup.subscribe.port}`, id, sentAt, stop.signal);
    const code = await stream(`ws://127.0.0.1:${setup.ingest.port}/v1/telephony/twilio`, id, audio, sentAt);
    const deadline = setTimeout(() => stop.abort(), 20_000);
    const result = await following;
    clearTimeout(deadline);
    return { code, ...result };
  });
  const results = await Promise.all(runs);
  const wall = (performance.now() - t0) / 1000;
  const cpu = pids.map((p, i) => (cpuOf(p) - cpu0[i]) / wall);
  const client = process.cpuUsage(client0);
  const all = results.flatMap((r) => r.latencies);
  const speechOnly = results.flatMap((r) => r.speechLatencies);
  const incomplete = results.filter((r) => !r.ended || r.code !== 1000).length;
  return [
    calls,
    all.length,
    quantile(speechOnly, 0.5).toFixed(0),
    quantile(speechOnly, 0.99).toFixed(0),
    quantile(all, 0.99).toFixed(0),
    results.reduce((n, r) => n + r.gaps, 0),
    incomplete,
    cpu.map((c) => `${Math.round(c * 100)} %`).join(' / '),
    `${Math.round(((client.user + client.system) / 1e6 / wall) * 100)} %`,
    `${Math.round(setup.ingest.rssMiB())}${setup.subscribe === setup.ingest ? '' : ` / ${Math.round(setup.subscribe.rssMiB())}`}`,
  ];
}

async function startRedis(): Promise<{ url: string; pid: number; stop(): void }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  child.on('error', () => {
    process.stderr.write('bench/calls needs redis-server (apt-get install redis-server)\n');
    process.exit(2);
  });
  await new Promise<void>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (/Ready to accept connections/.test(out)) resolve();
    });
  });
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid!, stop: () => child.kill() };
}

async function main(): Promise<void> {
  header('Calls: telephony in, subscribers out');
  const audio = callAudio(SECONDS);
  const workers = values.workers ? ['--workers', values.workers] : [];
  process.stdout.write(
    `${STEPS.join(', ')} concurrent two-party calls of ${SECONDS} s (${audio.source}, 4 s turns, mu-law 8 kHz, Twilio Media Streams at real time), each followed over SSE from its start\n` +
      'latency: the audio that completed a window sent -> its emotion event read by the subscriber (ms)\n\n',
  );
  const heading = ['calls', 'windows', 'speech p50', 'speech p99', 'all p99', 'gaps', 'incomplete', 'CPU: replicas / Redis', 'CPU: client', 'RSS MiB'];

  const redis = await startRedis();
  const a = await startServer(ROOT, ['--bus', redis.url, ...workers]);
  const b = await startServer(ROOT, ['--bus', redis.url, '--workers', '0']);
  const acrossRows: (string | number)[][] = [];
  try {
    for (const calls of STEPS) acrossRows.push(await step({ name: 'bus', ingest: a, subscribe: b, redisPid: redis.pid }, calls, audio));
  } finally {
    a.child.kill();
    b.child.kill();
    redis.stop();
  }
  process.stdout.write('Two replicas and Redis: calls streamed to one, followed on the other\n\n');
  table(acrossRows, heading);

  const single = await startServer(ROOT, workers);
  const baseRows: (string | number)[][] = [];
  try {
    for (const calls of STEPS) baseRows.push(await step({ name: 'local', ingest: single, subscribe: single }, calls, audio));
  } finally {
    single.child.kill();
  }
  process.stdout.write('\nBaseline: one replica, in-process bus, followed on the same replica\n\n');
  table(
    baseRows,
    heading.map((h) => (h === 'CPU: replicas / Redis' ? 'CPU: replica' : h)),
  );
  process.stdout.write('\nspeech p99 across replicas / baseline: ');
  process.stdout.write(`${STEPS.map((c, i) => `${c} calls ${(Number(acrossRows[i][3]) / Number(baseRows[i][3])).toFixed(2)}x`).join(', ')}\n`);
}

await main();
