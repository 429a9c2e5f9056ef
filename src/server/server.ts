/**
 * The service: HTTP and WebSocket on one port. /v1/stream upgrades to a
 * stream session; /healthz, /readyz, /metrics, /v1/models and POST
 * /v1/classify answer over HTTP. One engine, one scheduler and one VAD
 * batcher serve every session. stop() is the graceful shutdown: no new
 * sessions, every open one analyses what it received and gets `closed`,
 * all within `shutdownTimeoutMs`.
 */
import crypto from 'node:crypto';
import type { Engine } from '../engine/engine.ts';
import { AerError, isAerError } from '../errors.ts';
import { WINDOW_VALUES } from '../features/recipe.ts';
import { ServiceMetrics } from '../metrics/metrics.ts';
import { Scheduler, type SchedulerOptions } from '../stream/scheduler.ts';
import { Session, type SessionDeps } from '../stream/session.ts';
import { LoopLag } from '../stream/loop-lag.ts';
import type { VadBatcher } from '../stream/vad.ts';
import { Tokens } from './auth.ts';
import { WebDemo } from './web-demo.ts';
import { classifyFile } from './classify.ts';
import { CLOSE, parseStreamQuery, PROTOCOL_VERSION, ProtocolError, type StreamConfig } from './protocol.ts';
import { StreamConnection } from './stream-connection.ts';
import { createTransport } from './transport/load-transport.ts';
import { TRANSPORTS, type HttpReply, type HttpRequest, type StreamHandlers, type StreamSocket, type Transport, type TransportApp, type TransportName, type UpgradeRequest } from './transport/transport.ts';

export interface ServerOptions {
  port: number;
  host: string;
  transport: TransportName;
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
  transport: 'ws',
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

function json(status: number, body: unknown): HttpReply {
  return { status, contentType: 'application/json', body: JSON.stringify(body) };
}

function httpError(status: number, code: string, message: string, hint?: string): HttpReply {
  return json(status, { error: { code, message, ...(hint ? { hint } : {}) } });
}

const ERROR_STATUS: Partial<Record<string, number>> = { io_error: 500, too_large: 413 };

export class AerServer implements TransportApp {
  readonly metrics: ServiceMetrics;
  readonly scheduler: Scheduler;
  private readonly transport: Transport;
  private readonly loopLag = new LoopLag();
  private readonly webDemo = new WebDemo();
  private port = 0;
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
    this.transport = createTransport(this.options.transport, this, { maxMessageBytes: this.options.maxMessageBytes, maxBodyBytes: this.options.maxClassifyBytes });
  }

  get address(): { port: number; transport: TransportName } {
    return { port: this.port, transport: this.transport.name };
  }

  get activeSessions(): number {
    return this.connections.size;
  }

  /** Warm the engine (the first batch pays for lazy initialisation), then listen. */
  async start(): Promise<void> {
    await this.parts.engine.predict(new Float32Array(WINDOW_VALUES), 1);
    this.ready = true;
    this.metrics.ready.set(1);
    this.port = await this.transport.listen(this.options.host, this.options.port);
    this.loopLag.start();
  }

  private sessionDeps(encoding: string): SessionDeps {
    const m = this.metrics;
    return {
      scheduler: this.scheduler,
      vad: this.parts.vad,
      labels: this.parts.engine.labels,
      attentionHopS: this.parts.engine.metadata.attention_hop_s,
      saturated: () => this.loopLag.saturated,
      observer: {
        window: (result, latencyMs, label) => {
          m.windows.inc({ result });
          if (result !== 'shed') m.windowLatency.observe({ result }, latencyMs / 1000);
          if (label) m.labels.inc({ label });
        },
        decodeError: () => m.decodeErrors.inc({ encoding }),
        skipped: (windows) => m.shed.inc({ reason: 'behind' }, windows),
      },
    };
  }

  async http(req: HttpRequest): Promise<HttpReply> {
    const url = req.url;
    try {
      if (req.method === 'GET' && url.pathname === '/healthz') return json(200, { status: 'ok' });
      if (req.method === 'GET' && url.pathname === '/readyz') {
        return this.ready && !this.stopping ? json(200, { status: 'ready', engine: this.parts.engine.detail }) : json(503, { status: this.stopping ? 'stopping' : 'starting' });
      }
      if (req.method === 'GET' && url.pathname === '/metrics') return { status: 200, contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() };
      // The demo page is public; the stream it opens is not (the page asks for a token).
      const page = req.method === 'GET' ? await this.webDemo.reply(url.pathname) : undefined;
      if (page) return page;
      if (!this.parts.tokens.allows(Tokens.presented(req.header('authorization'), url))) return httpError(401, 'unauthorized', 'a valid bearer token is required', 'send Authorization: Bearer <token>');
      if (req.method === 'GET' && url.pathname === '/v1/models') return json(200, { models: [this.describeModel()] });
      if (url.pathname === '/v1/classify') {
        if (req.method !== 'POST') return httpError(405, 'method_not_allowed', 'POST a WAV or Ogg Opus file to /v1/classify');
        return await this.classify(req);
      }
      return httpError(404, 'not_found', `no route ${req.method} ${url.pathname}`, 'see / (the demo), /v1/models, /v1/classify, /v1/stream, /healthz, /readyz, /metrics');
    } catch (error) {
      if (isAerError(error)) return httpError(ERROR_STATUS[error.code] ?? 400, error.code, error.message, error.hint);
      return httpError(500, 'internal_error', (error as Error).message);
    }
  }

  private describeModel(): Record<string, unknown> {
    const m = this.parts.engine.metadata;
    return { id: 'default', dir: this.parts.modelDir, labels: m.labels, variant: m.variant, version: m.version, created: m.created, engine: this.parts.engine.detail, attention_steps: m.attention_steps, attention_hop_s: m.attention_hop_s, feature_recipe: m.feature_recipe.name, metrics: m.metrics };
  }

  private async classify(req: HttpRequest): Promise<HttpReply> {
    const params = new URLSearchParams(req.url.searchParams);
    params.delete('token');
    const fromFile = ['encoding', 'sample_rate', 'channels'].filter((p) => params.has(p));
    if (fromFile.length > 0) return httpError(400, 'invalid_argument', `/v1/classify reads ${fromFile.join(', ')} from the file; leave them out`);
    params.set('encoding', 'pcm_f32le');
    let config: StreamConfig;
    try {
      config = parseStreamQuery(params);
    } catch (error) {
      return httpError(400, 'invalid_argument', (error as Error).message);
    }
    const result = await classifyFile(await req.body(), config, this.sessionDeps('file'), `classify-${++this.classifyCount}`);
    return json(200, result);
  }

  stream(req: UpgradeRequest, socket: StreamSocket): StreamHandlers | undefined {
    const url = req.url;
    // Refusals are WebSocket close codes, which every client can read; an HTTP status before the upgrade is opaque to browsers.
    const refuse = (code: number, reason: string, error: string): undefined => {
      socket.send(JSON.stringify({ type: 'error', code: error, message: reason, fatal: true }));
      socket.close(code, reason.slice(0, 120));
      this.metrics.closed.inc({ reason: error });
      return undefined;
    };
    if (!this.parts.tokens.allows(Tokens.presented(req.header('authorization'), url))) return refuse(CLOSE.policy, 'a valid bearer token is required (Authorization: Bearer or ?token=)', 'unauthorized');
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
    const connection = new StreamConnection(socket, session, {
      idleTimeoutMs: this.options.idleTimeoutMs,
      metrics: this.metrics,
      onEnd: (reason) => {
        this.connections.delete(connection);
        this.metrics.activeSessions.set(this.connections.size);
        this.metrics.closed.inc({ reason });
      },
    });
    this.connections.add(connection);
    this.metrics.opened.inc({ encoding: config.encoding });
    this.metrics.activeSessions.set(this.connections.size);
    socket.send(
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
    return { message: (data, isBinary) => connection.message(data, isBinary), gone: () => connection.gone() };
  }

  /** Graceful shutdown: refuse new sessions, let open ones finish (bounded), then close everything. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.metrics.ready.set(0);
    this.transport.stopListening();
    const deadline = Date.now() + this.options.shutdownTimeoutMs;
    await settledBy(Promise.all([...this.connections].map((c) => c.shutdown())), deadline);
    for (const c of this.connections) c.abort();
    // A stuck engine must not hold the process past the deadline: its batch is abandoned with the process.
    await settledBy(this.scheduler.drain(), deadline);
    await this.transport.closeAll();
    this.loopLag.stop();
  }
}

/** Waits for `work`, but not past `deadline` (epoch ms). */
async function settledBy(work: Promise<unknown>, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
  clearTimeout(timer);
}

export function checkServerOptions(o: ServerOptions): void {
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new AerError('invalid_argument', `--port must be 0-65535, got ${o.port}`);
  if (!TRANSPORTS.includes(o.transport)) throw new AerError('invalid_argument', `--transport must be one of ${TRANSPORTS.join(', ')}, got ${o.transport}`);
  if (!Number.isInteger(o.maxSessions) || o.maxSessions < 1) throw new AerError('invalid_argument', `--max-sessions must be at least 1, got ${o.maxSessions}`);
}
