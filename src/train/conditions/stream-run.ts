/**
 * A call pushed through the service's own streaming code: a Session (the
 * decoder, each channel's resampler, incremental Mel windows on the hop
 * grid, Silero VAD), exactly as /v1/stream runs it. Which windows exist and
 * which are speech does not depend on the model, so the run records each
 * speech window's model input (a scheduler stand-in takes them in order)
 * and any model can then be scored on the same windows, with the service's
 * smoothing replayed on its scores.
 */
import { lastValueFrom, toArray } from 'rxjs';
import { SAMPLE_RATE } from '../../features/recipe.ts';
import type { WindowInput } from '../../features/window-input.ts';
import { sampleBytes } from '../../audio/pcm.ts';
import { resample } from '../../audio/resample.ts';
import type { EmotionMessage } from '../../protocol/wire.ts';
import type { WindowJob, WindowSink } from '../../stream/scheduler.ts';
import { Session } from '../../stream/session.ts';
import type { VadBatcher } from '../../stream/vad.ts';
import type { Call } from './call.ts';
import { telephoneBytes, TELEPHONE_RATE } from './channel-sim.ts';

export interface StreamWindow {
  channel: number;
  seq: number;
  startS: number;
  endS: number;
  speech: boolean;
  /** The model input, for speech windows. */
  features?: Float32Array;
}

/**
 * How the call reaches the service: 16 kHz float PCM from a softphone, or a
 * telephone line (8 kHz G.711 mu-law bytes, as telephony platforms send
 * them); or float PCM at the model's own rate, with no resampling anywhere
 * (bench/accuracy compares it with the 16 kHz path).
 */
export type CallPath = 'pcm16k' | 'pcm' | 'telephone';

/** The call's bytes on the wire, interleaved, and the stream's format. */
function onTheWire(call: Call, path: CallPath): { bytes: Uint8Array; encoding: 'pcm_f32le' | 'mulaw'; rate: number } {
  if (path === 'telephone') {
    const [a, b] = call.channels.map((c) => telephoneBytes(c, 'mulaw'));
    const bytes = new Uint8Array(a.length * 2);
    for (let i = 0; i < a.length; i++) {
      bytes[2 * i] = a[i];
      bytes[2 * i + 1] = b[i];
    }
    return { bytes, encoding: 'mulaw', rate: TELEPHONE_RATE };
  }
  const rate = path === 'pcm16k' ? 16000 : SAMPLE_RATE;
  const [a, b] = call.channels.map((c) => (rate === SAMPLE_RATE ? c : resample(c, SAMPLE_RATE, rate)));
  const samples = new Float32Array(a.length * 2);
  for (let i = 0; i < a.length; i++) {
    samples[2 * i] = a[i];
    samples[2 * i + 1] = b[i];
  }
  return { bytes: new Uint8Array(samples.buffer), encoding: 'pcm_f32le', rate };
}

/** Stands in for the shared scheduler: keeps each stream's windows in the order they were submitted, and answers at once. */
function recordingScheduler(labels: number, recorded: Map<string, Float32Array[]>): WindowSink {
  const probabilities = new Float32Array(labels).fill(1 / labels);
  return {
    submit(job: WindowJob) {
      recorded.set(job.stream, [...(recorded.get(job.stream) ?? []), job.features]);
      job.done({ kind: 'result', probabilities, attention: new Float32Array(0), queueMs: 0, inferenceMs: 0, batchSize: 1 });
    },
    cancel() {},
  };
}

/** `speechGate: false` sends every window to the model, as a stream opened with vad=false does; `windowInput` and `melFmin` are the model's. */
export async function streamCall(
  call: Call,
  path: CallPath,
  vad: VadBatcher,
  labels: string[],
  speechGate = true,
  windowInput: WindowInput = 'whole',
  melFmin = 0,
): Promise<StreamWindow[]> {
  const wire = onTheWire(call, path);
  const recorded = new Map<string, Float32Array[]>();
  const session = new Session(
    'condition',
    { encoding: wire.encoding, sampleRate: wire.rate, channels: 2, hopMs: 500, smoothing: 'none', vad: speechGate, attention: false, band: 'auto' },
    {
      scheduler: recordingScheduler(labels.length, recorded),
      vad,
      labels,
      attentionHopS: 0,
      windowInput,
      melFmin,
    },
  );
  const events = lastValueFrom(session.events$.pipe(toArray()));
  // A second at a time, as a client would send it.
  const second = wire.rate * 2 * sampleBytes(wire.encoding);
  for (let at = 0; at < wire.bytes.length; at += second) session.audio(wire.bytes.subarray(at, at + second));
  session.closeStream();
  const emotions = (await events).filter((m): m is EmotionMessage => m.type === 'emotion');
  return [0, 1].flatMap((channel) => {
    const mine = emotions.filter((e) => e.channel === channel).sort((a, b) => a.seq - b.seq);
    const inputs = recorded.get(`condition/${channel}`) ?? [];
    const speech = mine.filter((e) => e.speech);
    if (speech.length !== inputs.length) throw new Error(`channel ${channel}: ${speech.length} speech windows but ${inputs.length} model inputs recorded`);
    let k = 0;
    return mine.map((e) => ({ channel, seq: e.seq, startS: e.start_s, endS: e.end_s, speech: e.speech, features: e.speech ? inputs[k++] : undefined }));
  });
}
