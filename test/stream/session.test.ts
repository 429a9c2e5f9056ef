import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { lastValueFrom, toArray } from 'rxjs';
import { readAudioFile } from '../../src/audio/load.ts';
import { resample } from '../../src/audio/resample.ts';
import type { Engine } from '../../src/engine/engine.ts';
import { loadEngine } from '../../src/engine/load-engine.ts';
import { DEFAULT_OPTIONS } from '../../src/model/aernet-options.ts';
import type { WindowInput } from '../../src/features/window-input.ts';
import type { ClosedMessage, EmotionMessage, ServerMessage } from '../../src/protocol/wire.ts';
import type { StreamConfig } from '../../src/protocol/stream-config.ts';
import { Scheduler } from '../../src/stream/scheduler.ts';
import { Session } from '../../src/stream/session.ts';
import { VadBatcher } from '../../src/stream/vad.ts';
import { seededModel, writeModelDir } from '../helpers/models.ts';
import { EMODB_DIR, emodbFiles, needsEmodb } from '../helpers/shared.ts';
import { noise, tone } from '../helpers/signals.ts';
import { tempDir } from '../helpers/tools.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

let engine: Engine;
let scheduler: Scheduler;
let vad: VadBatcher;
/** Windows the model has been asked to score. */
let scored = 0;
before(async () => {
  const dir = tempDir();
  const options = { ...DEFAULT_OPTIONS, filters: [4, 8, 8] as [number, number, number], lstmUnits: 8, attentionUnits: 8 };
  await writeModelDir(dir, await seededModel(options), options);
  engine = await loadEngine('onnx', dir);
  const counting = Object.assign(Object.create(engine) as Engine, { predict: (w: Float32Array, n: number) => ((scored += n), engine.predict(w, n)) });
  scheduler = new Scheduler(counting, { maxBatch: 8, maxDelayMs: 5 });
  vad = await VadBatcher.load();
});
after(async () => {
  await engine.dispose();
  await vad.dispose();
});

const config = (c: Partial<StreamConfig>): StreamConfig => ({
  encoding: 'pcm_s16le',
  sampleRate: 16000,
  channels: 1,
  hopMs: 500,
  smoothing: 'ema',
  vad: true,
  attention: true,
  band: 'auto',
  ...c,
});
const session = (c: Partial<StreamConfig>, windowInput: WindowInput = 'whole') =>
  new Session(`s${Math.random()}`, config(c), { scheduler, vad, labels: engine.labels, attentionHopS: 0.1875, windowInput });

/** Interleaved s16 PCM of the channels, in 20 ms messages. */
function pcmMessages(channels: Float32Array[], rate: number): Uint8Array[] {
  const frames = channels[0].length;
  const bytes = new Uint8Array(frames * channels.length * 2);
  const view = new DataView(bytes.buffer);
  for (let f = 0; f < frames; f++)
    channels.forEach((c, k) => view.setInt16((f * channels.length + k) * 2, Math.max(-32768, Math.min(32767, Math.round(c[f] * 32767))), true));
  const step = Math.round(rate * 0.02) * channels.length * 2;
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += step) out.push(bytes.subarray(i, i + step));
  return out;
}

async function stream(s: Session, messages: Uint8Array[], between?: (i: number) => void): Promise<ServerMessage[]> {
  const all = lastValueFrom(s.events$.pipe(toArray()));
  messages.forEach((m, i) => {
    s.audio(m);
    between?.(i);
  });
  s.closeStream();
  return all;
}

const voiced = (seconds: number, rate = 16000) => {
  const t = tone(180, rate, seconds * rate, 0.3);
  const n = noise(seconds * rate, 0.02, 4);
  return t.map((v, i) => v + n[i]);
};

describe('session pipeline', () => {
  test('windows every hop, in order, each with scores, smoothed scores and attention; closed with stats', async () => {
    const before = scored;
    const events = await stream(session({ vad: false }), pcmMessages([voiced(5)], 16000));
    const emotions = events.filter((e): e is EmotionMessage => e.type === 'emotion');
    assert.equal(scored - before, emotions.length, 'each window scored once');
    // 5 s at a 510.8 ms hop: full windows at 0, 0.51, ... 1.53 s, then the end of stream adds the zero-padded rest.
    assert.deepEqual(
      emotions.map((e) => e.seq),
      emotions.map((_, i) => i),
    );
    assert.ok(emotions.length >= 4);
    for (const e of emotions) {
      assert.equal(e.speech, true);
      assert.ok(Math.abs(Object.values(e.scores!).reduce((a, b) => a + b, 0) - 1) < 1e-3);
      assert.equal(e.attention!.length, 16);
      assert.ok(e.end_s - e.start_s <= 3 + 1e-6);
    }
    assert.ok(Math.abs(emotions[1].start_s - 0.5108) < 1e-3);
    assert.equal(events.filter((e) => e.type === 'change')[0]?.type, 'change');
    const closed = events.at(-1) as ClosedMessage;
    assert.equal(closed.type, 'closed');
    assert.equal(closed.stats.windows, emotions.length);
    assert.ok(Math.abs(closed.stats.audio_s - 5) < 0.01);
  });

  test("a model that takes windows as spans is asked two rows a window (one for a last window of 2 s or less); events are as a whole window's", async () => {
    const before = scored;
    const events = await stream(session({ vad: false }, 'spans'), pcmMessages([voiced(5)], 16000));
    const emotions = events.filter((e): e is EmotionMessage => e.type === 'emotion');
    assert.ok(emotions.length >= 4);
    // The last window holds 5 - 4 x 0.5108 = 2.96 s: two rows as well.
    assert.equal(scored - before, 2 * emotions.length);
    for (const e of emotions) {
      assert.ok(Math.abs(Object.values(e.scores!).reduce((a, b) => a + b, 0) - 1) < 1e-3);
      assert.ok(Math.abs(e.attention!.reduce((a, b) => a + b, 0) - 1) < 1e-3);
    }
    const short = scored;
    const one = (await stream(session({ vad: false }, 'spans'), pcmMessages([voiced(1.5)], 16000))).filter((e) => e.type === 'emotion');
    assert.equal(one.length, 1);
    assert.equal(scored - short, 1);
  });

  test('silence and noise are reported as speech: false and never reach the model', async () => {
    const before = scored;
    const events = await stream(session({}), pcmMessages([noise(4 * 16000, 0.2, 9)], 16000));
    const emotions = events.filter((e): e is EmotionMessage => e.type === 'emotion');
    assert.ok(emotions.length >= 3);
    assert.ok(emotions.every((e) => e.speech === false && e.scores === null));
    assert.equal((events.at(-1) as ClosedMessage).stats.speech_windows, 0);
    assert.equal(scored, before, 'no window went to the model');
  });

  test('two channels are analysed separately: EmoDB speech on one, silence on the other', { skip: needsEmodb }, async () => {
    const files = emodbFiles().slice(0, 2);
    const speech = (await Promise.all(files.map((f) => readAudioFile(path.join(EMODB_DIR, f))))).map((a) => resample(a.channels[0], a.sampleRate, 16000));
    const right = new Float32Array(speech[0].length + speech[1].length);
    right.set(speech[0]);
    right.set(speech[1], speech[0].length);
    const events = await stream(session({ channels: 2 }), pcmMessages([new Float32Array(right.length), right], 16000));
    const byChannel = (c: number) => events.filter((e): e is EmotionMessage => e.type === 'emotion' && e.channel === c);
    assert.ok(byChannel(0).every((e) => !e.speech));
    assert.ok(byChannel(1).some((e) => e.speech && e.label !== null));
  });

  test('flush emits the buffered audio as a zero-padded window at once', async () => {
    const s = session({ vad: false });
    const events: ServerMessage[] = [];
    let delivered: () => void = () => {};
    const first = new Promise<void>((resolve) => (delivered = resolve));
    s.events$.subscribe((e) => {
      events.push(e);
      if (e.type === 'emotion') delivered();
    });
    for (const m of pcmMessages([voiced(1)], 16000)) s.audio(m);
    assert.equal(events.length, 0, 'a second of audio is less than a window: nothing before the flush');
    s.flush();
    await first;
    await scheduler.drain();
    const emotions = events.filter((e): e is EmotionMessage => e.type === 'emotion');
    assert.equal(emotions.length, 1);
    assert.ok(Math.abs(emotions[0].end_s - 1) < 0.01);
    s.closeStream();
  });

  /** Streams 20 ms messages on a fake clock, each analysed before the next arrives; `at(i)` sets the clock and saturation for message i. */
  async function onClock(
    seconds: number,
    at: (i: number, audioMs: number) => { now: number; saturated: boolean; analyse?: boolean },
  ): Promise<ServerMessage[]> {
    const clock = { now: performance.now(), saturated: false };
    const own = new Scheduler(engine, { maxBatch: 8, maxDelayMs: 0 }, {}, () => clock.now);
    const s = new Session('clocked', config({ vad: false }), {
      scheduler: own,
      vad,
      labels: engine.labels,
      attentionHopS: 0.1875,
      windowInput: 'whole',
      now: () => clock.now,
      saturated: () => clock.saturated,
    });
    const base = clock.now;
    const all = lastValueFrom(s.events$.pipe(toArray()));
    const messages = pcmMessages([voiced(seconds)], 16000);
    for (let i = 0; i < messages.length; i++) {
      const t = at(i, (i + 1) * 20);
      clock.now = base + t.now;
      clock.saturated = t.saturated;
      s.audio(messages[i]);
      if (t.analyse !== false) await own.drain();
    }
    s.closeStream();
    return all;
  }

  test('a live stream that falls behind while the server is saturated skips audio, reports the windows as shed, and resumes on the window grid', async () => {
    // Between 4 s and 6 s of audio the server is saturated and 3 s behind.
    const events = await onClock(10, (_, ms) => (ms >= 4000 && ms < 6000 ? { now: ms + 3000, saturated: true } : { now: ms, saturated: false }));
    const emotions = events.filter((e): e is EmotionMessage => e.type === 'emotion');
    const seqs = emotions.map((e) => e.seq);
    const gap = seqs.findIndex((q, i) => i > 0 && q !== seqs[i - 1] + 1);
    assert.ok(gap > 0, `no gap in ${seqs}`);
    const skipped = seqs[gap] - seqs[gap - 1] - 1;
    assert.ok(skipped >= 3, `skipped ${skipped}`);
    const hopS = emotions[1].start_s - emotions[0].start_s;
    // The first window after the gap starts on the grid, after the skipped audio, and is whole.
    assert.ok(Math.abs(emotions[gap].start_s - seqs[gap] * hopS) < 1e-3);
    assert.ok(emotions[gap].start_s >= 4 && Math.abs(emotions[gap].end_s - emotions[gap].start_s - 3) < 1e-3);
    const warning = events.find((e) => e.type === 'warning' && e.code === 'overloaded');
    assert.ok(warning && warning.type === 'warning' && warning.windows === skipped, JSON.stringify(warning));
    const closed = events.at(-1) as ClosedMessage;
    assert.equal(closed.stats.shed_windows, skipped);
    assert.equal(closed.stats.audio_s, 10);
  });

  test('a live stream whose windows wait in analysis for over a second skips audio until they are out', { timeout: 60_000 }, async () => {
    // Between 4 s and 6 s of audio nothing is analysed (the engine is stuck) while audio keeps arriving at real-time pace.
    const events = await onClock(10, (_, ms) => ({ now: ms, saturated: false, analyse: ms < 4000 || ms >= 6000 }));
    const emotions = events.filter((e): e is EmotionMessage => e.type === 'emotion');
    const seqs = emotions.map((e) => e.seq);
    const gap = seqs.findIndex((q, i) => i > 0 && q !== seqs[i - 1] + 1);
    assert.ok(gap > 0, `no gap in ${seqs}`);
    const warning = events.find((e) => e.type === 'warning' && e.code === 'overloaded');
    assert.ok(warning && warning.type === 'warning' && warning.windows! >= seqs[gap] - seqs[gap - 1] - 1);
    assert.ok(Math.max(...emotions.map((e) => e.latency_ms)) < 2500, `latencies ${emotions.map((e) => e.latency_ms)}`);
  });

  test('a stream that paused is not behind: without saturation nothing is skipped', async () => {
    const events = await onClock(6, (i, ms) => ({ now: ms + (i > 100 ? 5000 : 0), saturated: false }));
    const emotions = events.filter((e): e is EmotionMessage => e.type === 'emotion');
    assert.deepEqual(
      emotions.map((e) => e.seq),
      emotions.map((_, i) => i),
    );
    assert.equal((events.at(-1) as ClosedMessage).stats.shed_windows, 0);
  });

  test('NaN in float PCM drops that message with an error; the stream goes on', async () => {
    const good = new Uint8Array(new Float32Array(voiced(4)).buffer);
    const bad = new Uint8Array(new Float32Array([0.1, Number.NaN, 0.2]).buffer);
    const messages = [good.subarray(0, 64000), bad, good.subarray(64000)];
    const events = await stream(session({ encoding: 'pcm_f32le', vad: false }), messages);
    const error = events.find((e) => e.type === 'error');
    assert.ok(error && error.type === 'error' && error.fatal === false && /NaN/.test(error.message));
    assert.ok(events.filter((e) => e.type === 'emotion').length >= 3);
    assert.equal(events.at(-1)?.type, 'closed');
  });

  test('unsubscribing mid-stream drops its queued windows; thousands of sessions leave nothing behind', async () => {
    const messages = pcmMessages([voiced(3.2)], 16000);
    // A scheduler of its own, so windows of other tests' streams cannot be counted here.
    let ownScored = 0;
    const own = new Scheduler(
      Object.assign(Object.create(engine) as Engine, { predict: (w: Float32Array, n: number) => ((ownScored += n), engine.predict(w, n)) }),
      { maxBatch: 8, maxDelayMs: 5 },
    );
    const run = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const s = new Session(`gone${i}`, config({ vad: i % 2 === 0 }), {
          scheduler: own,
          vad,
          labels: engine.labels,
          attentionHopS: 0.1875,
          windowInput: 'whole',
        });
        const sub = s.events$.subscribe();
        for (const m of messages) s.audio(m);
        sub.unsubscribe();
      }
      await own.drain();
      await new Promise((r) => setTimeout(r, 50));
      gc();
      return process.memoryUsage().heapUsed;
    };
    const warm = await run(200);
    const after = await run(2000);
    // A thousand of these sessions had a window queued; only one already handed to the engine (a batch, at most 8) can be scored.
    assert.ok(ownScored <= 8, `${ownScored} windows of gone sessions were scored`);
    assert.equal(own.depth, 0);
    // A leaked session holds at least its extractor's ring (~100 KB): 2000 of them would be 200 MB.
    assert.ok(after - warm < 20 * 2 ** 20, `heap grew by ${((after - warm) / 2 ** 20).toFixed(1)} MiB over 2000 sessions`);
  });
});
