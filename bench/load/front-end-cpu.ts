/**
 * The front end's CPU per second of audio per stream, through the whole
 * session pipeline a server runs for it (decode, resample, Mel, Silero VAD,
 * smoothing, events serialised to JSON), without a socket or a model: N
 * sessions at once, each fed speech as Opus 48 kHz 20 ms packets as fast as
 * they are taken, their windows answered at once by a stand-in scheduler.
 * Two kinds of audio: speech throughout (EmoDB clips back to back), and one
 * party's channel of a call (4 s of that speech, then 4 s of line noise
 * at -70 dBFS while the other party talks). Baseline in the same run: the
 * same with the VAD off. With --profile, the top functions by self time
 * (V8's sampling profiler) for continuous speech with the VAD on. Last,
 * the same sessions on a front-end worker thread (what `aer serve` runs):
 * the process's CPU, both threads, so what crossing between them costs is in.
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
import { FrontEndPool } from '../../src/stream/workers/front-end-pool.ts';
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
const speech48k = resample(samples, 22050, 48000);
/** The same speech in 4 s turns, line noise at -70 dBFS between. */
const channel48k = speech48k.map((v, i) => (Math.floor(i / (4 * 48000)) % 2 === 0 ? v : 10 ** (-70 / 20) * Math.sqrt(3) * (Math.random() * 2 - 1)));
const audioKinds = { speech: opusPackets(speech48k), 'call channel': opusPackets(channel48k) };
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

async function run(vad: boolean, packets: Uint8Array[], pool?: FrontEndPool): Promise<{ cpuMs: number; gated: number }> {
  const config: StreamConfig = { encoding: 'opus', sampleRate: 48000, channels: 1, hopMs: 500, smoothing: 'ema', vad, attention: true, band: 'auto' };
  let windows = 0;
  let events = 0;
  const gated = vadBatcher.stats.gated;
  const start = process.cpuUsage();
  await Promise.all(
    Array.from({ length: streams }, async (_, k) => {
      const id = `s${k}`;
      const session = pool
        ? pool.open({ id, config, labels: LABELS, attentionHopS: 0.1, windowInput: 'whole', melFmin: 0, bulk: true }, instant)
        : new Session(id, config, { scheduler: instant, vad: vadBatcher, labels: LABELS, attentionHopS: 0.1, windowInput: 'whole', bulk: true });
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
  if (windows === 0 || events === 0) throw new Error('no windows came back');
  return { cpuMs: (used.user + used.system) / 1000, gated: vadBatcher.stats.gated - gated };
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

await run(true, audioKinds.speech);
const rows: (string | number)[][] = [];
for (const [kind, packets] of Object.entries(audioKinds)) {
  const perStreamSecond: number[] = [];
  for (const vad of [false, true]) {
    const r = await run(vad, packets);
    perStreamSecond.push(r.cpuMs / (streams * seconds));
    const chunks = (streams * seconds) / 0.032;
    rows.push([
      kind,
      vad ? 'Silero VAD on' : 'VAD off (baseline)',
      perStreamSecond.at(-1)!.toFixed(2),
      (1000 / perStreamSecond.at(-1)!).toFixed(0),
      vad ? `${((r.gated / chunks) * 100).toFixed(0)} %` : '',
      vad ? `${(perStreamSecond[1] - perStreamSecond[0]).toFixed(2)} ms` : '',
    ]);
  }
}
const pool = await FrontEndPool.start(1, { vad: true, saturated: () => false, observe: () => {}, log: (line) => process.stderr.write(`${line}\n`) });
for (const [kind, packets] of Object.entries(audioKinds)) {
  await run(true, packets, pool);
  const r = await run(true, packets, pool);
  const perStreamSecond = r.cpuMs / (streams * seconds);
  rows.push([kind, 'on a worker thread, VAD on', perStreamSecond.toFixed(2), (1000 / perStreamSecond).toFixed(0), '', '']);
}
await pool.close();
table(rows, ['audio', 'session', 'CPU ms per stream-second', 'streams per core', 'chunks below the gate', 'the VAD costs']);
if (values.profile) {
  const { top } = await profiled(() => run(true, audioKinds.speech));
  process.stdout.write('\nTop functions by self time, continuous speech, VAD on:\n\n');
  table(top, ['function', 'self time']);
}
await vadBatcher.dispose();
