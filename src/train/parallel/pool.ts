/**
 * Data-parallel training over worker threads. Each step the coordinator
 * splits the batch into one shard per replica; the replicas return their
 * shards' gradients, which add up to the batch's, and their batch-norm
 * statistics, which are averaged (weighted by shard size). TF.js's wasm
 * backend runs one thread, so this is how training uses every core.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { AerError } from '../../errors.ts';
import type { AerNetOptions } from '../../model/aernet-options.ts';
import type { BackendChoice } from '../../model/backend.ts';
import { WINDOW_VALUES } from '../../features/recipe.ts';
import type { FromReplica, PredictResult, ReplicaData, Shard, StepResult, ToReplica } from './protocol.ts';

export interface CombinedStep {
  gradients: Float32Array;
  frozen: Float32Array;
  loss: number;
  correct: number;
}

/** Omit distributed over a union, so each message type keeps its own fields. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

interface Pending {
  resolve: (value: FromReplica) => void;
  reject: (error: Error) => void;
}

class Replica {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;

  constructor(private readonly worker: Worker) {
    worker.on('message', (message: FromReplica) => {
      if (message.type === 'ready') return;
      const id = 'id' in message ? message.id : undefined;
      const waiter = id === undefined ? undefined : this.pending.get(id);
      if (message.type === 'error') {
        const error = new Error(`training thread failed: ${message.message}`);
        if (waiter) {
          this.pending.delete(id!);
          waiter.reject(error);
        } else this.fail(error);
        return;
      }
      if (waiter) {
        this.pending.delete(id!);
        waiter.resolve(message);
      }
    });
    worker.on('error', (error) => this.fail(new Error(`training thread crashed: ${error.message}`)));
    worker.on('exit', (code) => this.fail(new Error(`training thread exited (code ${code})`)));
  }

  request<T extends FromReplica>(message: WithoutId<ToReplica>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: FromReplica) => void, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  terminate(): Promise<number> {
    this.failure ??= new Error('the training threads were stopped');
    return this.worker.terminate();
  }
}

/** Threads to use by default: one per core, as each runs the single-threaded wasm backend. */
export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(8, os.availableParallelism()));
}

export class ReplicaPool {
  readonly backend: string;
  readonly detail: string;

  private constructor(
    private readonly replicas: Replica[],
    ready: { backend: string; detail: string },
  ) {
    this.backend = ready.backend;
    this.detail = ready.detail;
  }

  get size(): number {
    return this.replicas.length;
  }

  /** `members` above 1: replicas of an ensemble graph of that many networks (model/ensemble.ts), for prediction. */
  static async start(count: number, modelOptions: AerNetOptions, backend: BackendChoice, members = 1): Promise<ReplicaPool> {
    if (!Number.isInteger(count) || count < 1) throw new AerError('invalid_argument', `--workers must be a whole number from 1, got ${count}`);
    const data: ReplicaData & { entry: string } = { modelOptions, backend, members, entry: new URL('./replica.ts', import.meta.url).href };
    // ts-thread.mjs registers the TypeScript loader in each thread, then runs replica.ts.
    const workers = Array.from({ length: count }, () => new Worker(new URL('../../ts-thread.mjs', import.meta.url), { workerData: data, execArgv: [] }));
    const readies = await Promise.all(
      workers.map(
        (w) =>
          new Promise<{ backend: string; detail: string }>((resolve, reject) => {
            const onMessage = (m: FromReplica) => {
              if (m.type === 'ready') resolve(m);
              else if (m.type === 'error') reject(new Error(`a training thread could not start: ${m.message}`));
            };
            w.once('message', onMessage);
            w.once('error', reject);
          }),
      ),
    ).catch(async (error) => {
      await Promise.all(workers.map((w) => w.terminate()));
      throw error;
    });
    return new ReplicaPool(
      workers.map((w) => new Replica(w)),
      readies[0],
    );
  }

  /** Split n items into at most one contiguous shard per replica, as even as possible. */
  shardSizes(n: number): number[] {
    const k = Math.min(this.replicas.length, n);
    return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
  }

  /** One training step: the replicas compute their shards; gradients add up, batch-norm statistics average. */
  async step(weights: Float32Array, shards: Shard[], batchSize: number): Promise<CombinedStep> {
    const results = await Promise.all(
      shards.map((shard, i) => this.replicas[i].request<StepResult>({ type: 'step', weights, ...shard, batchSize }, [shard.features.buffer as ArrayBuffer])),
    );
    const gradients = results[0].gradients;
    const frozen = new Float32Array(results[0].frozen.length);
    let loss = 0;
    let correct = 0;
    results.forEach((r, i) => {
      if (i > 0) for (let j = 0; j < gradients.length; j++) gradients[j] += r.gradients[j];
      const share = shards[i].labels.length / batchSize;
      for (let j = 0; j < frozen.length; j++) frozen[j] += share * r.frozen[j];
      loss += r.loss;
      correct += r.correct;
    });
    return { gradients, frozen, loss, correct };
  }

  /** Probabilities and attention for n model inputs, split over the replicas; `weights` become theirs. */
  async predict(weights: Float32Array, features: Float32Array): Promise<{ probabilities: Float32Array; attention: Float32Array }> {
    const n = features.length / WINDOW_VALUES;
    const sizes = this.shardSizes(Math.max(n, 1));
    let start = 0;
    const results = await Promise.all(
      sizes.map((size, i) => {
        const part = features.slice(start * WINDOW_VALUES, (start + size) * WINDOW_VALUES);
        start += size;
        return this.replicas[i].request<PredictResult>({ type: 'predict', weights, features: part }, [part.buffer as ArrayBuffer]);
      }),
    );
    const join = (key: 'probabilities' | 'attention') => {
      const out = new Float32Array(results.reduce((s, r) => s + r[key].length, 0));
      results.reduce((o, r) => (out.set(r[key], o), o + r[key].length), 0);
      return out;
    };
    return { probabilities: join('probabilities'), attention: join('attention') };
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.terminate()));
  }
}
