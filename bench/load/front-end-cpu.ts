/**
 * The front end's CPU per second of audio per stream, through the whole
 * session pipeline a server runs for it (decode, resample, Mel, Silero VAD,
 * smoothing, events serialised to JSON), without a socket or a model: N
 * sessions at once, each fed speech as Opus 48 kHz 20 ms packets as fast as
 * they are taken, their windows answered at once by a stand-in scheduler.
 * Baseline in the same run: the same with the VAD off. With --profile, the
 * top functions by self time (V8's sampling profiler) for the VAD-on run.
 *
 *   node --import tsx bench/load/front-end-cpu.ts [--streams 32] [--seconds 30] [--profile]
 */
import { Session as Inspector } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { resample } from '../../src/audio/resample.ts';
import type { StreamConfig } from '../../src/protocol/stream-config.ts';
import type { WindowJob, WindowSink } from '../../src/stream/scheduler.ts';
import { Session } from '../../src/stream/session.ts';
import { VadBatcher } from '../../src/stream/vad.ts';
import { header, table } from '../lib/machine.ts';
import { opusPackets } from '../lib/opus-packets.ts';
import { speech } from '../lib/speech.ts';

const { values } = parseArgs({
  options: { streams: { type: 'string', default: '32' }, seconds: { type: 'string', default: '30' }, profile: { type: 'boolean', default: false } },
});
const streams = Number(values.streams);
const seconds = Number(values.seconds);
const LABELS = ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad'];

header(`Front end CPU per stream: ${streams} sessions at once, ${seconds} s of Opus 48 kHz speech each (20 ms packets), hop 500 ms`);
const { samples, source } = speech(seconds);
const packets = opusPackets(resample(samples, 22050, 48000));
process.stdout.write(`speech: ${source}\n\n`);

/** Answers every window at once, as a model that costs nothing would. */
const instant: WindowSink = {
  submit(job: WindowJob) {
    const p = new Float32Array(LABELS.length).fill(1 / LABELS.length);
    job.done({ kind: 'result', probabilities: p, attention: new Float32Array(30).fill(1 / 30), queueMs: 0, inferenceMs: 0, batchSize: 1 });
  },
  cancel() {},
};

const vadBatcher = await VadBatcher.load();

async function run(vad: boolean): Promise<{ cpuMs: number; windows: number; events: number }> {
  const config: StreamConfig = { encoding: 'opus', sampleRate: 48000, channels: 1, hopMs: 500, smoothing: 'ema', vad, attention: true, band: 'auto' };
  let windows = 0;
  let events = 0;
  const start = process.cpuUsage();
  await Promise.all(
    Array.from({ length: streams }, async (_, k) => {
      const session = new Session(`s${k}`, config, { scheduler: instant, vad: vadBatcher, labels: LABELS, attentionHopS: 0.1, bulk: true });
      const done = new Promise<void>((resolve, reject) =>
        session.events$.subscribe({
          next: (m) => {
            // What the server does with every event.
            events += JSON.stringify(m).length > 0 ? 1 : 0;
            if (m.type === 'emotion') windows++;
          },
          error: reject,
          complete: resolve,
        }),
      );
      // A second of packets at a time, yielding between, as sockets deliver them.
      for (let i = 0; i < packets.length; i += 50) {
        for (const p of packets.slice(i, i + 50)) session.audio(p);
        await new Promise((r) => setImmediate(r));
      }
      session.closeStream();
      await done;
    }),
  );
  const used = process.cpuUsage(start);
  return { cpuMs: (used.user + used.system) / 1000, windows, events };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

async function profiled<T>(work: () => Promise<T>): Promise<{ result: T; top: (string | number)[][] }> {
  const inspector = new Inspector();
  inspector.connect();
  await inspector.post('Profiler.enable');
  await inspector.post('Profiler.start');
  const result = await work();
  const { profile } = (await inspector.post('Profiler.stop')) as { profile: { nodes: ProfileNode[] } };
  inspector.disconnect();
  const total = profile.nodes.reduce((n, node) => n + node.hitCount, 0);
  const bySite = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^.*\/(node_modules\/[^/]+|src)\//, '$1/');
    const site = `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
    bySite.set(site, (bySite.get(site) ?? 0) + node.hitCount);
  }
  const top = [...bySite.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([site, hits]) => [site, `${((hits / total) * 100).toFixed(1)} %`]);
  return { result, top };
}

await run(true);
const rows: (string | number)[][] = [];
const measured: Record<string, number> = {};
for (const vad of [false, true]) {
  const r = await run(vad);
  const perStreamSecond = r.cpuMs / (streams * seconds);
  measured[String(vad)] = perStreamSecond;
  rows.push([vad ? 'Silero VAD on' : 'VAD off (baseline)', perStreamSecond.toFixed(2), (1000 / perStreamSecond).toFixed(0), r.windows, r.events]);
}
table(rows, ['session', 'CPU ms per stream-second', 'streams per core', 'windows', 'events']);
process.stdout.write(
  `\nthe VAD costs ${(measured.true - measured.false).toFixed(2)} ms per stream-second (${(measured.true / measured.false).toFixed(2)}x the baseline)\n`,
);
if (values.profile) {
  const { top } = await profiled(() => run(true));
  process.stdout.write('\nTop functions by self time, VAD on:\n\n');
  table(top, ['function', 'self time']);
}
await vadBatcher.dispose();
