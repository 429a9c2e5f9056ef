import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import type { Engine } from '../../src/engine/engine.ts';
import { loadEngine } from '../../src/engine/load-engine.ts';
import { AerError } from '../../src/errors.ts';
import type { StreamConfig } from '../../src/protocol/stream-config.ts';
import type { EmotionMessage, ServerMessage } from '../../src/protocol/wire.ts';
import { Scheduler } from '../../src/stream/scheduler.ts';
import { Session } from '../../src/stream/session.ts';
import type { SessionHandle } from '../../src/stream/session-handle.ts';
import { checkWorkerCount, FrontEndPool, type PoolOptions } from '../../src/stream/workers/front-end-pool.ts';
import { pieces, s16, testModelDir, voiced } from '../helpers/service.ts';

const config: StreamConfig = { encoding: 'pcm_s16le', sampleRate: 16000, channels: 2, hopMs: 500, smoothing: 'ema', vad: false, attention: true, band: 'auto' };
const audio = pieces(s16([voiced(6), voiced(6).map((v) => -0.5 * v)]), 1280);

let engine: Engine;
let scheduler: Scheduler;
const logs: string[] = [];
const options: PoolOptions = { vad: false, saturated: () => false, observe: () => {}, log: (line) => logs.push(line) };

before(async () => {
  engine = await loadEngine('onnx', await testModelDir());
  scheduler = new Scheduler(engine, { maxBatch: 8, maxDelayMs: 5 });
});
after(() => engine.dispose());

const spec = (id: string, c: StreamConfig = config) => ({
  id,
  config: c,
  labels: engine.labels,
  attentionHopS: engine.metadata.attention_hop_s,
  windowInput: 'whole' as const,
  melFmin: 0,
  bulk: false,
});

/** Streams the test audio and closes: every event, and the error the session ended with, if any. */
async function run(session: SessionHandle, bytes: Uint8Array[] = audio): Promise<{ events: ServerMessage[]; error?: Error }> {
  const events: ServerMessage[] = [];
  const ended = new Promise<Error | undefined>((resolve) =>
    session.events$.subscribe({ next: (m) => events.push(m), error: (e: Error) => resolve(e), complete: () => resolve(undefined) }),
  );
  for (const m of bytes) session.audio(m);
  session.closeStream();
  const error = await ended;
  return { events, error };
}

const workersOf = (pool: FrontEndPool) => (pool as unknown as { workers: { worker: Worker; alive: boolean }[] }).workers;

describe('front ends on worker threads', () => {
  test('a session on a worker gives exactly the events it gives on the main thread, in order, with its stats', async () => {
    const pool = await FrontEndPool.start(1, options);
    try {
      const remote = await run(pool.open(spec('remote'), scheduler));
      const local = await run(
        new Session('local', config, {
          scheduler,
          vad: undefined,
          labels: engine.labels,
          attentionHopS: engine.metadata.attention_hop_s,
          windowInput: 'whole',
        }),
      );
      assert.equal(remote.error, undefined);
      const emotions = (r: { events: ServerMessage[] }) =>
        r.events.filter((m): m is EmotionMessage => m.type === 'emotion').map(({ latency_ms: _, ...rest }) => rest);
      assert.ok(emotions(local).length >= 12);
      assert.deepEqual(emotions(remote), emotions(local));
      assert.deepEqual(remote.events.at(-1), local.events.at(-1));
    } finally {
      await pool.close();
    }
  });

  test('sessions go to the worker with fewest, and each ends on its own', async () => {
    const pool = await FrontEndPool.start(2, options);
    try {
      const sessions = ['a', 'b', 'c'].map((id) => pool.open(spec(id), scheduler));
      assert.deepEqual(pool.load, [2, 1]);
      const results = await Promise.all(sessions.map((s) => run(s)));
      for (const r of results) assert.equal(r.events.at(-1)?.type, 'closed');
      assert.deepEqual(pool.load, [0, 0]);
    } finally {
      await pool.close();
    }
  });

  test('a session whose audio cannot be read ends with its own error, typed as thrown; the next session on that worker is served', async () => {
    const pool = await FrontEndPool.start(1, options);
    try {
      // A whole WAV file sent as raw PCM: the session refuses it.
      const wav = new Uint8Array(4096);
      wav.set(new TextEncoder().encode('RIFF\0\0\0\0WAVEfmt '));
      const broken = await run(pool.open(spec('wav'), scheduler), [wav]);
      assert.ok(broken.error instanceof AerError, String(broken.error));
      assert.equal(broken.error.code, 'unsupported_format');
      assert.match(broken.error.hint ?? '', /samples that follow the header/);
      const next = await run(pool.open(spec('next'), scheduler));
      assert.equal(next.events.at(-1)?.type, 'closed');
    } finally {
      await pool.close();
    }
  });

  test('a worker that dies takes only its own sessions, which fail saying so; the other worker loses nothing; a new worker takes its place', async () => {
    let failures = 0;
    const running: number[] = [];
    const watched = await FrontEndPool.start(2, { ...options, failed: () => failures++, running: (n) => running.push(n) });
    try {
      const doomed = watched.open(spec('doomed'), scheduler);
      const survivor = watched.open(spec('survivor'), scheduler);
      const survived = run(survivor);
      const events: ServerMessage[] = [];
      const ended = new Promise<Error | undefined>((resolve) =>
        doomed.events$.subscribe({ next: (m) => events.push(m), error: resolve, complete: () => resolve(undefined) }),
      );
      for (const m of audio.slice(0, 20)) doomed.audio(m);
      // An exception outside any session: a batch the worker cannot read.
      workersOf(watched)[0].worker.postMessage({ type: 'batch', items: null });
      const error = await ended;
      assert.ok(error instanceof AerError && error.code === 'worker_failed' && /worker analysing this stream failed/.test(error.message), String(error));
      const whole = await survived;
      assert.equal(whole.error, undefined);
      const closed = whole.events.at(-1);
      assert.ok(closed?.type === 'closed' && closed.stats.windows === whole.events.filter((m) => m.type === 'emotion').length);
      assert.equal(closed.stats.shed_windows, 0);
      assert.equal(failures, 1);
      assert.match(logs.join('\n'), /front-end worker \d+ stopped \(TypeError[\s\S]*; 1 session\(s\) and 0 file\(s\) on it were ended/);
      // The replacement starts in the background; then the pool has two again and serves.
      for (let i = 0; i < 200 && workersOf(watched).filter((w) => w.alive).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(running, [2, 1, 2]);
      assert.equal(watched.restarts, 1);
      const fresh = await run(watched.open(spec('fresh'), scheduler));
      assert.equal(fresh.events.at(-1)?.type, 'closed');
      // Nothing of the dead worker's session is left in the scheduler.
      assert.equal(scheduler.depth, 0);
    } finally {
      await watched.close();
    }
  });

  test('a worker whose VAD model cannot load: the pool does not start, and says why', async () => {
    await assert.rejects(
      FrontEndPool.start(1, { ...options, vad: true, vadModel: '/nonexistent/silero.onnx' }),
      (e: unknown) => e instanceof AerError && e.code === 'unavailable' && /voice activity model could not be loaded/.test(e.message),
    );
  });

  test('--workers: 0 (the main thread) up to four per core; anything else is refused with the default named', () => {
    checkWorkerCount(0);
    checkWorkerCount(1);
    for (const bad of [-1, 1.5, Number.NaN, 100_000])
      assert.throws(
        () => checkWorkerCount(bad),
        (e: unknown) => e instanceof AerError && e.code === 'invalid_argument' && /--workers must be/.test(e.message) && /one per core;/.test(e.hint ?? ''),
      );
  });
});
