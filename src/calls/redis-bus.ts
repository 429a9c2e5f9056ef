/**
 * The bus across replicas, on Redis (ioredis): each call's events are a
 * Redis stream (`aer:call:{id}:events`, entry ids `0-{seq}` so the stream
 * is numbered as the call is, capped at maxEventsPerCall), its snapshot a
 * key (`aer:call:{id}`), and `aer:calls` indexes them by start. Every
 * replica reads any call.
 *
 * - Writing never blocks the audio path: events and snapshots join one
 *   queue that a single writer sends in order, in pipelines. While Redis
 *   is away the queue waits (bounded: past maxQueued the oldest are
 *   dropped and counted) and is sent when it is back.
 * - Readers pull with XRANGE from their own cursor. A publication wakes
 *   them through one pub/sub channel per replica (`aer:calls:published`);
 *   a reader also looks every few seconds, so a lost wake-up costs
 *   seconds, never events.
 * - A live call's snapshot lives `liveTtlMs` and its owner refreshes it:
 *   the calls of a replica that died drop out of the listing within that
 *   time, and their subscribers end. Ended calls (snapshot and events)
 *   expire after endedRetentionMs.
 */
import { Redis } from 'ioredis';
import { AerError } from '../errors.ts';
import type { CallEventType, CallInfo, CallSummary } from '../protocol/calls.ts';
import { type BusHealth, type CallBus, DEFAULT_RETENTION, infoOf, type RetentionOptions, type StoredEvent } from './bus.ts';

export interface RedisBusOptions extends RetentionOptions {
  /** How long a live call's snapshot stays without its owner refreshing it. */
  liveTtlMs: number;
  /** Events and snapshots waiting for Redis at most; the oldest go past this. */
  maxQueued: number;
  /** How often a waiting reader looks at its call without a wake-up. */
  pollMs: number;
  /** Reports: a bus operation failed (by operation), and whether Redis is reachable. */
  onError(operation: string, error: unknown): void;
  onUp(up: boolean): void;
}

export const DEFAULT_REDIS_OPTIONS: Omit<RedisBusOptions, 'onError' | 'onUp'> = {
  ...DEFAULT_RETENTION,
  liveTtlMs: 60_000,
  maxQueued: 50_000,
  pollMs: 5_000,
};

const CHANNEL = 'aer:calls:published';
const INDEX = 'aer:calls';
const snapshotKey = (id: string) => `aer:call:${id}`;
const eventsKey = (id: string) => `aer:call:${id}:events`;
/** Calls listed at most. */
const MAX_LISTED = 1000;
/** Events read per XRANGE. */
const READ_BATCH = 256;
/** Writes sent per pipeline. */
const WRITE_BATCH = 512;

type Queued = { kind: 'event'; callId: string; event: StoredEvent } | { kind: 'snapshot'; summary: CallSummary };

/** `redis://host:port[/db]` (or rediss://), checked before anything connects. */
export function parseBusUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AerError('invalid_argument', `--bus must be a URL such as redis://127.0.0.1:6379, got ${url}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new AerError('invalid_argument', `--bus takes redis:// or rediss:// URLs, got ${parsed.protocol}`, { hint: 'e.g. --bus redis://127.0.0.1:6379' });
  return parsed;
}

export class RedisBus implements CallBus {
  readonly name = 'redis';
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly queue: Queued[] = [];
  private writing = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout;
  /** Live calls this replica owns, by id: their latest snapshot, refreshed before it expires. */
  private readonly owned = new Map<string, CallSummary>();
  /** Per call, the subscribers reading it on this replica. */
  private readonly waiting = new Map<string, Set<Reader>>();
  private up = false;
  /** The last write failed (Redis connected but not answering): cleared by the next that succeeds. */
  private failing = false;
  private lastError: string | undefined;
  private dropped = 0;
  private closed = false;

  constructor(
    url: string,
    private readonly options: RedisBusOptions,
  ) {
    parseBusUrl(url);
    // Commands fail at once while disconnected (no unbounded offline queue): this module keeps its own bounded one.
    const settings = { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000, retryStrategy: (n: number) => Math.min(n * 200, 2000) };
    this.commands = new Redis(url, settings);
    this.subscriber = new Redis(url, { ...settings, enableOfflineQueue: true, commandTimeout: undefined });
    this.commands.on('ready', () => this.setUp(true));
    this.commands.on('error', (error: Error) => this.failed('connection', error));
    this.commands.on('end', () => this.setUp(false));
    this.commands.on('close', () => this.setUp(false));
    this.subscriber.on('error', () => {});
    this.subscriber.on('message', (_channel: string, callId: string) => this.wake(callId));
    // Subscribed again on every reconnection (ioredis re-sends subscriptions).
    void this.subscriber.subscribe(CHANNEL).catch((error: unknown) => this.failed('subscribe', error));
    this.heartbeat = setInterval(() => this.refreshOwned(), Math.max(1000, options.liveTtlMs / 4));
  }

  /** Resolves once Redis answers, or rejects after `timeoutMs` (the server starts anyway, degraded). */
  async connected(timeoutMs: number): Promise<void> {
    if (this.up) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new AerError('unavailable', `Redis did not answer within ${timeoutMs} ms: ${this.lastError ?? 'no answer'}`)),
        timeoutMs,
      );
      this.commands.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  publish(callId: string, event: StoredEvent): void {
    this.enqueue({ kind: 'event', callId, event });
  }

  putCall(summary: CallSummary): void {
    if (summary.status === 'live') this.owned.set(summary.id, summary);
    else this.owned.delete(summary.id);
    this.enqueue({ kind: 'snapshot', summary });
  }

  async calls(): Promise<CallInfo[]> {
    const ids = await this.read('list', () => this.commands.zrevrange(INDEX, 0, MAX_LISTED - 1));
    if (ids.length === 0) return [];
    const snapshots = await this.read('list', () => this.commands.mget(...ids.map(snapshotKey)));
    const gone = ids.filter((_, i) => snapshots[i] === null);
    if (gone.length > 0) void this.commands.zrem(INDEX, ...gone).catch(() => {});
    return snapshots.flatMap((s) => (s === null ? [] : [infoOf(JSON.parse(s) as CallSummary)]));
  }

  async call(id: string): Promise<CallSummary | undefined> {
    const snapshot = await this.read('get', () => this.commands.get(snapshotKey(id)));
    return snapshot === null ? undefined : (JSON.parse(snapshot) as CallSummary);
  }

  async *events(callId: string, after: number, signal: AbortSignal): AsyncIterable<StoredEvent> {
    // Listening from before the first read: a publication during a read is not missed.
    const reader: Reader = { woken: false };
    this.listen(callId, reader);
    let cursor = after;
    try {
      while (!signal.aborted) {
        reader.woken = false;
        const entries = await this.read('read', () => this.commands.xrange(eventsKey(callId), `(0-${cursor}`, '+', 'COUNT', READ_BATCH));
        for (const [id, fields] of entries) {
          const event = stored(id, fields);
          cursor = event.seq;
          yield event;
          if (event.type === 'call_ended') return;
        }
        if (entries.length > 0 || reader.woken) continue;
        const woken = await this.wait(reader, signal);
        // A quiet call whose snapshot is gone lost its replica: its subscribers end.
        if (!woken && !signal.aborted && (await this.read('get', () => this.commands.exists(snapshotKey(callId)))) === 0) return;
      }
    } finally {
      const readers = this.waiting.get(callId);
      readers?.delete(reader);
      if (readers?.size === 0) this.waiting.delete(callId);
    }
  }

  health(): BusHealth {
    const ok = this.up && !this.failing;
    if (ok && this.dropped === 0) return { ok: true };
    const parts = [ok ? 'connected' : `Redis unreachable (${this.lastError ?? 'connecting'})`];
    if (this.queue.length > 0) parts.push(`${this.queue.length} writes waiting`);
    if (this.dropped > 0) parts.push(`${this.dropped} writes dropped while it was away`);
    return { ok, detail: parts.join('; ') };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.retryTimer);
    // What is queued gets one chance to go out.
    if (this.up) await this.flush().catch(() => {});
    for (const readers of this.waiting.values()) for (const reader of readers) reader.resume?.();
    this.waiting.clear();
    this.subscriber.disconnect();
    this.commands.disconnect();
  }

  private setUp(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    this.options.onUp(up);
    if (up) this.write();
  }

  private failed(operation: string, error: unknown): void {
    this.lastError = error instanceof Error ? error.message : String(error);
    this.options.onError(operation, error);
  }

  /** A read, its failure typed (the API answers 503) and counted. */
  private async read<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      this.failed(operation, error);
      throw new AerError('unavailable', `the event bus (Redis) cannot be read: ${(error as Error).message}`, {
        hint: 'retry shortly; the calls go on being tagged',
      });
    }
  }

  private enqueue(item: Queued): void {
    if (this.closed) return;
    this.queue.push(item);
    if (this.queue.length > this.options.maxQueued) {
      const over = this.queue.length - this.options.maxQueued;
      this.queue.splice(0, over);
      this.dropped += over;
      this.failed('queue_full', new Error(`${over} writes dropped: Redis has been away too long`));
    }
    this.write();
  }

  /** The single writer: sends the queue in order while Redis is up; retries after a failure. */
  private write(): void {
    if (this.writing || !this.up || this.queue.length === 0) return;
    this.writing = true;
    void this.flush()
      .catch((error: unknown) => {
        this.failing = true;
        this.options.onUp(false);
        this.failed('write', error);
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.write(), 500);
      })
      .finally(() => {
        this.writing = false;
        if (this.queue.length > 0 && !this.retryTimer) this.write();
      });
  }

  private async flush(): Promise<void> {
    this.retryTimer = undefined;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, WRITE_BATCH);
      const pipeline = this.commands.pipeline();
      const published = new Set<string>();
      // Of a call's snapshots in one batch, the last is enough.
      const lastSnapshot = new Map<string, number>();
      batch.forEach((item, i) => {
        if (item.kind === 'snapshot') lastSnapshot.set(item.summary.id, i);
      });
      batch.forEach((item, i) => {
        if (item.kind === 'event') {
          const { event, callId } = item;
          pipeline.xadd(
            eventsKey(callId),
            'MAXLEN',
            '~',
            this.options.maxEventsPerCall,
            `0-${event.seq}`,
            'type',
            event.type,
            'time',
            event.time,
            'json',
            event.json,
          );
          published.add(callId);
        } else if (lastSnapshot.get(item.summary.id) === i) this.snapshotCommands(pipeline, item.summary);
      });
      for (const callId of published) pipeline.publish(CHANNEL, callId);
      const results = (await pipeline.exec()) ?? [];
      // An entry id at or below the stream's last (a replay after a partial write) is already there: not a failure.
      const failure = results.find(([error]) => error && !/equal or smaller than the target stream top item/.test(error.message));
      if (failure?.[0]) throw failure[0];
      this.queue.splice(0, batch.length);
      if (this.failing) {
        this.failing = false;
        this.options.onUp(true);
      }
    }
  }

  private snapshotCommands(pipeline: ReturnType<Redis['pipeline']>, summary: CallSummary): void {
    const ttl = summary.status === 'live' ? this.options.liveTtlMs : this.options.endedRetentionMs;
    pipeline.set(snapshotKey(summary.id), JSON.stringify(summary), 'PX', ttl);
    pipeline.zadd(INDEX, summary.started_at, summary.id);
    // The events outlive a live snapshot (a dead replica's call stays readable), and go with an ended one.
    pipeline.pexpire(eventsKey(summary.id), this.options.endedRetentionMs);
  }

  private refreshOwned(): void {
    for (const summary of this.owned.values()) this.enqueue({ kind: 'snapshot', summary });
  }

  private listen(callId: string, reader: Reader): void {
    let readers = this.waiting.get(callId);
    if (!readers) {
      readers = new Set();
      this.waiting.set(callId, readers);
    }
    readers.add(reader);
  }

  private wake(callId: string): void {
    for (const reader of this.waiting.get(callId) ?? []) {
      reader.woken = true;
      reader.resume?.();
    }
  }

  /** Resolves true at the call's next publication, false after pollMs or when the signal aborts. */
  private wait(reader: Reader, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (woken: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', aborted);
        reader.resume = undefined;
        resolve(woken);
      };
      const aborted = () => done(false);
      const timer = setTimeout(() => done(false), this.options.pollMs);
      reader.resume = () => done(true);
      signal.addEventListener('abort', aborted, { once: true });
    });
  }
}

/** A subscriber reading a call: whether a publication came since it last read, and how to wake it. */
interface Reader {
  woken: boolean;
  resume?: () => void;
}

function stored(id: string, fields: string[]): StoredEvent {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  return { seq: Number(id.slice(id.indexOf('-') + 1)), type: f.type as CallEventType, time: Number(f.time), json: f.json };
}
