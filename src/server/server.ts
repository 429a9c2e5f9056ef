/**
 * The service: HTTP and WebSocket on one port. /v1/stream upgrades to a
 * stream session; /healthz, /readyz, /metrics, /v1/models and POST
 * /v1/classify answer over HTTP. One engine, one scheduler and one VAD
 * batcher serve every session. stop() is the graceful shutdown: no new
 * sessions, every open one analyses what it received and gets `closed`,
 * all within `shutdownTimeoutMs`.
 */
import crypto from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Engine } from '../engine/engine.ts';
import { AerError, isAerError } from '../errors.ts';
import { WINDOW_VALUES } from '../features/recipe.ts';
import { ServiceMetrics } from '../metrics/metrics.ts';
import { Scheduler, type SchedulerOptions } from '../stream/scheduler.ts';
import { Session, type SessionDeps } from '../stream/session.ts';
import type { VadBatcher } from '../stream/vad.ts';
import { Tokens } from './auth.ts';
import { classifyFile } from './classify.ts';
import { CLOSE, parseStreamQuery, PROTOCOL_VERSION, ProtocolError, type StreamConfig } from './protocol.ts';
import { StreamConnection } from './stream-connection.ts';

export interface ServerOptions {
  port: number;
  host: string;
  maxSessions: number;
  /** Largest WebSocket message (bytes); larger closes 1009. */
  maxMessageBytes: number;
  /** Largest /v1/classify body. */
  maxClassifyBytes: number;
  idleTimeoutMs: number;
  shutdownTimeoutMs: number;
  scheduler: Partial<SchedulerOptions>;
}

export const DEFAULT_SERVER_OPTIONS: ServerOptions = {
  port: 8080,
  host: '127.0.0.1',
  maxSessions: 1000,
  maxMessageBytes: 1024 * 1024,
  maxClassifyBytes: 64 * 1024 * 1024,
  idleTimeoutMs: 30_000,
  shutdownTimeoutMs: 10_000,
  scheduler: {},
};

export interface ServiceParts {
  engine: Engine;
  vad: VadBatcher;
  modelDir: string;
  tokens: Tokens;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function httpError(res: ServerResponse, status: number, code: string, message: string, hint?: string): void {
  json(res, status, { error: { code, message, ...(hint ? { hint } : {}) } });
}

export class AerServer {
  readonly metrics: ServiceMetrics;
  readonly scheduler: Scheduler;
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<StreamConnection>();
  private readonly options: ServerOptions;
  private ready = false;
  private stopping = false;
  private classifyCount = 0;

  constructor(
    private readonly parts: ServiceParts,
    options: Partial<ServerOptions> = {},
  ) {
    this.options = { ...DEFAULT_SERVER_OPTIONS, ...options };
    this.metrics = new ServiceMetrics(parts.engine.name);
    this.scheduler = new Scheduler(parts.engine, this.options.scheduler, this.metrics.scheduler());
    this.http = http.createServer((req, res) => void this.route(req, res));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: this.options.maxMessageBytes, perMessageDeflate: false });
    this.http.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  get address(): AddressInfo {
    return this.http.address() as AddressInfo;
  }

  get activeSessions(): number {
    return this.connections.size;
  }

  /** Warm the engine (the first batch pays for lazy initialisation), then listen. */
  async start(): Promise<void> {
    await this.parts.engine.predict(new Float32Array(WINDOW_VALUES), 1);
    this.ready = true;
    this.metrics.ready.set(1);
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port, this.options.host, () => resolve());
    });
  }

  private sessionDeps(encoding: string): SessionDeps {
    const m = this.metrics;
    return {
      scheduler: this.scheduler,
      vad: this.parts.vad,
      labels: this.parts.engine.labels,
      attentionHopS: this.parts.engine.metadata.attention_hop_s,
      observer: {
        window: (result, latencyMs, label) => {
          m.windows.inc({ result });
          if (result !== 'shed') m.windowLatency.observe({ result }, latencyMs / 1000);
          if (label) m.labels.inc({ label });
        },
        decodeError: () => m.decodeErrors.inc({ encoding }),
      },
    };
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (req.method === 'GET' && url.pathname === '/healthz') return json(res, 200, { status: 'ok' });
      if (req.method === 'GET' && url.pathname === '/readyz') {
        return this.ready && !this.stopping ? json(res, 200, { status: 'ready', engine: this.parts.engine.detail }) : json(res, 503, { status: this.stopping ? 'stopping' : 'starting' });
      }
      if (req.method === 'GET' && url.pathname === '/metrics') {
        const text = await this.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
        return void res.end(text);
      }
      if (!this.parts.tokens.allows(Tokens.presented(req, url))) return httpError(res, 401, 'unauthorized', 'a valid bearer token is required', 'send Authorization: Bearer <token>');
      if (req.method === 'GET' && url.pathname === '/v1/models') return json(res, 200, { models: [this.describeModel()] });
      if (url.pathname === '/v1/classify') {
        if (req.method !== 'POST') return httpError(res, 405, 'method_not_allowed', 'POST a WAV or Ogg Opus file to /v1/classify');
        return await this.classify(req, res, url);
      }
      httpError(res, 404, 'not_found', `no route ${req.method} ${url.pathname}`, 'see /v1/models, /v1/classify, /v1/stream, /healthz, /readyz, /metrics');
    } catch (error) {
      if (res.headersSent) return void res.end();
      if (isAerError(error)) httpError(res, error.code === 'io_error' ? 500 : 400, error.code, error.message, error.hint);
      else httpError(res, 500, 'internal_error', (error as Error).message);
    }
  }

  private describeModel(): Record<string, unknown> {
    const m = this.parts.engine.metadata;
    return { id: 'default', dir: this.parts.modelDir, labels: m.labels, variant: m.variant, version: m.version, created: m.created, engine: this.parts.engine.detail, attention_steps: m.attention_steps, attention_hop_s: m.attention_hop_s, feature_recipe: m.feature_recipe.name, metrics: m.metrics };
  }

  private async classify(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const params = new URLSearchParams(url.searchParams);
    params.delete('token');
    const fromFile = ['encoding', 'sample_rate', 'channels'].filter((p) => params.has(p));
    if (fromFile.length > 0) return httpError(res, 400, 'invalid_argument', `/v1/classify reads ${fromFile.join(', ')} from the file; leave them out`);
    params.set('encoding', 'pcm_f32le');
    let config: StreamConfig;
    try {
      config = parseStreamQuery(params);
    } catch (error) {
      return httpError(res, 400, 'invalid_argument', (error as Error).message);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > this.options.maxClassifyBytes) {
        req.resume();
        return httpError(res, 413, 'too_large', `the body is larger than ${this.options.maxClassifyBytes} bytes`, 'stream long recordings over /v1/stream instead');
      }
      chunks.push(chunk as Buffer);
    }
    const result = await classifyFile(new Uint8Array(Buffer.concat(chunks)), config, this.sessionDeps('file'), `classify-${++this.classifyCount}`);
    json(res, 200, result);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/v1/stream') {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // Refusals are WebSocket close codes, which every client can read; an HTTP status before the upgrade is opaque to browsers.
      const refuse = (code: number, reason: string, error: string) => {
        ws.send(JSON.stringify({ type: 'error', code: error, message: reason, fatal: true }));
        ws.close(code, reason.slice(0, 120));
        this.metrics.closed.inc({ reason: error });
      };
      if (!this.parts.tokens.allows(Tokens.presented(req, url))) return refuse(CLOSE.policy, 'a valid bearer token is required (Authorization: Bearer or ?token=)', 'unauthorized');
      if (this.stopping) return refuse(CLOSE.tryAgainLater, 'the server is shutting down; reconnect to another instance', 'shutting_down');
      if (this.connections.size >= this.options.maxSessions) return refuse(CLOSE.tryAgainLater, `the server is full (${this.options.maxSessions} sessions); try again later`, 'server_full');
      let config: StreamConfig;
      try {
        config = parseStreamQuery(url.searchParams);
      } catch (error) {
        return refuse(error instanceof ProtocolError ? error.closeCode : CLOSE.badRequest, (error as Error).message, 'bad_request');
      }
      const id = crypto.randomUUID();
      let session: Session;
      try {
        session = new Session(id, config, this.sessionDeps(config.encoding));
      } catch (error) {
        return refuse(CLOSE.badRequest, (error as Error).message, 'bad_request');
      }
      const connection = new StreamConnection(
        { send: (t) => ws.send(t), close: (c, r) => ws.close(c, r), pause: () => ws.pause(), resume: () => ws.resume() },
        session,
        {
          idleTimeoutMs: this.options.idleTimeoutMs,
          metrics: this.metrics,
          onEnd: (reason) => {
            this.connections.delete(connection);
            this.metrics.activeSessions.set(this.connections.size);
            this.metrics.closed.inc({ reason });
          },
        },
      );
      this.connections.add(connection);
      this.metrics.opened.inc({ encoding: config.encoding });
      this.metrics.activeSessions.set(this.connections.size);
      ws.on('message', (data: Buffer, isBinary) => connection.message(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), isBinary));
      ws.on('close', () => connection.gone());
      ws.on('error', () => connection.gone());
      ws.send(
        JSON.stringify({
          type: 'ready',
          protocol: PROTOCOL_VERSION,
          session_id: id,
          config: { encoding: config.encoding, sample_rate: config.sampleRate, channels: config.channels, hop_ms: config.hopMs, smoothing: config.smoothing, vad: config.vad, attention: config.attention },
          labels: this.parts.engine.labels,
          model: { variant: this.parts.engine.metadata.variant, engine: this.parts.engine.detail },
          attention_hop_s: this.parts.engine.metadata.attention_hop_s,
        }),
      );
    });
  }

  /** Graceful shutdown: refuse new sessions, let open ones finish (bounded), then close everything. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.metrics.ready.set(0);
    const closing = new Promise<void>((resolve) => this.http.close(() => resolve()));
    const all = Promise.all([...this.connections].map((c) => c.shutdown()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((resolve) => (timer = setTimeout(resolve, this.options.shutdownTimeoutMs)))]);
    clearTimeout(timer);
    for (const c of this.connections) c.abort();
    await this.scheduler.drain();
    this.http.closeAllConnections();
    await closing;
    this.wss.close();
  }
}

export function checkServerOptions(o: ServerOptions): void {
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new AerError('invalid_argument', `--port must be 0-65535, got ${o.port}`);
  if (!Number.isInteger(o.maxSessions) || o.maxSessions < 1) throw new AerError('invalid_argument', `--max-sessions must be at least 1, got ${o.maxSessions}`);
}
