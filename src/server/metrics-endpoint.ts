/**
 * `--metrics-port`: /metrics alone on its own listener (and address), so
 * Prometheus can scrape without a token while the service's port requires
 * one, and a network policy can keep the two apart.
 */
import http from 'node:http';
import type { Registry } from 'prom-client';
import { listen } from './transport/listen.ts';
import { HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS } from './transport/transport.ts';

export class MetricsEndpoint {
  private readonly server: http.Server;

  constructor(registry: Registry) {
    this.server = http.createServer(
      { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: HEADERS_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS },
      (req, res) => {
        const path = new URL(req.url ?? '/', 'http://localhost').pathname;
        if (path !== '/metrics') {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('this port serves /metrics only\n');
          return;
        }
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('GET /metrics\n');
          return;
        }
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(text) }).end(text),
          () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be collected\n'),
        );
      },
    );
  }

  listen(host: string, port: number): Promise<number> {
    return listen(this.server, host, port);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
