/** The default transport: node:http for requests, `ws` for /v1/stream upgrades on the same port. */
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { bodyTooLarge, STREAM_PATH, type HttpRequest, type Transport, type TransportApp, type TransportOptions } from './transport.ts';

function header(request: IncomingMessage): (name: string) => string | undefined {
  return (name) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
}

async function readBody(request: IncomingMessage, limit: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      request.resume();
      throw bodyTooLarge(limit);
    }
    chunks.push(chunk as Buffer);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

export class WsTransport implements Transport {
  readonly name = 'ws';
  private readonly server: http.Server;
  private readonly wss: WebSocketServer;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly app: TransportApp,
    private readonly options: TransportOptions,
  ) {
    this.server = http.createServer((req, res) => {
      const request: HttpRequest = { method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://localhost'), header: header(req), body: () => readBody(req, options.maxBodyBytes) };
      void app.http(request).then((reply) => {
        res.writeHead(reply.status, { 'content-type': reply.contentType, 'content-length': Buffer.byteLength(reply.body) });
        res.end(reply.body);
      });
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes, perMessageDeflate: false });
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  stopListening(): void {
    this.closed ??= new Promise((resolve) => this.server.close(() => resolve()));
  }

  async closeAll(): Promise<void> {
    this.stopListening();
    for (const client of this.wss.clients) client.terminate();
    this.server.closeAllConnections();
    await this.closed;
    this.wss.close();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== STREAM_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const handlers = this.app.stream(
        { url, header: header(req) },
        { send: (t) => ws.send(t), close: (c, r) => ws.close(c, r), pause: () => ws.pause(), resume: () => ws.resume() },
      );
      if (!handlers) return;
      ws.on('message', (data: Buffer, isBinary) => handlers.message(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), isBinary));
      ws.on('close', () => handlers.gone());
      ws.on('error', () => handlers.gone());
    });
  }
}
