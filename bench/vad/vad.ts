/**
 * Voice activity detectors on what a service meets: EmoDB speech, the same
 * speech in white and pink noise at 20, 10 and 0 dB SNR, and noise alone
 * at three levels. Each 3 s window is called speech when at least 0.25 s
 * of it is voiced (as the service decides). Detectors: an energy gate
 * (-40 dBFS over 30 ms frames), the WebRTC VAD (mode 2 and 3), and Silero
 * v5 as the service runs it (batched). Also the CPU each costs per second
 * of audio of one stream.
 *
 *   node --import tsx bench/vad/vad.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { readWav } from '../../src/audio/wav.ts';
import { resample } from '../../src/audio/resample.ts';
import { MIN_SPEECH_S } from '../../src/stream/channel.ts';
import { VadBatcher } from '../../src/stream/vad.ts';
import { header, table } from '../lib/machine.ts';
import { VoiceActivity } from './webrtc-vad.ts';
import { sharedData } from '../lib/data.ts';

const RATE = 16000;
const WINDOW = 3 * RATE;
const emodb = path.join(sharedData('datasets/emodb'), 'wav');

/** Deterministic noise: white, or pink (Paul Kellet's filter). */
function noise(kind: 'white' | 'pink', length: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const out = new Float32Array(length);
  let b0 = 0,
    b1 = 0,
    b2 = 0;
  for (let i = 0; i < length; i++) {
    const w = rand();
    if (kind === 'white') out[i] = w;
    else {
      b0 = 0.99765 * b0 + w * 0.099046;
      b1 = 0.963 * b1 + w * 0.2965164;
      b2 = 0.57 * b2 + w * 1.0526913;
      out[i] = (b0 + b1 + b2 + w * 0.1848) / 4;
    }
  }
  return out;
}

const rms = (x: Float32Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length);
const scaled = (x: Float32Array, target: number) => {
  const k = target / (rms(x) || 1);
  return x.map((v) => v * k);
};

/** 3 s windows of EmoDB speech (two clips back to back, from different speakers). */
const files = fs
  .readdirSync(emodb)
  .filter((f) => f.endsWith('.wav'))
  .sort();
const speechWindows: Float32Array[] = [];
for (let i = 0; i + 1 < files.length && speechWindows.length < 60; i += 7) {
  const a = readWav(fs.readFileSync(path.join(emodb, files[i])));
  const b = readWav(fs.readFileSync(path.join(emodb, files[i + 1])));
  const joined = new Float32Array(WINDOW);
  const x = resample(a.channels[0], a.sampleRate, RATE);
  const y = resample(b.channels[0], b.sampleRate, RATE);
  joined.set(x.subarray(0, WINDOW));
  if (x.length < WINDOW) joined.set(y.subarray(0, WINDOW - x.length), x.length);
  speechWindows.push(joined);
}

interface Condition {
  name: string;
  speech: boolean;
  windows: Float32Array[];
}
const conditions: Condition[] = [{ name: 'speech, clean', speech: true, windows: speechWindows }];
for (const kind of ['white', 'pink'] as const) {
  for (const snr of [20, 10, 0]) {
    conditions.push({
      name: `speech, ${kind} noise ${snr} dB SNR`,
      speech: true,
      windows: speechWindows.map((w, i) => {
        const n = scaled(noise(kind, WINDOW, i + 1), rms(w) * 10 ** (-snr / 20));
        return w.map((v, k) => v + n[k]);
      }),
    });
  }
  for (const dbfs of [-50, -30, -12]) {
    conditions.push({
      name: `${kind} noise alone, ${dbfs} dBFS`,
      speech: false,
      windows: Array.from({ length: 20 }, (_, i) => scaled(noise(kind, WINDOW, 100 + i), 10 ** (dbfs / 20))),
    });
  }
}

type Detector = (window: Float32Array) => Promise<number>;
const energy: Detector = async (w) => {
  const frame = 480;
  let voiced = 0;
  for (let i = 0; i + frame <= w.length; i += frame) if (20 * Math.log10(rms(w.subarray(i, i + frame)) + 1e-12) > -40) voiced += frame / RATE;
  return voiced;
};
const webrtc =
  (mode: 2 | 3): Detector =>
  async (w) => {
    const v = new VoiceActivity(RATE, mode);
    v.push(w);
    return v.voicedSeconds(0, 3);
  };
const batcher = await VadBatcher.load();
const silero: Detector = async (w) => {
  const s = batcher.stream(RATE);
  s.push(w);
  await s.until(3);
  const seconds = s.speechSeconds(0, 3);
  s.close();
  return seconds;
};
const detectors: [string, Detector][] = [
  ['energy -40 dBFS', energy],
  ['WebRTC mode 2', webrtc(2)],
  ['WebRTC mode 3', webrtc(3)],
  ['Silero v5', silero],
];

header('Voice activity: share of 3 s windows called speech (>= 0.25 s voiced), 16 kHz');
const rows: (string | number)[][] = conditions.map((c) => [c.name, c.speech ? 'speech' : 'no speech', c.windows.length]);
const summary: (string | number)[][] = [];
for (const [name, detect] of detectors) {
  let hits = 0,
    speechTotal = 0,
    falseAlarms = 0,
    noiseTotal = 0;
  for (const row of rows) row.push('');
  for (const [k, c] of conditions.entries()) {
    let called = 0;
    for (const w of c.windows) if ((await detect(w)) >= MIN_SPEECH_S) called++;
    rows[k][rows[k].length - 1] = `${((called / c.windows.length) * 100).toFixed(0)} %`;
    if (c.speech) (hits += called), (speechTotal += c.windows.length);
    else (falseAlarms += called), (noiseTotal += c.windows.length);
  }
  // CPU per second of audio for one stream: speech windows pushed in 20 ms pieces.
  const audio = speechWindows.slice(0, 10);
  const t = process.cpuUsage();
  if (name === 'Silero v5') {
    // As in the service: 32 streams at once, so the rounds batch.
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        const s = batcher.stream(RATE);
        for (const w of audio) for (let p = 0; p < w.length; p += 320) s.push(w.subarray(p, p + 320));
        await s.until(30);
        s.close();
      }),
    );
  } else {
    for (let r = 0; r < 32; r++) for (const w of audio) await detect(w);
  }
  const used = process.cpuUsage(t);
  const cpuMsPerAudioSecond = (used.user + used.system) / 1000 / (32 * 30);
  summary.push([name, `${((hits / speechTotal) * 100).toFixed(1)} %`, `${((falseAlarms / noiseTotal) * 100).toFixed(1)} %`, cpuMsPerAudioSecond.toFixed(3)]);
}
table(rows, ['condition', 'truth', 'windows', ...detectors.map(([n]) => n)]);
process.stdout.write('\n');
table(summary, ['detector', 'speech windows found', 'noise windows called speech', 'CPU ms per audio second per stream']);
await batcher.dispose();
