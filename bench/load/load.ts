/**
 * Load test: N clients stream real speech (EmoDB clips) to a real `aer
 * serve` over loopback at real-time pace (Opus 48 kHz in 20 ms packets, or
 * PCM s16 16 kHz in 20 ms messages), stepping N up. Per step: end-to-end
 * window latency p50/p95/p99 (as the server measures it: the audio that
 * completed a window received -> its event sent), windows/s, shed windows,
 * and CPU of the server and of this client process (they share the
 * machine). The most streams held with p99 <= 150 ms and nothing shed is
 * the capacity, also given as a share of the raw onnxruntime throughput
 * measured in the same run. Binds 127.0.0.1 only; bounded in time.
 *
 * With --simulated-ms MS the server runs the simulated engine (uniform
 * scores after MS ms a batch) instead of the model: the serving ceiling of
 * this machine without the model's cost, what a GPU host would see.
 *
 * With --workers 0,1,2 the steps run once per front-end worker count (0:
 * every session on the server's main thread), each on a fresh server, and
 * the capacities are compared with the first count's. With --profile-server
 * DIR the server runs under node --cpu-prof, writing a profile per thread
 * (main and each worker) into DIR when it exits.
 *
 *   node --import tsx bench/load/load.ts [--kind opus|pcm] [--transport ws|uws] [--precision auto|fp32|int8] [--simulated-ms 2] [--steps 50,100,200] [--step-seconds 20] [--hop-ms 500] [--workers 0,1]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import WebSocket from 'ws';
import { resample } from '../../src/audio/resample.ts';
import { INT8_SESSION_OPTIONS } from '../../src/engine/int8-session.ts';
import { PRECISIONS, type Precision } from '../../src/engine/engine.ts';
import { graphBytes } from '../../src/engine/onnx-engine.ts';
import { modelSource } from '../../src/engine/load-engine.ts';
import { N_MELS, WINDOW_FRAMES, WINDOW_VALUES } from '../../src/features/recipe.ts';
import { DEFAULT_MODEL_DIR } from '../../src/model/default-model.ts';
import { header, table } from '../lib/machine.ts';
import { opusPackets } from '../lib/opus-packets.ts';
import { speech } from '../lib/speech.ts';

const { values } = parseArgs({
  options: {
    kind: { type: 'string', default: 'opus' },
    steps: { type: 'string', default: '50,100,150,200,250,300' },
    'step-seconds': { type: 'string', default: '20' },
    'hop-ms': { type: 'string', default: '500' },
    model: { type: 'string', default: DEFAULT_MODEL_DIR },
    'max-batch': { type: 'string', default: '16' },
    'max-delay-ms': { type: 'string', default: '20' },
    transport: { type: 'string', default: 'ws' },
    precision: { type: 'string', default: 'auto' },
    'simulated-ms': { type: 'string' },
    workers: { type: 'string' },
    'profile-server': { type: 'string' },
  },
});
const simulatedMs = values['simulated-ms'];
const kind = values.kind === 'pcm' ? 'pcm' : 'opus';
if (!(PRECISIONS as readonly string[]).includes(values.precision!)) throw new Error(`--precision ${values.precision}: one of ${PRECISIONS.join(', ')}`);
const precision = values.precision as Precision;
const steps = values.steps!.split(',').map(Number);
/** Front-end worker counts to measure; undefined: the server's default. */
const workerCounts: (number | undefined)[] = values.workers ? values.workers.split(',').map(Number) : [undefined];
const stepSeconds = Number(values['step-seconds']);
const SLO_MS = 150;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The raw engine's windows/s at batch 32 on this machine, now, on the graph the server runs at this precision. */
async function rawThroughput(): Promise<{ perSecond: number; int8: boolean }> {
  const { bytes, int8 } = await graphBytes(await modelSource(values.model!), precision, true);
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', ...(int8 ? INT8_SESSION_OPTIONS : {}) });
  const batch = 32;
  const input = new ort.Tensor(
    'float32',
    Float32Array.from({ length: batch * WINDOW_VALUES }, (_, i) => Math.sin(i)),
    [batch, WINDOW_FRAMES, N_MELS, 1],
  );
  for (let i = 0; i < 3; i++) await session.run({ features: input });
  let n = 0;
  const started = performance.now();
  while (performance.now() - started < 4000) {
    await session.run({ features: input });
    n += batch;
  }
  const perSecond = n / ((performance.now() - started) / 1000);
  await session.release();
  return { perSecond, int8 };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function cpuSecondsOf(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Sums and counts of the server's latency histograms, from /metrics (all label values added). */
async function histogramTotals(base: string): Promise<Record<string, { sum: number; count: number }>> {
  const text = await fetch(`${base}/metrics`).then((r) => r.text());
  const totals: Record<string, { sum: number; count: number }> = {};
  for (const [, name, part, value] of text.matchAll(
    /^(aer_(?:window_latency_seconds|queue_wait_seconds|inference_seconds|batch_size))_(sum|count)(?:\{[^}]*\})? (\S+)$/gm,
  )) {
    totals[name] ??= { sum: 0, count: 0 };
    totals[name][part as 'sum' | 'count'] += Number(value);
  }
  return totals;
}

/** Means over a step of the histograms: where a window's latency went. */
function breakdown(before: Record<string, { sum: number; count: number }>, after: Record<string, { sum: number; count: number }>): string[] {
  const mean = (name: string) => {
    const count = (after[name]?.count ?? 0) - (before[name]?.count ?? 0);
    return count ? (after[name].sum - (before[name]?.sum ?? 0)) / count : NaN;
  };
  return [
    (mean('aer_window_latency_seconds') * 1000).toFixed(0),
    (mean('aer_queue_wait_seconds') * 1000).toFixed(0),
    (mean('aer_inference_seconds') * 1000).toFixed(1),
    mean('aer_batch_size').toFixed(1),
  ];
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN);

header(
  `Load: ${kind === 'opus' ? 'Opus 48 kHz, 20 ms packets' : 'PCM s16 16 kHz, 20 ms messages'}, hop ${values['hop-ms']} ms, VAD on, real-time pace over loopback, ${values.transport} transport`,
);
const { perSecond: raw, int8 } = simulatedMs === undefined ? await rawThroughput() : { perSecond: NaN, int8: false };
const { samples, source } = speech(60);
const messages =
  kind === 'opus'
    ? opusPackets(resample(samples, 22050, 48000))
    : (() => {
        const pcm = resample(samples, 22050, 16000);
        const bytes = new Uint8Array(pcm.length * 2);
        const view = new DataView(bytes.buffer);
        pcm.forEach((v, i) => view.setInt16(i * 2, Math.max(-32768, Math.min(32767, Math.round(v * 32767))), true));
        return Array.from({ length: Math.floor(bytes.length / 640) }, (_, i) => bytes.subarray(i * 640, i * 640 + 640));
      })();
process.stdout.write(
  `speech: ${source}, 60 s looped; ${simulatedMs === undefined ? `raw onnxruntime on this machine (${int8 ? 'int8' : 'fp32'}): ${raw.toFixed(0)} windows/s at batch 32` : `engine: simulated, ${simulatedMs} ms a batch (not the model)`}\n\n`,
);

/** A fresh server with `workers` front-end workers, stepped up: its rows and capacity. */
async function measure(
  workers: number | undefined,
): Promise<{ rows: (string | number)[][]; capacity: { streams: number; windowsPerSecond: number } | undefined }> {
  const port = await freePort();
  const server = spawn(
    process.execPath,
    [
      ...(values['profile-server'] ? ['--cpu-prof', '--cpu-prof-dir', values['profile-server']] : []),
      path.join(root, 'bin/aer.js'),
      'serve',
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--model',
      values.model!,
      '--max-batch',
      values['max-batch']!,
      '--max-delay-ms',
      values['max-delay-ms']!,
      '--max-sessions',
      '5000',
      '--idle-timeout-ms',
      '0',
      '--transport',
      values.transport!,
      ...(simulatedMs === undefined ? ['--precision', precision] : ['--engine', 'simulated', '--simulated-ms', simulatedMs]),
      ...(workers === undefined ? [] : ['--workers', String(workers)]),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let serverLog = '';
  server.stderr.on('data', (d) => (serverLog += d));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (
      await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 600 || server.exitCode !== null) throw new Error(`the server did not become ready:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const query = kind === 'opus' ? 'encoding=opus&sample_rate=48000' : 'encoding=pcm_s16le&sample_rate=16000';
  const rows: (string | number)[][] = [];
  let capacity: { streams: number; windowsPerSecond: number } | undefined;

  for (const n of steps) {
    const latencies: number[] = [];
    let windows = 0;
    let shed = 0;
    let warmedAt = Infinity;
    const clients = await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream?${query}&hop_ms=${values['hop-ms']}`);
            ws.on('message', (data) => {
              const m = JSON.parse(String(data)) as { type: string; latency_ms?: number; end_s?: number; windows?: number; code?: string };
              if (m.type === 'emotion' && performance.now() >= warmedAt) {
                windows++;
                latencies.push(m.latency_ms!);
              } else if (m.type === 'warning' && m.code === 'overloaded') shed += m.windows ?? 0;
            });
            ws.once('open', () => resolve(ws));
            ws.once('error', reject);
          }),
      ),
    );
    // Each client sends message k at its own phase + k * 20 ms; a 5 ms tick sends what is due.
    const start = performance.now();
    const phase = clients.map((_, i) => (i * 20) / clients.length);
    const next = clients.map(() => 0);
    // Windows that end within the first 3.5 s are warm-up (the first needs 3 s of audio).
    warmedAt = start + 3500;
    const serverCpu0 = cpuSecondsOf(server.pid!);
    const histograms0 = await histogramTotals(base);
    const clientCpu0 = process.cpuUsage();
    const end = start + (stepSeconds + 3.5) * 1000;
    while (performance.now() < end) {
      const now = performance.now() - start;
      clients.forEach((ws, i) => {
        while (phase[i] + next[i] * 20 <= now) {
          if (ws.readyState === WebSocket.OPEN) ws.send(messages[next[i] % messages.length]);
          next[i]++;
        }
      });
      await new Promise((r) => setTimeout(r, 5));
    }
    const elapsed = (performance.now() - warmedAt) / 1000;
    const where = breakdown(histograms0, await histogramTotals(base));
    const serverCpu = (cpuSecondsOf(server.pid!) - serverCpu0) / ((performance.now() - start) / 1000);
    const c = process.cpuUsage(clientCpu0);
    const clientCpu = (c.user + c.system) / 1e6 / ((performance.now() - start) / 1000);
    await Promise.all(
      clients.map(
        (ws) =>
          new Promise<void>((resolve) => {
            ws.once('close', () => resolve());
            ws.send(JSON.stringify({ type: 'close_stream' }));
            setTimeout(() => (ws.terminate(), resolve()), 10_000);
          }),
      ),
    );
    latencies.sort((a, b) => a - b);
    const p99 = percentile(latencies, 0.99);
    const ok = p99 <= SLO_MS && shed === 0;
    const perSecond = windows / elapsed;
    if (ok) capacity = { streams: n, windowsPerSecond: perSecond };
    rows.push([
      n,
      perSecond.toFixed(0),
      percentile(latencies, 0.5).toFixed(0),
      percentile(latencies, 0.95).toFixed(0),
      p99.toFixed(0),
      shed,
      `${(serverCpu * 100).toFixed(0)} %`,
      `${(clientCpu * 100).toFixed(0)} %`,
      ...where,
      ok ? 'yes' : 'no',
    ]);
    process.stderr.write(`${n} streams: ${perSecond.toFixed(0)} windows/s, p99 ${p99.toFixed(0)} ms, ${shed} shed\n`);
    if (!ok && rows.filter((r) => r.at(-1) === 'no').length >= 2) break;
  }
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  return { rows, capacity };
}

const COLUMNS = [
  'streams',
  'windows/s',
  'p50 ms',
  'p95 ms',
  'p99 ms',
  'shed',
  'server CPU',
  'client CPU',
  'mean latency ms',
  'mean queue wait ms',
  'mean batch ms',
  'mean batch size',
  `p99 <= ${SLO_MS} ms, none shed`,
];

const capacityLine = (capacity: { streams: number; windowsPerSecond: number } | undefined) =>
  capacity
    ? `${capacity.streams} ${kind} streams (${capacity.windowsPerSecond.toFixed(0)} windows/s${simulatedMs === undefined ? ` = ${((capacity.windowsPerSecond / raw) * 100).toFixed(0)} % of the raw engine's ${raw.toFixed(0)} windows/s` : `, simulated engine at ${simulatedMs} ms a batch`})`
    : 'below the first step';
const results: { workers: number | undefined; capacity: { streams: number } | undefined }[] = [];
for (const workers of workerCounts) {
  const label =
    workers === undefined ? "the server's default front-end workers" : workers === 0 ? 'front ends on the main thread (--workers 0)' : `--workers ${workers}`;
  process.stdout.write(`${label}:\n`);
  const { rows, capacity } = await measure(workers);
  table(rows, COLUMNS);
  process.stdout.write(`\ncapacity: ${capacityLine(capacity)}\n\n`);
  results.push({ workers, capacity });
}
if (results.length > 1) {
  const base = results[0];
  for (const r of results.slice(1))
    process.stdout.write(
      `--workers ${r.workers} against --workers ${base.workers}: ${r.capacity && base.capacity ? `${(r.capacity.streams / base.capacity.streams).toFixed(2)}x the streams` : 'one of them is below the first step'}\n`,
    );
}
