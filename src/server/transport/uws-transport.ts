/**
 * The optional uWebSockets.js transport (`--transport uws`), from the
 * community build `@trufflesuite/uws-js-unofficial` (the real one is not on
 * npm). Same routes and protocol as the `ws` transport; its sockets are
 * handled in C++, which leaves more of the main thread to the pipeline.
 *
 * Two things uWS does differently, made equal here:
 * - it cannot stop reading a WebSocket, so pause() holds the client's
 *   messages (in order, up to `MAX_HELD_BYTES`) and resume() replays them;
 *   a client that overruns the hold is closed 1008 `rate_exceeded`;
 * - it closes an oversize message with 1006, so its own limit is set
 *   higher and the service's limit is checked here, closing 1009.
 */
import { createRequire } from 'node:module';
import http from 'node:http';
import { AerError } from '../../errors.ts';
import { bodyTooLarge, STREAM_PATH, type HttpRequest, type StreamHandlers, type StreamSocket, type Transport, type TransportApp, type TransportOptions, type UpgradeRequest } from './transport.ts';

/** The parts of the uWS.js API used here (its own typings do not load as an ES module). */
interface UwsResponse {
  onAborted(handler: () => void): UwsResponse;
  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): UwsResponse;
  cork(cb: () => void): UwsResponse;
  writeStatus(status: string): UwsResponse;
  writeHeader(key: string, value: string): UwsResponse;
  end(body?: string | Uint8Array, closeConnection?: boolean): UwsResponse;
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
  getUserData(): T;
}
interface UwsApp {
  any(pattern: string, handler: (res: UwsResponse, req: UwsRequest) => void): UwsApp;
  ws<T>(pattern: string, behavior: Record<string, unknown>): UwsApp;
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
const MAX_HELD_BYTES = 16 * 1024 * 1024;
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
  private readonly held: { data: Uint8Array; isBinary: boolean }[] = [];
  private heldBytes = 0;

  constructor(
    readonly request: UpgradeRequest,
    private readonly maxMessageBytes: number,
  ) {}

  send(text: string): void {
    if (!this.closed) this.ws.send(text, false);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.end(code, reason);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    if (this.draining) return;
    this.draining = true;
    while (!this.paused && !this.closed && this.held.length > 0) {
      const next = this.held.shift()!;
      this.heldBytes -= next.data.length;
      this.handlers?.message(next.data, next.isBinary);
    }
    this.draining = false;
  }

  /** uWS neuters the message's buffer when the callback returns: copy what is kept. */
  received(message: ArrayBuffer, isBinary: boolean): void {
    if (this.closed) return;
    if (message.byteLength > this.maxMessageBytes) return this.close(1009, `message of ${message.byteLength} bytes is over the limit of ${this.maxMessageBytes}`);
    if (!this.paused && this.held.length === 0) return this.handlers?.message(new Uint8Array(message), isBinary);
    this.held.push({ data: new Uint8Array(message.slice(0)), isBinary });
    this.heldBytes += message.byteLength;
    if (this.heldBytes > MAX_HELD_BYTES) {
      const error = { type: 'error', code: 'rate_exceeded', message: `more than ${MAX_HELD_BYTES} bytes sent ahead of analysis`, fatal: true };
      this.send(JSON.stringify(error));
      this.close(1008, 'sending far faster than real time; pace the audio or wait for its events');
    }
  }

  ended(): void {
    this.closed = true;
    this.held.length = 0;
    this.handlers?.gone();
  }
}

interface Held {
  stream: UwsStream;
}

export class UwsTransport implements Transport {
  readonly name = 'uws';
  private readonly uws: Uws;
  private readonly app: UwsApp;
  private listenSocket: unknown;

  constructor(service: TransportApp, options: TransportOptions) {
    this.uws = loadUws();
    this.app = this.uws.App();
    this.app.ws<Held>(STREAM_PATH, {
      // Oversize messages are closed 1009 by UwsStream; uWS's own limit (1006) only stops a flood.
      maxPayloadLength: options.maxMessageBytes * 4,
      maxBackpressure: MAX_BACKPRESSURE_BYTES,
      closeOnBackpressureLimit: 1,
      // The service has its own idle timeout; uWS pings so that dead peers are found.
      idleTimeout: 120,
      sendPingsAutomatically: true,
      upgrade: (res: UwsResponse, req: UwsRequest, context: unknown) => {
        const headers = headersOf(req);
        const stream = new UwsStream({ url: urlOf(req), header: (name) => headers.get(name) }, options.maxMessageBytes);
        res.upgrade({ stream } satisfies Held, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
      },
      open: (ws: UwsSocket<Held>) => {
        const { stream } = ws.getUserData();
        stream.ws = ws;
        stream.handlers = service.stream(stream.request, stream);
      },
      message: (ws: UwsSocket<Held>, message: ArrayBuffer, isBinary: boolean) => ws.getUserData().stream.received(message, isBinary),
      close: (ws: UwsSocket<Held>) => ws.getUserData().stream.ended(),
    });
    this.app.any('/*', (res, req) => this.http(service, options, res, req));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) return reject(new AerError('io_error', `cannot listen on ${host}:${port}`, { hint: 'is the port in use?' }));
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

  /** The request is only valid until the handler returns: read it all first. */
  private http(service: TransportApp, options: TransportOptions, res: UwsResponse, req: UwsRequest): void {
    const headers = headersOf(req);
    const method = req.getMethod().toUpperCase();
    let aborted = false;
    res.onAborted(() => (aborted = true));
    const body = method === 'GET' || method === 'HEAD' ? Promise.resolve(new Uint8Array(0)) : collect(res, options.maxBodyBytes);
    body.catch(() => {});
    const request: HttpRequest = { method, url: urlOf(req), header: (name) => headers.get(name), body: () => body };
    void service.http(request).then((reply) => {
      if (aborted) return;
      res.cork(() => {
        res.writeStatus(`${reply.status} ${http.STATUS_CODES[reply.status] ?? ''}`).writeHeader('content-type', reply.contentType).end(reply.body);
      });
    });
  }
}

function collect(res: UwsResponse, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    res.onData((chunk, isLast) => {
      if (!over) {
        size += chunk.byteLength;
        if (size > limit) {
          over = true;
          reject(bodyTooLarge(limit));
        } else chunks.push(Buffer.from(chunk.slice(0)));
      }
      if (isLast && !over) resolve(new Uint8Array(Buffer.concat(chunks)));
    });
  });
}
