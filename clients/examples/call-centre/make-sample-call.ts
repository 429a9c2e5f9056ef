/**
 * The sample call: two EmoDB speakers interleaved as a stereo call, agent
 * (speaker 03, a man) left and customer (speaker 08, a woman) right. The
 * customer starts neutral, grows sad, then angry; the agent stays neutral
 * and friendly. Each turn is one 2 s clip, with 0.5 s between turns.
 * `--telephone`: the same call as a telephone line delivers it (8 kHz, the
 * 300-3400 Hz band, G.711 mu-law), written as an 8 kHz WAV.
 *
 *   node --import tsx clients/examples/call-centre/make-sample-call.ts [--emodb ../shared/datasets/emodb] [--out sample-call.wav] [--telephone]
 */
import fs from 'node:fs';
import path from 'node:path';
import { readWav } from '../../../src/audio/wav.ts';
import { resample } from '../../../src/audio/resample.ts';
import { writeWav } from '../../../src/audio/wav-write.ts';
import { SAMPLE_RATE } from '../../../src/features/recipe.ts';
import { TELEPHONE_RATE, telephoneLine } from '../../../src/train/conditions/channel-sim.ts';
import { commandLine } from '../command-line.ts';

/** [channel (0 agent, 1 customer), EmoDB speaker, emotion code]: N neutral, F happy, T sad, W angry. */
export const SCRIPT: [number, string, string][] = [
  [0, '03', 'N'],
  [1, '08', 'N'],
  [0, '03', 'F'],
  [1, '08', 'N'],
  [0, '03', 'N'],
  [1, '08', 'T'],
  [1, '08', 'T'],
  [0, '03', 'N'],
  [1, '08', 'W'],
  [1, '08', 'W'],
  [0, '03', 'N'],
  [1, '08', 'W'],
  [1, '08', 'W'],
  [0, '03', 'F'],
  [1, '08', 'N'],
];
const GAP_S = 0.5;

export function makeSampleCall(emodbDir: string): {
  sampleRate: number;
  channels: [Float32Array, Float32Array];
  turns: { channel: number; file: string; start_s: number; end_s: number }[];
} {
  const wavDir = path.join(emodbDir, 'wav');
  if (!fs.existsSync(wavDir)) throw new Error(`no EmoDB clips in ${wavDir}; pass --emodb DIR (the shared datasets/emodb folder)`);
  const files = fs.readdirSync(wavDir).sort();
  const used = new Map<string, number>();
  const clips = SCRIPT.map(([channel, speaker, code]) => {
    const key = speaker + code;
    const candidates = files.filter((f) => f.startsWith(speaker) && f[5] === code);
    const n = used.get(key) ?? 0;
    used.set(key, n + 1);
    if (candidates.length <= n) throw new Error(`EmoDB has only ${candidates.length} clips of speaker ${speaker} with code ${code}`);
    return { channel, file: candidates[n], audio: readWav(new Uint8Array(fs.readFileSync(path.join(wavDir, candidates[n])))) };
  });
  const sampleRate = clips[0].audio.sampleRate;
  const gap = Math.round(GAP_S * sampleRate);
  const total = clips.reduce((n, c) => n + c.audio.channels[0].length + gap, gap);
  const channels: [Float32Array, Float32Array] = [new Float32Array(total), new Float32Array(total)];
  const turns = [];
  let at = gap;
  for (const c of clips) {
    const samples = c.audio.channels[0];
    channels[c.channel].set(samples, at);
    turns.push({ channel: c.channel, file: c.file, start_s: at / sampleRate, end_s: (at + samples.length) / sampleRate });
    at += samples.length + gap;
  }
  return { sampleRate, channels, turns };
}

/** The call as a telephone line delivers it: 8 kHz, the 300-3400 Hz band, G.711 mu-law. */
export function overTelephone(call: { sampleRate: number; channels: Float32Array[] }): { sampleRate: number; channels: Float32Array[] } {
  return { sampleRate: TELEPHONE_RATE, channels: call.channels.map((c) => telephoneLine(resample(c, call.sampleRate, SAMPLE_RATE), 'mulaw')) };
}

const USAGE = `Make the sample call: two EmoDB speakers taking turns, 38 s, stereo (agent left, customer right).

  node --import tsx clients/examples/call-centre/make-sample-call.ts [--emodb DIR] [--out FILE] [--telephone]

  --emodb DIR     the EmoDB subset (default ../shared/datasets/emodb; npx aer datasets prepare emodb SRC DIR)
  --out FILE      the WAV written (default sample-call.wav)
  --telephone     as a telephone line delivers it: 8 kHz, 300-3400 Hz, G.711 mu-law
  -h, --help      this text`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = commandLine(USAGE, {
    emodb: { type: 'string', default: '../shared/datasets/emodb' },
    out: { type: 'string', default: 'sample-call.wav' },
    telephone: { type: 'boolean', default: false },
  });
  const wavDir = path.join(values.emodb!, 'wav');
  if (!fs.existsSync(wavDir)) {
    console.error(`no EmoDB clips in ${wavDir}: pass --emodb DIR, the EmoDB subset (npx aer datasets prepare emodb SRC DIR; docs/datasets.md)`);
    process.exit(2);
  }
  const call = makeSampleCall(values.emodb!);
  const audio = values.telephone ? overTelephone(call) : call;
  fs.writeFileSync(values.out!, writeWav(audio));
  const line = values.telephone ? ', through a telephone line (8 kHz, 300-3400 Hz, G.711 mu-law)' : '';
  console.log(
    `${values.out}: ${(call.channels[0].length / call.sampleRate).toFixed(1)} s, stereo (agent left, customer right)${line}, ${call.turns.length} turns`,
  );
  for (const t of call.turns)
    console.log(`  ${t.start_s.toFixed(1).padStart(5)}-${t.end_s.toFixed(1).padStart(5)} s  ${t.channel === 0 ? 'agent   ' : 'customer'}  ${t.file}`);
}
