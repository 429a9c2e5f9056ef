/**
 * The one scheduler all sessions share (docs/architecture.md, "Streaming"). Windows
 * queue per stream (a session's channel); a batch goes to the engine when
 * `maxBatch` windows wait or the oldest has waited `maxDelayMs`, taking
 * windows round-robin across streams so no session starves another. One
 * batch runs at a time: the engine already uses every core for one batch.
 *
 * Overload is explicit: a stream keeps at most `maxPerStream` windows queued
 * (older ones are shed, coalescing it to its newest), windows that waited
 * whose audio arrived more than `staleMs` ago (time spent before the queue
 * counts: a busy event loop or the VAD) are shed at batch time except each
 * stream's newest,
 * and the whole queue is bounded by `maxQueue`. Shed windows are reported to
 * their owner, who tells the client; latency stays bounded instead of growing.
 *
 * Live windows go first: a batch takes every waiting live stream's windows
 * before any of a bulk job's (a file sent to /v1/classify), which only
 * fills what is left. Results are checked (output-check.ts): a window the
 * engine answered with non-finite scores fails alone, and the observer hears
 * whether the engine is sound.
 */
import type { Engine } from '../engine/engine.ts';
import { rowProblem } from '../engine/output-check.ts';
import { AerError } from '../errors.ts';
import { WINDOW_VALUES } from '../features/recipe.ts';
import { meanOverRows } from '../features/window-input.ts';
import { OVERLOAD } from './overload.ts';

export interface SchedulerOptions {
  maxBatch: number;
  maxDelayMs: number;
  /** Windows queued per stream before the oldest are shed. */
  maxPerStream: number;
  /** Windows queued in all. */
  maxQueue: number;
  /** A window whose audio arrived longer ago than this when a batch forms is shed, unless it is its stream's newest. */
  staleMs: number;
}

export const DEFAULT_SCHEDULER_OPTIONS: SchedulerOptions = { maxBatch: 16, maxDelayMs: 20, ...OVERLOAD.scheduler };

export type WindowOutcome =
  | { kind: 'result'; probabilities: Float32Array; attention: Float32Array; queueMs: number; inferenceMs: number; batchSize: number }
  | { kind: 'shed'; reason: 'coalesced' | 'stale' | 'queue_full' }
  | { kind: 'error'; error: Error };

export interface WindowJob {
  /** The stream it belongs to: session id and channel. */
  stream: string;
  /** When the audio that completed the window arrived (the scheduler's clock); defaults to submission. */
  receivedAt?: number;
  /**
   * False for a client ahead of real time (a file sent as fast as it goes):
   * its windows are never shed; its transport pushes back on it instead.
   */
  sheddable?: boolean;
  /** A bulk job's window (a file being classified): it waits while live windows are queued. */
  bulk?: boolean;
  features: Float32Array;
  done(outcome: WindowOutcome): void;
}

/** What the scheduler reports, for metrics. */
export interface SchedulerObserver {
  batch?(size: number, inferenceMs: number): void;
  queueWait?(ms: number): void;
  shed?(count: number, reason: 'coalesced' | 'stale' | 'queue_full'): void;
  depth?(queued: number): void;
  /** A batch's results: `problem` says what was wrong when some were not probabilities. */
  outputs?(problem: string | undefined): void;
}

/** Where a session's windows go: the scheduler itself, or (in a front-end worker) a proxy to it on the main thread. */
export interface WindowSink {
  submit(job: WindowJob): void;
  /** Drops a stream's queued windows (its session closed), reporting them shed. */
  cancel(stream: string): void;
}

interface Queued {
  job: WindowJob;
  /** Submitted. */
  at: number;
  /** Its audio arrived: what staleness is measured from. */
  age: number;
}

export class Scheduler implements WindowSink {
  private readonly streams = new Map<string, Queued[]>();
  private queued = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private idle: (() => void)[] = [];
  readonly options: SchedulerOptions;

  constructor(
    private readonly engine: Pick<Engine, 'predict'>,
    options: Partial<SchedulerOptions> = {},
    private readonly observer: SchedulerObserver = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.options = { ...DEFAULT_SCHEDULER_OPTIONS, ...options };
  }

  get depth(): number {
    return this.queued;
  }

  submit(job: WindowJob): void {
    const rows = job.features.length / WINDOW_VALUES;
    if (rows !== 1 && rows !== 2) throw new Error(`a window holds one or two rows of ${WINDOW_VALUES} values, got ${job.features.length} values`);
    const queue = this.streams.get(job.stream) ?? [];
    this.streams.set(job.stream, queue);
    const now = this.now();
    queue.push({ job, at: now, age: job.receivedAt ?? now });
    this.queued++;
    if (job.sheddable !== false && queue.length > this.options.maxPerStream)
      this.shed(this.oldestSheddable(queue, queue.length - this.options.maxPerStream), 'coalesced');
    if (this.queued > this.options.maxQueue) this.shedLongest();
    this.observer.depth?.(this.queued);
    this.schedule();
  }

  /** Drops a stream's queued windows (its session closed), reporting them shed. */
  cancel(stream: string): void {
    const queue = this.streams.get(stream);
    if (!queue) return;
    this.streams.delete(stream);
    this.queued -= queue.length;
    for (const q of queue) q.job.done({ kind: 'shed', reason: 'coalesced' });
    this.observer.depth?.(this.queued);
    this.settleIdle();
  }

  /** Resolves once nothing is queued or running. */
  drain(): Promise<void> {
    if (this.queued === 0 && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private shed(items: Queued[], reason: 'coalesced' | 'stale' | 'queue_full'): void {
    if (items.length === 0) return;
    this.queued -= items.length;
    for (const q of items) q.job.done({ kind: 'shed', reason });
    this.observer.shed?.(items.length, reason);
  }

  /** Removes and returns up to `count` of the queue's oldest sheddable windows, never its newest. */
  private oldestSheddable(queue: Queued[], count: number, olderThan = -Infinity): Queued[] {
    const out: Queued[] = [];
    const now = this.now();
    for (let i = 0; i < queue.length - 1 && out.length < count; ) {
      if (queue[i].job.sheddable !== false && now - queue[i].age > olderThan) out.push(...queue.splice(i, 1));
      else i++;
    }
    return out;
  }

  /** The queue is full: the stream with most sheddable windows waiting loses its oldest. */
  private shedLongest(): void {
    let longest: Queued[] | undefined;
    const sheddable = (q: Queued[]) => q.filter((x) => x.job.sheddable !== false).length;
    for (const queue of this.streams.values()) if (!longest || sheddable(queue) > sheddable(longest)) longest = queue;
    if (longest) this.shed(this.oldestSheddable(longest, 1), 'queue_full');
  }

  private oldestWait(): number {
    let oldest = Infinity;
    for (const queue of this.streams.values()) if (queue.length > 0) oldest = Math.min(oldest, queue[0].at);
    return oldest === Infinity ? 0 : this.now() - oldest;
  }

  private schedule(): void {
    if (this.running || this.queued === 0) return;
    const wait = this.oldestWait();
    if (this.queued >= this.options.maxBatch || wait >= this.options.maxDelayMs) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.runBatch();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, this.options.maxDelayMs - wait);
    }
  }

  /** Round-robin over live streams, oldest-waiting first, then over bulk ones, up to maxBatch windows; stale windows shed first. */
  private takeBatch(): Queued[] {
    for (const queue of this.streams.values()) this.shed(this.oldestSheddable(queue, Infinity, this.options.staleMs), 'stale');
    const order = [...this.streams.entries()].filter(([, q]) => q.length > 0).sort((a, b) => a[1][0].at - b[1][0].at);
    const batch: Queued[] = [];
    const live = order.filter(([, q]) => q[0].job.bulk !== true).map(([, q]) => q);
    const bulk = order.filter(([, q]) => q[0].job.bulk === true).map(([, q]) => q);
    for (const queues of [live, bulk]) {
      while (batch.length < this.options.maxBatch && queues.some((q) => q.length > 0)) {
        for (const queue of queues) {
          if (batch.length === this.options.maxBatch) break;
          const next = queue.shift();
          if (next) batch.push(next);
        }
      }
    }
    for (const [stream, queue] of order) if (queue.length === 0) this.streams.delete(stream);
    this.queued -= batch.length;
    return batch;
  }

  private async runBatch(): Promise<void> {
    this.running = true;
    const batch = this.takeBatch();
    this.observer.depth?.(this.queued);
    if (batch.length > 0) {
      const started = this.now();
      // A window served as spans is two model rows; its answer is their mean.
      const rows = batch.map((q) => q.job.features.length / WINDOW_VALUES);
      const input = new Float32Array(rows.reduce((a, b) => a + b, 0) * WINDOW_VALUES);
      let at = 0;
      for (const q of batch) {
        input.set(q.job.features, at);
        at += q.job.features.length;
      }
      const total = input.length / WINDOW_VALUES;
      let outcomes: WindowOutcome[];
      try {
        const prediction = await this.engine.predict(input, total);
        const inferenceMs = this.now() - started;
        this.observer.batch?.(total, inferenceMs);
        const classes = prediction.probabilities.length / total;
        const steps = prediction.attention.length / total;
        const probabilities = meanOverRows(prediction.probabilities, classes, rows);
        const attention = meanOverRows(prediction.attention, steps, rows);
        let problem: string | undefined;
        let first = 0;
        outcomes = batch.map((q, i) => {
          this.observer.queueWait?.(started - q.at);
          let wrong: string | undefined;
          for (let r = first; r < first + rows[i] && !wrong; r++) wrong = rowProblem(prediction, total, r);
          first += rows[i];
          if (wrong) {
            problem = wrong;
            return { kind: 'error', error: new AerError('engine_fault', `the model's answer is not a set of probabilities (${wrong})`) };
          }
          return {
            kind: 'result',
            probabilities: probabilities.slice(i * classes, (i + 1) * classes),
            attention: attention.slice(i * steps, (i + 1) * steps),
            queueMs: started - q.at,
            inferenceMs,
            batchSize: total,
          };
        });
        this.observer.outputs?.(problem);
      } catch (error) {
        // The batch's windows fail; every other window, queued or to come, goes on.
        const failure: WindowOutcome = { kind: 'error', error: error instanceof Error ? error : new Error(String(error)) };
        outcomes = batch.map(() => failure);
      }
      batch.forEach((q, i) => q.job.done(outcomes[i]));
    }
    this.running = false;
    this.settleIdle();
    this.schedule();
  }

  private settleIdle(): void {
    if (this.queued > 0 || this.running) return;
    for (const resolve of this.idle.splice(0)) resolve();
  }
}
