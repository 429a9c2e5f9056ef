/**
 * Streaming front end: CPU time per second of audio per stream, at hop 500 ms,
 * through decode, resample and incremental Mel, for (a) PCM s16 16 kHz in
 * 20 ms messages and (b) Opus 48 kHz in 20 ms packets, each stage measured
 * alone too. Baseline in the same run: recomputing every 3 s window from
 * scratch each hop (what a front end without incremental frames does).
 * Targets on one core: (a) >= 500x real time, (b) >= 250x.
 */
import { OpusStreamDecoder } from '../../src/audio/opus-decoder.ts';
import { PcmStreamDecoder } from '../../src/audio/pcm.ts';
import { Resampler, resample } from '../../src/audio/resample.ts';
import { windowFeatures } from '../../src/features/extract.ts';
import { IncrementalMelExtractor } from '../../src/features/incremental.ts';
import { SAMPLE_RATE, WINDOW_SAMPLES } from '../../src/features/recipe.ts';
import { cpuSeconds, header, table } from '../lib/machine.ts';
import { opusPackets } from '../lib/opus-packets.ts';
import { speech } from '../lib/speech.ts';

const SECONDS = 60;
const HOP_MS = 500;
header(`Streaming front end: one stream, hop ${HOP_MS} ms, ${SECONDS} s of speech, one core`);
const { samples: speech22k, source } = speech(SECONDS);
process.stdout.write(`audio: ${source}\n\n`);

// Inputs prepared outside the timed region, as a client would send them.
const pcm16k = resample(speech22k, SAMPLE_RATE, 16000);
const pcmBytes = new Uint8Array(pcm16k.length * 2);
{
  const view = new DataView(pcmBytes.buffer);
  pcm16k.forEach((v, i) => view.setInt16(2 * i, Math.max(-32768, Math.min(32767, Math.round(v * 32767))), true));
}
const messages: Uint8Array[] = [];
for (let p = 0; p < pcmBytes.length; p += 640) messages.push(pcmBytes.subarray(p, p + 640));

const packets = opusPackets(resample(speech22k, SAMPLE_RATE, 48000));
const audioSeconds = packets.length * 0.02;

/** The front end without incremental frames: every hop, the whole window again. */
class RecomputeEachHop {
  private readonly ring = new Float32Array(WINDOW_SAMPLES);
  private filled = 0;
  private sinceHop = 0;
  private readonly hop = new IncrementalMelExtractor(HOP_MS).hop.samples;
  push(x: Float32Array): void {
    // The last 3 s, shifted once per chunk.
    this.ring.copyWithin(0, x.length);
    this.ring.set(x, WINDOW_SAMPLES - x.length);
    this.filled += x.length;
    this.sinceHop += x.length;
    if (this.filled >= WINDOW_SAMPLES && this.sinceHop >= this.hop) {
      this.sinceHop -= this.hop;
      windowFeatures(this.ring);
    }
  }
}

function runPcm(extract: { push(x: Float32Array): unknown }): void {
  const decoder = new PcmStreamDecoder('pcm_s16le', 1);
  const resampler = new Resampler(16000, SAMPLE_RATE);
  for (const m of messages) extract.push(resampler.push(decoder.decode(m)[0]));
}
function runOpus(extract: { push(x: Float32Array): unknown }, rate: 24000 | 48000 = 24000): void {
  const decoder = new OpusStreamDecoder(1, rate);
  const resampler = new Resampler(rate, SAMPLE_RATE);
  for (const p of packets) extract.push(resampler.push(decoder.decode(p).channels[0]));
}

/** Median CPU seconds of three runs after a warm-up. */
function measure(fn: () => void): number {
  fn();
  const runs = [cpuSeconds(fn), cpuSeconds(fn), cpuSeconds(fn)].sort((a, b) => a - b);
  return runs[1];
}

const stages = {
  pcmDecode: measure(() => {
    const d = new PcmStreamDecoder('pcm_s16le', 1);
    for (const m of messages) d.decode(m);
  }),
  resample16: measure(() => {
    const r = new Resampler(16000, SAMPLE_RATE);
    for (let p = 0; p < pcm16k.length; p += 320) r.push(pcm16k.subarray(p, p + 320));
  }),
  opusDecode24: measure(() => {
    const d = new OpusStreamDecoder(1, 24000);
    for (const p of packets) d.decode(p);
  }),
  opusDecode48: measure(() => {
    const d = new OpusStreamDecoder(1, 48000);
    for (const p of packets) d.decode(p);
  }),
  mel: measure(() => {
    const e = new IncrementalMelExtractor(HOP_MS);
    for (let p = 0; p < speech22k.length; p += 441) e.push(speech22k.subarray(p, p + 441));
  }),
};
const pcmTotal = measure(() => runPcm(new IncrementalMelExtractor(HOP_MS)));
const pcmNaive = measure(() => runPcm(new RecomputeEachHop()));
const opusTotal = measure(() => runOpus(new IncrementalMelExtractor(HOP_MS)));
const opus48Total = measure(() => runOpus(new IncrementalMelExtractor(HOP_MS), 48000));
const opusNaive = measure(() => runOpus(new RecomputeEachHop()));

const ms = (s: number) => ((s / audioSeconds) * 1000).toFixed(3);
const rt = (s: number) => (audioSeconds / s).toFixed(0);
table(
  [
    ['PCM s16 16 kHz: decode', ms(stages.pcmDecode), rt(stages.pcmDecode)],
    ['resample 16 kHz -> 22050 Hz', ms(stages.resample16), rt(stages.resample16)],
    ['Opus 20 ms packets: decode at 24 kHz', ms(stages.opusDecode24), rt(stages.opusDecode24)],
    ['Opus 20 ms packets: decode at 48 kHz', ms(stages.opusDecode48), rt(stages.opusDecode48)],
    ['incremental Mel, 20 ms chunks', ms(stages.mel), rt(stages.mel)],
  ],
  ['stage (alone)', 'CPU ms per audio s', 'x real time'],
);
process.stdout.write('\n');
const verdict = (s: number, target: number) => (audioSeconds / s >= target ? `meets >= ${target}x` : `MISSES ${target}x`);
table(
  [
    ['(a) PCM s16 16 kHz', ms(pcmTotal), rt(pcmTotal), rt(pcmTotal), (pcmNaive / pcmTotal).toFixed(1), verdict(pcmTotal, 500)],
    ['(b) Opus 48 kHz, decoded at 24 kHz', ms(opusTotal), rt(opusTotal), rt(opusTotal), (opusNaive / opusTotal).toFixed(1), verdict(opusTotal, 250)],
    ['(b) Opus 48 kHz, decoded at 48 kHz', ms(opus48Total), rt(opus48Total), rt(opus48Total), (opusNaive / opus48Total).toFixed(1), verdict(opus48Total, 250)],
    ['baseline: (a) recomputing each window', ms(pcmNaive), rt(pcmNaive), rt(pcmNaive), '1.0', ''],
    ['baseline: (b) recomputing each window', ms(opusNaive), rt(opusNaive), rt(opusNaive), '1.0', ''],
  ],
  ['whole front end per stream', 'CPU ms per audio s', 'x real time', 'streams per core', 'x faster than baseline', 'target'],
);
process.stdout.write('\nStreams per core counts the front end only; the model runs on top of it (bench/inference).\n');
