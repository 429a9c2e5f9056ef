/**
 * Which Opus decoder: x real time on one core for 20 ms speech packets
 * (24 kbit/s), decoding at 48 and 24 kHz, for opusscript, opus-decoder
 * (wasm-audio-decoders) and this project's binding of @evan/opus's libopus
 * wasm; and how long each conceals one lost 20 ms packet.
 */
import { createRequire } from 'node:module';
import { OpusDecoder } from 'opus-decoder';
import { OpusStreamDecoder } from '../../src/audio/opus-decoder.ts';
import { resample } from '../../src/audio/resample.ts';
import { SAMPLE_RATE } from '../../src/features/recipe.ts';
import { cpuSeconds, header, table } from '../lib/machine.ts';
import { opusPackets } from '../lib/opus-packets.ts';
import { speech } from '../lib/speech.ts';

const OpusScript = createRequire(import.meta.url)('opusscript') as new (rate: number, channels: number) => { decode(b: Uint8Array): Buffer };

header('Opus decoders: 20 ms speech packets at 24 kbit/s, one core');
const packets = opusPackets(resample(speech(60).samples, SAMPLE_RATE, 48000));
const seconds = packets.length * 0.02;

type Decode = (packet: Uint8Array) => number;
const decoders: [string, (rate: 24000 | 48000) => Promise<Decode>][] = [
  [
    'opusscript 0.1 (wasm)',
    async (rate) => {
      const d = new OpusScript(rate, 1);
      return (p) => d.decode(p).length / 2;
    },
  ],
  [
    'opus-decoder 0.7 (wasm)',
    async (rate) => {
      const d = new OpusDecoder({ sampleRate: rate, channels: 1 });
      await d.ready;
      return (p) => d.decodeFrame(p).samplesDecoded;
    },
  ],
  [
    '@evan/opus libopus wasm, own binding - used',
    async (rate) => {
      const d = new OpusStreamDecoder(1, rate);
      return (p) => d.decode(p).channels[0].length;
    },
  ],
];

// Round-robin repetitions and medians: all three are libopus in wasm, so machine noise would otherwise decide.
const runs = new Map<string, number[]>();
for (let round = 0; round < 5; round++) {
  for (const [name, make] of decoders) {
    for (const rate of [48000, 24000] as const) {
      const decode = await make(rate);
      if (round === 0) for (const p of packets.slice(0, 500)) decode(p);
      const key = `${name}@${rate}`;
      runs.set(key, [...(runs.get(key) ?? []), seconds / cpuSeconds(() => packets.forEach((p) => decode(p)))]);
    }
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const rows: string[][] = [];
for (const [name, make] of decoders) {
  const plc = await make(24000);
  plc(packets[0]);
  const originalError = console.error;
  console.error = () => undefined; // opus-decoder logs the empty packet it cannot conceal
  const concealed = plc(new Uint8Array(0));
  console.error = originalError;
  rows.push([name, median(runs.get(`${name}@48000`)!).toFixed(0), median(runs.get(`${name}@24000`)!).toFixed(0), `${(concealed / 24).toFixed(1)} ms`]);
}
table(rows, ['decoder', 'x RT at 48 kHz (median of 5)', 'x RT at 24 kHz (median of 5)', 'a lost 20 ms packet is concealed as']);
