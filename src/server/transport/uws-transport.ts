/**
 * The optional uWebSockets.js transport (`--transport uws`), from the
 * community build `@trufflesuite/uws-js-unofficial` (the real one is not on
 * npm). Same routes and protocol as the `ws` transport; its sockets are
 * handled in C++, which leaves more of the main thread to the pipeline.
 *
 * Two things uWS does differently, made equal here:
 * - it cannot stop reading a WebSocket, so pause() holds the client's
 *   messages (in order, up to `OVERLOAD.uwsMaxHeldBytes`) and resume() replays them;
 *   a client that overruns the hold is closed 1008 `rate_exceeded`;
 * - it closes an oversize message with 1006, so its own limit is set
 *   higher and the service's limit is checked here, closing 1009.
 */
import { createRequire } from 'node:module';
import http from 'node:http';
import { AerError } from '../../errors.ts';
import { closeReason } from '../../protocol/client-text.ts';
import { OVERLOAD } from '../../stream/overload.ts';
import { SpooledBody } from './spooled-body.ts';
import { RequestBody } from './request-body.ts';
import {
  INTERNAL_ERROR_REPLY,
  type FaultSite,
  type HttpReply,
  type HttpRequest,
  type ReplySink,
  type StreamHandlers,
  type StreamSocket,
  type Transport,
  type TransportApp,
  type TransportOptions,
  type UpgradeRequest,
} from './transport.ts';

/** The parts of the uWS.js API used here (its own typings do not load as an ES module). */
interface UwsResponse {
  onAborted(handler: () => void): UwsResponse;
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): UwsResponse;
  pause(): void;
  resume(): void;
  cork(cb: () => void): UwsResponse;
  writeStatus(status: string): UwsResponse;
  writeHeader(key: string, value: string): UwsResponse;
  end(body?: string | Uint8Array, closeConnection?: boolean): UwsResponse;
  write(chunk: string | Uint8Array): boolean;
  onWritable(handler: (offset: number) => boolean): UwsResponse;
  endWithoutBody(reportedContentLength?: number, closeConnection?: boolean): UwsResponse;
  close(): UwsResponse;
  upgrade(userData: unknown, key: string, protocol: string, extensions: string, context: unknown): void;
}
interface UwsRequest {
  getMethod(): string;
  getUrl(): string;
  getQuery(): string | undefined;
  getHeader(name: string): string;
  forEach(cb: (key: string, value: string) => void): void;
}
interface UwsSocket<T> {
  send(message: string | Uint8Array, isBinary?: boolean): number;
  end(code?: number, reason?: string): void;
  close(): void;
  getBufferedAmount(): number;
  getUserData(): T;
}
interface UwsApp {
  any(pattern: string, handler: (res: UwsResponse, req: UwsRequest) => void): UwsApp;
  ws<_T>(pattern: string, behavior: Record<string, unknown>): UwsApp;
  listen(host: string, port: number, cb: (socket: unknown) => void): UwsApp;
  close(): void;
}
interface Uws {
  App(): UwsApp;
  us_listen_socket_close(socket: unknown): void;
  us_socket_local_port(socket: unknown): number;
}

export const UWS_PACKAGE = '@trufflesuite/uws-js-unofficial';

/** Audio a paused client may send before it is closed: about 8 minutes of 16 kHz 16-bit mono. */
/** Events a client has not read yet before it is closed (uWS would otherwise drop them). */
const MAX_BACKPRESSURE_BYTES = 16 * 1024 * 1024;

function loadUws(): Uws {
  try {
    return createRequire(import.meta.url)(UWS_PACKAGE) as Uws;
  } catch (error) {
    throw new AerError('invalid_argument', `the uws transport needs ${UWS_PACKAGE}, which did not load: ${(error as Error).message.split('\n')[0]}`, {
      hint: `npm install ${UWS_PACKAGE} (it is an optional dependency), or use --transport ws`,
    });
  }
}

/** Whether the uWS transport can be used here. */
export function uwsAvailable(): boolean {
  try {
    loadUws();
    return true;
  } catch {
    return false;
  }
}

function headersOf(req: UwsRequest): Map<string, string> {
  const headers = new Map<string, string>();
  req.forEach((key, value) => headers.set(key, value));
  return headers;
}

function urlOf(req: UwsRequest): URL {
  const query = req.getQuery();
  return new URL(req.getUrl() + (query ? `?${query}` : ''), 'http://localhost');
}

/** One WebSocket's state, held in uWS's user data (which copies own properties only, so it is wrapped). */
class UwsStream implements StreamSocket {
  handlers: StreamHandlers | undefined;
  ws!: UwsSocket<Held>;
  private closed = false;
  private paused = false;
  private draining = false;
  /** False once shutdown stopped reading: later messages were read after the drain began and are not taken. */
  private reading = true;
  private readonly held: { data: Uint8Array; isBinary: boolean }[] = [];
  private heldBytes = 0;

  constructor(
    readonly request: UpgradeRequest,
    private readonly maxMessageBytes: number,
    private readonly fault: (site: FaultSite, error: unknown) => void,
  ) {}

  send(text: string): void {
    if (!this.closed) this.ws.send(text, false);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.ws.end(code, closeReason(reason));
    } catch {
      this.ws.close();
    }
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.deliverHeld();
  }

  bufferedAmount(): number {
    return this.closed ? 0 : this.ws.getBufferedAmount();
  }

  /** Messages held while paused were read before the drain: they are handed over, in order, and nothing more is taken. */
  stopReading(): Promise<void> {
    this.reading = false;
    this.paused = false;
    this.deliverHeld();
    return Promise.resolve();
  }

  /** uWS neuters the message's buffer when the callback returns: copy what is kept. */
  received(message: ArrayBuffer, isBinary: boolean): void {
    if (this.closed || !this.reading) return;
    if (message.byteLength > this.maxMessageBytes)
      return this.close(1009, `message of ${message.byteLength} bytes is over the limit of ${this.maxMessageBytes}`);
    if (!this.paused && this.held.length === 0) return this.dispatch(new Uint8Array(message), isBinary);
    this.held.push({ data: new Uint8Array(message.slice(0)), isBinary });
    this.heldBytes += message.byteLength;
    if (this.heldBytes > OVERLOAD.uwsMaxHeldBytes) {
      const error = { type: 'error', code: 'rate_exceeded', message: `more than ${OVERLOAD.uwsMaxHeldBytes} bytes sent ahead of analysis`, fatal: true };
      this.send(JSON.stringify(error));
      this.close(1008, 'sending far faster than real time; pace the audio or wait for its events');
    }
  }

  ended(): void {
    this.closed = true;
    this.held.length = 0;
    try {
      this.handlers?.gone();
    } catch (error) {
      this.fault('close', error);
    }
  }

  private deliverHeld(): void {
    if (this.draining) return;
    this.draining = true;
    while (!this.paused && !this.closed && this.held.length > 0) {
      const next = this.held.shift()!;
      this.heldBytes -= next.data.length;
      this.dispatch(next.data, next.isBinary);
    }
    this.draining = false;
  }

  private dispatch(data: Uint8Array, isBinary: boolean): void {
    try {
      this.handlers?.message(data, isBinary);
    } catch (error) {
      this.close(1011, 'internal error');
      this.fault('message', error);
    }
  }
}

interface Held {
  stream: UwsStream;
}

const NO_BODY: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: async function* () {} };

export class UwsTransport implements Transport {
  readonly name = 'uws';
  private readonly uws: Uws;
  private readonly app: UwsApp;
  private listenSocket: unknown;

  constructor(
    private readonly service: TransportApp,
    private readonly options: TransportOptions,
  ) {
    this.uws = loadUws();
    this.app = this.uws.App();
    const fault = (site: FaultSite, error: unknown) => service.fault(site, error);
    // Every path: uWS hands requests without an upgrade on to the HTTP handler below.
    this.app.ws<Held>('/*', {
      // Oversize messages are closed 1009 by UwsStream; uWS's own limit (1006) only stops a flood.
      maxPayloadLength: options.maxMessageBytes * 4,
      maxBackpressure: MAX_BACKPRESSURE_BYTES,
      closeOnBackpressureLimit: 1,
      // The service has its own idle timeout; uWS pings so that dead peers are found.
      idleTimeout: 120,
      sendPingsAutomatically: true,
      upgrade: (res: UwsResponse, req: UwsRequest, context: unknown) => {
        try {
          if (!service.upgrades(req.getUrl())) {
            res.cork(() => res.writeStatus('404 Not Found').end('', true));
            return;
          }
          const headers = headersOf(req);
          const stream = new UwsStream({ url: urlOf(req), header: (name) => headers.get(name) }, options.maxMessageBytes, fault);
          res.upgrade(
            { stream } satisfies Held,
            req.getHeader('sec-websocket-key'),
            req.getHeader('sec-websocket-protocol'),
            req.getHeader('sec-websocket-extensions'),
            context,
          );
        } catch (error) {
          res.close();
          fault('upgrade', error);
        }
      },
      open: (ws: UwsSocket<Held>) => {
        const { stream } = ws.getUserData();
        stream.ws = ws;
        try {
          stream.handlers = service.stream(stream.request, stream);
        } catch (error) {
          stream.close(1011, 'internal error');
          fault('upgrade', error);
        }
      },
      message: (ws: UwsSocket<Held>, message: ArrayBuffer, isBinary: boolean) => ws.getUserData().stream.received(message, isBinary),
      close: (ws: UwsSocket<Held>) => ws.getUserData().stream.ended(),
    });
    this.app.any('/*', (res, req) => {
      try {
        this.http(res, req);
      } catch (error) {
        res.close();
        fault('http', error);
      }
    });
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) return reject(new AerError('io_error', `cannot listen on ${host}:${port}`));
        this.listenSocket = socket;
        resolve(this.uws.us_socket_local_port(socket));
      });
    });
  }

  stopListening(): void {
    if (this.listenSocket) this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }

  async closeAll(): Promise<void> {
    this.stopListening();
    this.app.close();
  }

  /** A streamed reply: the response may not be touched once aborted (uWS frees it). */
  private streamReply(res: UwsResponse, r: HttpReply, closed: AbortSignal, finished: () => void): void {
    res.cork(() => {
      res.writeStatus(`${r.status} ${http.STATUS_CODES[r.status] ?? ''}`).writeHeader('content-type', r.contentType);
      for (const [key, value] of Object.entries(r.headers ?? {})) res.writeHeader(key, value);
    });
    let waiting: (() => void) | undefined;
    closed.addEventListener('abort', () => waiting?.(), { once: true });
    const sink: ReplySink = {
      write: (text) => {
        let ok = false;
        if (!closed.aborted) res.cork(() => (ok = res.write(text)));
        return ok;
      },
      drained: () =>
        new Promise((resolve) => {
          if (closed.aborted) return resolve();
          waiting = () => {
            waiting = undefined;
            resolve();
          };
          res.onWritable(() => {
            waiting?.();
            return true;
          });
        }),
      end: () => {
        if (closed.aborted) return;
        finished();
        res.cork(() => res.end());
      },
      closed,
    };
    r.stream!(sink);
  }

  /** The request is only valid until the handler returns: read it all first. */
  private http(res: UwsResponse, req: UwsRequest): void {
    const headers = headersOf(req);
    const method = req.getMethod().toUpperCase();
    const url = urlOf(req);
    let done = false;
    const aborted = new AbortController();
    const hasBody = method !== 'GET' && method !== 'HEAD';
    const source = hasBody ? new SpooledBody({ pause: () => !done && res.pause() }, this.options.body.maxBytes) : undefined;
    if (source) {
      res.onData((chunk, isLast) => {
        source.data(new Uint8Array(chunk.slice(0)));
        if (isLast) source.end();
      });
    }
    res.onAborted(() => {
      done = true;
      source?.fail(new AerError('io_error', 'the client went away'));
      aborted.abort();
    });
    const length = headers.get('content-length');
    const body = new RequestBody(source ?? NO_BODY, this.options.body, length !== undefined && /^[0-9]{1,15}$/.test(length) ? Number(length) : undefined);
    const request: HttpRequest = { method, url, header: (name) => headers.get(name), body, signal: aborted.signal };
    const reply = (r: HttpReply) => {
      if (done) return;
      if (r.stream) return this.streamReply(res, r, aborted.signal, () => (done = true));
      done = true;
      const unread = hasBody && !body.complete;
      res.cork(() => {
        res.writeStatus(`${r.status} ${http.STATUS_CODES[r.status] ?? ''}`).writeHeader('content-type', r.contentType);
        for (const [key, value] of Object.entries(r.headers ?? {})) res.writeHeader(key, value);
        if (method === 'HEAD') res.endWithoutBody(Buffer.byteLength(r.body));
        else res.end(r.body, unread);
      });
    };
    let handled: Promise<HttpReply>;
    try {
      handled = this.service.http(request);
    } catch (error) {
      handled = Promise.reject(error);
    }
    handled.then(reply).catch((error: unknown) => {
      this.service.fault('http', error);
      // A reply that failed half-written cannot be repaired: the connection goes.
      const broken = done;
      try {
        if (broken) res.close();
        else reply(INTERNAL_ERROR_REPLY);
      } catch {
        // The client went away meanwhile.
      }
    });
  }
}
