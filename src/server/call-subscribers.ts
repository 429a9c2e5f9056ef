/**
 * Subscribers to a call's events: Server-Sent Events (GET
 * /v1/calls/{id}/events) and WebSocket (the same path, upgraded). Each
 * reads the bus from its own cursor: replay from the call's start, or after
 * `since` (or SSE's Last-Event-ID), then live, until `call_ended`. A
 * subscriber that does not keep up is not buffered for: the next event is
 * read only once the last was taken, and one stuck for `stallMs` is ended
 * (it resumes with `since` and misses nothing the bus still holds).
 */
import type { CallBus, StoredEvent } from '../calls/bus.ts';
import type { CallMetrics } from '../metrics/call-metrics.ts';
import { CLOSE } from '../protocol/wire.ts';
import type { ReplySink, StreamSocket } from './transport/transport.ts';

export interface SubscriberOptions {
  /** A comment line this often keeps proxies from closing a quiet SSE stream. */
  heartbeatMs: number;
  /** A subscriber that has not taken an event for this long is ended. */
  stallMs: number;
  /** WebSocket: bytes waiting to go above which the next event waits. */
  wsHighWaterBytes: number;
}

export const DEFAULT_SUBSCRIBER_OPTIONS: SubscriberOptions = { heartbeatMs: 15_000, stallMs: 30_000, wsHighWaterBytes: 256 * 1024 };

/** Why a subscription ended: the call did, the subscriber stalled, the server is stopping, or the bus failed. */
type EndReason = 'ended' | 'stalled' | 'shutdown' | 'failed';

/** Where a subscription writes: `false` from write means wait for `drained` before the next. */
interface Outlet {
  write(event: StoredEvent): boolean;
  drained(): Promise<void>;
  heartbeat(): void;
  end(reason: EndReason): void;
}

/** Pumps the call's events into `outlet` until the call ends, the subscriber goes, or `stop` aborts (shutdown). */
async function pump(
  bus: CallBus,
  callId: string,
  after: number,
  outlet: Outlet,
  gone: AbortSignal,
  stop: AbortSignal,
  kind: 'sse' | 'ws',
  metrics: CallMetrics,
  options: SubscriberOptions,
): Promise<void> {
  const signal = AbortSignal.any([gone, stop]);
  const heartbeat = setInterval(() => outlet.heartbeat(), options.heartbeatMs);
  const subscribedAt = Date.now();
  metrics.subscribers.inc({ kind });
  let stalled = false;
  let failed = false;
  try {
    for await (const event of bus.events(callId, after, signal)) {
      // Replayed events are history, not delivery latency.
      if (event.time >= subscribedAt) metrics.delivery.observe({ kind }, Math.max(0, Date.now() - event.time) / 1000);
      if (outlet.write(event)) continue;
      let timer: NodeJS.Timeout | undefined;
      const stall = new Promise<void>((resolve) => (timer = setTimeout(() => resolve(void (stalled = true)), options.stallMs)));
      await Promise.race([outlet.drained(), stall]);
      clearTimeout(timer);
      if (stalled) break;
    }
  } catch {
    // The bus could not be read (Redis gone): the subscriber reconnects with `since` and misses nothing kept.
    failed = true;
  } finally {
    clearInterval(heartbeat);
    metrics.subscribers.dec({ kind });
  }
  if (!gone.aborted) outlet.end(failed ? 'failed' : stalled ? 'stalled' : stop.aborted ? 'shutdown' : 'ended');
}

/** `since` as a subscriber gives it: a whole number of events already seen. */
export function parseSince(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return 0;
  return /^[0-9]{1,15}$/.test(value) ? Number(value) : undefined;
}

export function sseSubscriber(
  bus: CallBus,
  callId: string,
  after: number,
  sink: ReplySink,
  stop: AbortSignal,
  metrics: CallMetrics,
  options: SubscriberOptions,
): Promise<void> {
  // The client reconnects after 2 s (browsers' EventSource), sending Last-Event-ID.
  sink.write('retry: 2000\n\n');
  const outlet: Outlet = {
    write: (e) => sink.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${e.json}\n\n`),
    drained: () => sink.drained(),
    heartbeat: () => sink.write(': keepalive\n\n'),
    end: () => sink.end(),
  };
  return pump(bus, callId, after, outlet, sink.closed, stop, 'sse', metrics, options);
}

const WS_ENDINGS: Record<EndReason, [number, string]> = {
  ended: [CLOSE.normal, 'call ended'],
  stalled: [CLOSE.policy, 'slow_consumer: reconnect with since=<last seq>'],
  shutdown: [CLOSE.goingAway, 'server shutting down; reconnect with since=<last seq>'],
  failed: [CLOSE.internal, 'the event bus cannot be read; reconnect with since=<last seq>'],
};

export function wsSubscriber(
  bus: CallBus,
  callId: string,
  after: number,
  socket: StreamSocket,
  gone: AbortSignal,
  stop: AbortSignal,
  metrics: CallMetrics,
  options: SubscriberOptions,
): Promise<void> {
  const outlet: Outlet = {
    write: (e) => {
      socket.send(e.json);
      return socket.bufferedAmount() <= options.wsHighWaterBytes;
    },
    // The socket has no drain event: it is looked at every 20 ms until it has sent enough.
    drained: async () => {
      while (!gone.aborted && socket.bufferedAmount() > options.wsHighWaterBytes) await new Promise((r) => setTimeout(r, 20));
    },
    heartbeat: () => {},
    end: (reason) => socket.close(...WS_ENDINGS[reason]),
  };
  return pump(bus, callId, after, outlet, gone, stop, 'ws', metrics, options);
}
