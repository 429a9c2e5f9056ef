/**
 * Does a server's memory come back after many sessions? A separate `aer
 * serve` process takes `--rounds` rounds of `--sessions` sessions (PCM
 * 16 kHz, VAD on, opened at once, each sending `--seconds` of speech as
 * fast as the server reads it, then closing); its RSS (from /proc) is read
 * before the first round and after each, once the sessions have closed and
 * the process has had a few seconds. Binds 127.0.0.1 only.
 *
 *   node --import tsx bench/load/sessions-memory.ts [--sessions 1000] [--rounds 3] [--seconds 4] [--root DIR]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { resample } from '../../src/audio/resample.ts';
import { header, table } from '../lib/machine.ts';
import { startServer } from '../lib/serve.ts';
import { speech } from '../lib/speech.ts';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '4' },
    root: { type: 'string' },
  },
});
const sessions = Number(values.sessions);
const rounds = Number(values.rounds);
const root = values.root ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

header(`Server memory over ${rounds} rounds of ${sessions} sessions (PCM 16 kHz, VAD on, ${values.seconds} s of speech each)`);
const { samples, source } = speech(Number(values.seconds));
const pcm = resample(samples, 22050, 16000);
const audio = new Uint8Array(pcm.length * 2);
pcm.forEach((v, i) => new DataView(audio.buffer).setInt16(i * 2, Math.max(-32768, Math.min(32767, Math.round(v * 32767))), true));
process.stdout.write(`speech: ${source}; server: ${root}\n\n`);

const server = await startServer(root, ['--max-sessions', String(sessions + 10), '--idle-timeout-ms', '0']);
const { port, rssMiB } = server;

/** One session: connect, send the audio in 100 ms messages, close_stream, wait for the close. */
function session(): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/stream?encoding=pcm_s16le&sample_rate=16000`);
    let events = 0;
    ws.on('message', () => events++);
    ws.on('open', () => {
      for (let i = 0; i < audio.length; i += 3200) ws.send(audio.subarray(i, i + 3200));
      ws.send(JSON.stringify({ type: 'close_stream' }));
    });
    ws.on('close', () => resolve(events));
    ws.on('error', () => resolve(events));
  });
}

await new Promise((r) => setTimeout(r, 2000));
const rows: (string | number)[][] = [['before', '', `${rssMiB().toFixed(0)} MiB`, '']];
const first = rssMiB();
for (let r = 1; r <= rounds; r++) {
  const started = performance.now();
  const events = await Promise.all(Array.from({ length: sessions }, session));
  const took = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const rss = rssMiB();
  rows.push([
    `after round ${r}`,
    `${events.reduce((a, b) => a + b, 0)} events in ${took.toFixed(1)} s`,
    `${rss.toFixed(0)} MiB`,
    `${rss - first >= 0 ? '+' : ''}${(rss - first).toFixed(0)} MiB`,
  ]);
}
server.child.kill('SIGTERM');
table(rows, ['', 'sessions', 'RSS', 'vs before']);
process.exit(0);
