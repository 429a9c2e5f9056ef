/**
 * The default transport: node:http for requests, `ws` for /v1/stream
 * upgrades on the same port. Every handler is guarded: an exception fails
 * its own request (500) or socket (1011), never the process.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ServerOptions, WebSocket, WebSocketServer } from 'ws';
import { closeReason } from '../../protocol/client-text.ts';
import { AerError } from '../../errors.ts';
import { SpooledBody } from './spooled-body.ts';
import { listen } from './listen.ts';
import { RequestBody } from './request-body.ts';
import {
  CLOSE_GRACE_MS,
  HEADERS_TIMEOUT_MS,
  INTERNAL_ERROR_REPLY,
  KEEP_ALIVE_TIMEOUT_MS,
  type HttpReply,
  type HttpRequest,
  type ReplySink,
  type StreamHandlers,
  type StreamSocket,
  type Transport,
  type TransportApp,
  type TransportOptions,
} from './transport.ts';

function header(request: IncomingMessage): (name: string) => string | undefined {
  return (name) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
}

function declaredLength(request: IncomingMessage): number | undefined {
  const value = request.headers['content-length'];
  return value !== undefined && /^[0-9]{1,15}$/.test(value) ? Number(value) : undefined;
}

/** How long closeAll waits for replies in progress. */
const REPLY_GRACE_MS = 1000;

class WsStream implements StreamSocket {
  private reading = true;

  constructor(private readonly ws: WebSocket) {}

  send(text: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  close(code: number, reason: string): void {
    try {
      this.ws.close(code, closeReason(reason));
    } catch {
      this.ws.terminate();
    }
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    if (this.reading) this.ws.resume();
  }

  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** ws hands over every whole frame of a chunk it read within that chunk's event, so a tick after pausing nothing is left. */
  stopReading(): Promise<void> {
    this.reading = false;
    this.ws.pause();
    return new Promise((resolve) => setImmediate(resolve));
  }
}

/** A streamed reply: headers now, then the body as the service writes it (no length: chunked). */
function streamReply(res: ServerResponse, r: HttpReply, closed: AbortSignal): void {
  res.writeHead(r.status, { ...r.headers, 'content-type': r.contentType });
  res.flushHeaders();
  const sink: ReplySink = {
    write: (text) => !res.destroyed && res.write(text),
    drained: () =>
      new Promise((resolve) => {
        if (res.destroyed || !res.writableNeedDrain) return resolve();
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      }),
    end: () => {
      if (!res.destroyed) res.end();
    },
    closed,
  };
  r.stream!(sink);
}

export class WsTransport implements Transport {
  readonly name = 'ws';
  private readonly server: http.Server;
  private readonly wss: WebSocketServer;
  private closed: Promise<void> | undefined;
  /** Requests not yet answered. */
  private responding = 0;

  constructor(
    private readonly app: TransportApp,
    private readonly options: TransportOptions,
  ) {
    // The body's own limits (request-body.ts) replace Node's whole-request timeout: a classify body is read as fast as it is analysed.
    this.server = http.createServer(
      { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: 0, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
      (req, res) => this.request(req, res),
    );
    // closeTimeout (not in @types/ws yet): a peer that ignores our close frame is dropped after the grace, not ws's 30 s.
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageBytes,
      perMessageDeflate: false,
      closeTimeout: CLOSE_GRACE_MS,
    } as ServerOptions);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      try {
        this.upgrade(req, socket, head);
      } catch (error) {
        socket.destroy();
        this.app.fault('upgrade', error);
      }
    });
  }

  listen(host: string, port: number): Promise<number> {
    return listen(this.server, host, port);
  }

  stopListening(): void {
    this.closed ??= new Promise((resolve) => this.server.close(() => resolve()));
  }

  async closeAll(): Promise<void> {
    this.stopListening();
    for (const client of this.wss.clients) client.terminate();
    // Replies being written (a classify answer at the shutdown deadline) get a moment to go out.
    for (let waited = 0; this.responding > 0 && waited < REPLY_GRACE_MS; waited += 10) await new Promise((r) => setTimeout(r, 10));
    this.server.closeAllConnections();
    await this.closed;
    this.wss.close();
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    const aborted = new AbortController();
    this.responding++;
    res.on('close', () => {
      this.responding--;
      if (!res.writableFinished) aborted.abort();
    });
    const spooled = new SpooledBody({ pause: () => req.pause() }, this.options.body.maxBytes);
    req.on('data', (chunk: Buffer) => spooled.data(chunk));
    req.on('end', () => spooled.end());
    req.on('error', (error) => spooled.fail(error));
    res.on('close', () => {
      if (!req.readableEnded) spooled.fail(new AerError('io_error', 'the client went away'));
    });
    const body = new RequestBody(spooled, this.options.body, declaredLength(req));
    const request: HttpRequest = {
      method: req.method ?? 'GET',
      url: new URL(req.url ?? '/', 'http://localhost'),
      header: header(req),
      body,
      signal: aborted.signal,
    };
    const reply = (r: HttpReply) => {
      if (res.headersSent || res.destroyed) return;
      if (r.stream) return streamReply(res, r, aborted.signal);
      // A reply before the body was read to its end (an error, a refusal) ends the connection rather than reading the rest.
      const unread = req.method !== 'GET' && req.method !== 'HEAD' && !body.complete && !req.readableEnded;
      res.writeHead(r.status, {
        ...r.headers,
        'content-type': r.contentType,
        'content-length': Buffer.byteLength(r.body),
        ...(unread ? { connection: 'close' } : {}),
      });
      res.end(r.body);
    };
    let handled: Promise<HttpReply>;
    try {
      handled = this.app.http(request);
    } catch (error) {
      handled = Promise.reject(error);
    }
    handled.then(reply).catch((error: unknown) => {
      this.app.fault('http', error);
      try {
        reply(INTERNAL_ERROR_REPLY);
      } catch {
        res.destroy();
      }
    });
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!this.app.upgrades(url.pathname)) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = new WsStream(ws);
      let handlers: StreamHandlers | undefined;
      const failed = (site: 'upgrade' | 'message' | 'close', error: unknown) => {
        stream.close(1011, 'internal error');
        this.app.fault(site, error);
      };
      try {
        handlers = this.app.stream({ url, header: header(req) }, stream);
      } catch (error) {
        return failed('upgrade', error);
      }
      if (!handlers) return;
      const h = handlers;
      ws.on('message', (data: Buffer, isBinary) => {
        try {
          h.message(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), isBinary);
        } catch (error) {
          failed('message', error);
        }
      });
      let gone = false;
      const end = () => {
        if (gone) return;
        gone = true;
        try {
          h.gone();
        } catch (error) {
          this.app.fault('close', error);
        }
      };
      ws.on('close', end);
      ws.on('error', end);
    });
  }
}
