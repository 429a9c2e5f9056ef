/**
 * The calls API over HTTP and WebSocket: GET /v1/calls (live and recently
 * ended calls), GET /v1/calls/{id} (the call in figures), GET
 * /v1/calls/{id}/events (Server-Sent Events, or a WebSocket on the same
 * path), each reading the bus so that any replica answers for any call.
 */
import type { CallBus } from '../calls/bus.ts';
import type { CallMetrics } from '../metrics/call-metrics.ts';
import { quoted } from '../protocol/client-text.ts';
import { CLOSE } from '../protocol/wire.ts';
import { httpError, json } from './json-reply.ts';
import { parseSince, type SubscriberOptions, sseSubscriber, wsSubscriber } from './call-subscribers.ts';
import type { HttpReply, HttpRequest, StreamHandlers, StreamSocket, UpgradeRequest } from './transport/transport.ts';

export const CALLS_PATH = '/v1/calls';
const CALL_PATH = /^\/v1\/calls\/([^/]{1,128})(\/events)?$/;

/** The call a path names, and whether it is its events. */
export function callPath(path: string): { id: string; events: boolean } | undefined {
  const m = CALL_PATH.exec(path);
  if (!m) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
  return { id, events: m[2] !== undefined };
}

export class CallsApi {
  /** Aborted at shutdown: every subscription ends. */
  private readonly stopping = new AbortController();
  private readonly pumping = new Set<Promise<void>>();

  constructor(
    private readonly bus: CallBus,
    private readonly metrics: CallMetrics,
    private readonly options: SubscriberOptions,
  ) {}

  async list(): Promise<HttpReply> {
    return json(200, { calls: await this.bus.calls() });
  }

  async get(id: string): Promise<HttpReply> {
    const call = await this.bus.call(id);
    return call ? json(200, call) : this.unknown(id);
  }

  async events(req: HttpRequest, id: string): Promise<HttpReply> {
    const given = req.url.searchParams.get('since') ?? req.header('last-event-id');
    const since = parseSince(given);
    if (since === undefined) return httpError(400, 'invalid_argument', `since must be the sequence number of an event already seen, got ${quoted(given)}`);
    if (!(await this.bus.call(id))) return this.unknown(id);
    return {
      status: 200,
      contentType: 'text/event-stream',
      body: '',
      headers: { 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
      stream: (sink) => this.track(sseSubscriber(this.bus, id, since, sink, this.stopping.signal, this.metrics, this.options)),
    };
  }

  /** A WebSocket subscriber: the events as JSON text messages; it sends nothing. */
  websocket(req: UpgradeRequest, id: string, socket: StreamSocket): StreamHandlers {
    const gone = new AbortController();
    const since = parseSince(req.url.searchParams.get('since'));
    const refuse = (code: string, message: string, close: number) => {
      socket.send(JSON.stringify({ type: 'error', code, message, fatal: true }));
      socket.close(close, message);
    };
    if (since === undefined) refuse('invalid_argument', 'since must be the sequence number of an event already seen', CLOSE.badRequest);
    else
      this.bus.call(id).then(
        (call) => {
          if (gone.signal.aborted) return;
          if (!call) return refuse('not_found', `no call ${quoted(id)} here or on the bus`, CLOSE.badRequest);
          this.track(wsSubscriber(this.bus, id, since, socket, gone.signal, this.stopping.signal, this.metrics, this.options));
        },
        () => refuse('unavailable', 'the event bus cannot be read now', CLOSE.tryAgainLater),
      );
    return {
      message: () => {},
      gone: () => gone.abort(),
    };
  }

  /** Shutdown: every subscriber is told (SSE ends, WebSocket 1001) and the pumps finish. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.pumping]);
  }

  private track(work: Promise<void>): void {
    const settled = work.catch(() => {}).finally(() => this.pumping.delete(settled));
    this.pumping.add(settled);
  }

  private unknown(id: string): HttpReply {
    return httpError(404, 'not_found', `no call ${quoted(id)}`, 'GET /v1/calls lists the live and recently ended calls');
  }
}
