/**
 * The service: HTTP and WebSocket on one port. /v1/stream upgrades to a
 * stream session; /healthz, /readyz, /metrics, /v1/models and POST
 * /v1/classify answer over HTTP. Per model (the default, and the
 * telephone-band companion when given), one engine and one scheduler serve
 * every session. Sessions' front ends (decoding to events) run on a pool of
 * worker threads (`workers`), or with `workers: 0` on this thread with one
 * VAD batcher.
 *
 * - The engine is checked on a fixed input before the service is ready;
 *   a model that does not answer probabilities is refused.
 * - An exception while handling one request or socket fails that one
 *   (500, or close 1011), is logged and counted, and nothing else.
 * - stop() is the graceful shutdown: the listener stays open (new streams
 *   get 1013, /readyz 503, classify 503) while every open session analyses
 *   all it read and gets `closed`, and in-flight classify requests finish,
 *   all within `shutdownTimeoutMs`; what is left then is reported, not lost
 *   silently.
 */
import crypto from 'node:crypto';
import { type AlertOptions, DEFAULT_ALERTS } from '../calls/alerts.ts';
import type { CallBus } from '../calls/bus.ts';
import { CallHub } from '../calls/call-hub.ts';
import { MemoryBus } from '../calls/memory-bus.ts';
import { DEFAULT_REDIS_OPTIONS, RedisBus } from '../calls/redis-bus.ts';
import { DEFAULT_WEBHOOK_OPTIONS, type WebhookOptions, type WebhookSpec, Webhooks } from '../calls/webhooks.ts';
import { DEFAULT_HOP_MS } from '../features/hop.ts';
import type { CallSource } from '../protocol/calls.ts';
import type { ForkStart, MediaForkProtocol } from '../telephony/media-fork.ts';
import { AudioHookSession } from '../telephony/audiohook.ts';
import { TwilioMediaStream } from '../telephony/twilio.ts';
import { CallConnection, type OpenedCall } from './call-connection.ts';
import { CALLS_PATH, CallsApi, callPath } from './calls-api.ts';
import { httpError, json } from './json-reply.ts';
import { DEFAULT_SUBSCRIBER_OPTIONS, type SubscriberOptions } from './call-subscribers.ts';
import type { Engine } from '../engine/engine.ts';
import { checkEngine } from '../engine/output-check.ts';
import { AerError, isAerError, type ErrorCode } from '../errors.ts';
import { ServiceMetrics } from '../metrics/metrics.ts';
import { LoopLag } from '../stream/loop-lag.ts';
import type { Scheduler, SchedulerOptions } from '../stream/scheduler.ts';
import { modelSpec, type ServedModel, ServedModels } from '../stream/served-models.ts';
import { type Observation, reportingObserver, Session } from '../stream/session.ts';
import type { SessionHandle } from '../stream/session-handle.ts';
import type { VadBatcher } from '../stream/vad.ts';
import { checkWorkerCount, FrontEndPool } from '../stream/workers/front-end-pool.ts';
import { Tokens } from './auth.ts';
import type { FileReader } from '../audio/file-stream.ts';
import { classifyInput, classifyStream } from '../stream/classify-file.ts';
import { isMultipart, multipartFile } from './multipart.ts';
import { EngineHealth } from './engine-health.ts';
import { MetricsEndpoint } from './metrics-endpoint.ts';
import { describeModel } from './model-description.ts';
import { OriginPolicy } from './origin.ts';
import { CLOSE, PROTOCOL_VERSION, type ServedBand } from '../protocol/wire.ts';
import { parseStreamQuery, ProtocolError, type StreamConfig } from '../protocol/stream-config.ts';
import { DEFAULT_OUTGOING_LIMITS, type OutgoingLimits, StreamConnection } from './stream-connection.ts';
import { listenFailure } from './transport/listen.ts';
import { createTransport } from './transport/load-transport.ts';
import { type BodyLimits, DEFAULT_BODY_LIMITS } from './transport/request-body.ts';
import {
  TRANSPORTS,
  type FaultSite,
  type HttpReply,
  type HttpRequest,
  type StreamHandlers,
  type StreamSocket,
  type Transport,
  type TransportApp,
  type TransportName,
  type UpgradeRequest,
} from './transport/transport.ts';
import { WebDemo } from './web-demo.ts';

export interface ServerOptions {
  port: number;
  host: string;
  transport: TransportName;
  maxSessions: number;
  /** Largest WebSocket message (bytes); larger closes 1009. */
  maxMessageBytes: number;
  /** /v1/classify bodies: size, stall and rate limits. */
  body: BodyLimits;
  /** /v1/classify requests analysed at once; more get 503 with Retry-After. */
  maxClassify: number;
  idleTimeoutMs: number;
  shutdownTimeoutMs: number;
  scheduler: Partial<SchedulerOptions>;
  /** What a client that does not read its events may leave waiting. */
  outgoing: OutgoingLimits;
  /** Origins (besides the service's own) whose pages may use it from a browser; `*` for any. */
  allowedOrigins: string[];
  /** Serve /metrics on this port (of `metricsHost`) instead of the service's. */
  metricsPort: number | undefined;
  metricsHost: string;
  /** Where the service's own lines go (faults, refusals worth an operator's eye). */
  log: (line: string) => void;
  /** Worker threads for sessions' front ends; 0 runs them on the main thread (needs `vad` in the parts). */
  workers: number;
  /** Heap limit of each front-end worker, MiB (Node's default when absent). */
  workerHeapMb: number | undefined;
  /** When a party's label raises an alert on its call. */
  alerts: AlertOptions;
  /** Subscribers to calls' events: heartbeat, stall and buffering limits. */
  subscribers: SubscriberOptions;
  /** Where calls' events go: a redis:// URL for several replicas; in process when absent. */
  bus: string | undefined;
  /** Endpoints the calls' events are POSTed to, and how. */
  webhooks: WebhookSpec[];
  webhook: WebhookOptions;
}

export const DEFAULT_SERVER_OPTIONS: ServerOptions = {
  port: 8080,
  host: '127.0.0.1',
  transport: 'ws',
  maxSessions: 1000,
  maxMessageBytes: 1024 * 1024,
  body: DEFAULT_BODY_LIMITS,
  maxClassify: 2,
  idleTimeoutMs: 30_000,
  shutdownTimeoutMs: 10_000,
  scheduler: {},
  outgoing: DEFAULT_OUTGOING_LIMITS,
  allowedOrigins: [],
  metricsPort: undefined,
  metricsHost: '127.0.0.1',
  log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
  workers: 0,
  workerHeapMb: undefined,
  alerts: DEFAULT_ALERTS,
  subscribers: DEFAULT_SUBSCRIBER_OPTIONS,
  bus: undefined,
  webhooks: [],
  webhook: DEFAULT_WEBHOOK_OPTIONS,
};

/** How long start waits for Redis before starting without it (degraded: calls are tagged, subscribers wait). */
const BUS_CONNECT_MS = 3000;

const STREAM_PATH = '/v1/stream';
/** Telephony platforms' media forks, by path; `credential` is where a platform puts its key on the connection, if not in a bearer token. */
const TELEPHONY: Record<string, { source: CallSource; protocol: () => MediaForkProtocol; credential?: (req: UpgradeRequest) => string | undefined }> = {
  '/v1/telephony/twilio': { source: 'twilio', protocol: () => new TwilioMediaStream() },
  '/v1/telephony/audiohook': { source: 'audiohook', protocol: () => new AudioHookSession(), credential: (req) => req.header('x-api-key') },
};

export interface ServiceParts {
  engine: Engine;
  /** The telephone-band companion, for streams at 8 kHz or less (or band=narrow). */
  narrowband?: Engine;
  /** Voice activity for sessions on the main thread (workers: 0); each worker loads its own. */
  vad?: VadBatcher;
  tokens: Tokens;
}

/** Seconds a client told to come back (busy, shutting down) should wait. */
const RETRY_AFTER_S = 5;

const ERROR_STATUS: Partial<Record<ErrorCode, number>> = {
  io_error: 500,
  too_large: 413,
  timeout: 408,
  unavailable: 503,
  engine_fault: 500,
  worker_failed: 503,
};

type Handler = (req: HttpRequest) => Promise<HttpReply> | HttpReply;

interface Route {
  /** Handlers by method; HEAD is served by GET's. */
  methods: Partial<Record<'GET' | 'POST', Handler>>;
  /** Needs a token when tokens are configured. */
  guarded: boolean;
}

export class AerServer implements TransportApp {
  readonly metrics: ServiceMetrics;
  readonly models: ServedModels;
  private readonly transport: Transport;
  private readonly loopLag = new LoopLag();
  private readonly webDemo = new WebDemo();
  private readonly origins: OriginPolicy;
  /** Per model (by band): whether its engine answers sound probabilities now. */
  private readonly health = new Map<ServedBand, EngineHealth>();
  private readonly routes: Map<string, Route>;
  private metricsEndpoint: MetricsEndpoint | undefined;
  private pool: FrontEndPool | undefined;
  private port = 0;
  private metricsPortBound: number | undefined;
  private readonly connections = new Set<StreamConnection>();
  private readonly callConnections = new Set<CallConnection>();
  readonly bus: CallBus;
  readonly calls: CallHub;
  private readonly callsApi: CallsApi;
  private readonly webhooks: Webhooks | undefined;
  /** Classify requests in flight, each with the abort that ends it at the shutdown deadline. */
  private readonly classifying = new Map<Promise<unknown>, AbortController>();
  private readonly options: ServerOptions;
  private ready = false;
  private stopping = false;
  private classifyCount = 0;

  constructor(
    private readonly parts: ServiceParts,
    options: Partial<ServerOptions> = {},
  ) {
    this.options = { ...DEFAULT_SERVER_OPTIONS, ...options };
    checkWorkerCount(this.options.workers);
    if (this.options.workers === 0 && !parts.vad)
      throw new AerError('invalid_argument', 'sessions on the main thread (workers: 0) need the VAD batcher in the service parts');
    this.origins = new OriginPolicy(this.options.allowedOrigins);
    this.metrics = new ServiceMetrics(parts.engine.name);
    this.models = new ServedModels({ wide: parts.engine, narrow: parts.narrowband }, this.options.scheduler, (band) => {
      const engine = band === 'wide' ? parts.engine : parts.narrowband!;
      const engineHealth = new EngineHealth(engine, () => this.updateReady());
      this.health.set(band, engineHealth);
      return {
        ...this.metrics.scheduler(band, engine.name),
        outputs: (problem) => {
          if (problem) this.metrics.engineFaults.inc();
          engineHealth.observe(problem);
        },
      };
    });
    this.bus = this.options.bus
      ? new RedisBus(this.options.bus, {
          ...DEFAULT_REDIS_OPTIONS,
          onError: (operation) => this.metrics.calls.busErrors.inc({ operation }),
          onUp: (up) => this.metrics.calls.busUp.set(up ? 1 : 0),
        })
      : new MemoryBus();
    if (this.options.bus) this.metrics.calls.busUp.set(0);
    this.calls = new CallHub(this.bus, this.options.alerts, (n) => this.metrics.calls.active.set(n));
    this.callsApi = new CallsApi(this.bus, this.metrics.calls, this.options.subscribers);
    if (this.options.webhooks.length > 0) {
      this.webhooks = new Webhooks(this.options.webhooks, this.options.webhook, this.metrics.calls.webhooks());
      this.calls.listen(this.webhooks);
    }
    this.transport = createTransport(this.options.transport, this, { maxMessageBytes: this.options.maxMessageBytes, body: this.options.body });
    this.routes = new Map<string, Route>([
      ['/healthz', { guarded: false, methods: { GET: () => json(200, { status: 'ok' }) } }],
      ['/readyz', { guarded: false, methods: { GET: () => this.readiness() } }],
      ['/metrics', { guarded: true, methods: { GET: () => this.metricsReply() } }],
      ['/v1/models', { guarded: true, methods: { GET: () => json(200, { models: this.models.all.map((m) => describeModel(m.engine, m.band)) }) } }],
      ['/v1/classify', { guarded: true, methods: { POST: (req) => this.classify(req) } }],
      [CALLS_PATH, { guarded: true, methods: { GET: () => this.callsApi.list() } }],
    ]);
  }

  get address(): { port: number; transport: TransportName; metricsPort: number | undefined } {
    return { port: this.port, transport: this.transport.name, metricsPort: this.metricsPortBound };
  }

  /** The default model's scheduler. */
  get scheduler(): Scheduler {
    return this.models.wide.scheduler;
  }

  get activeSessions(): number {
    return this.connections.size + this.callConnections.size;
  }

  /** Check the engine on a fixed input (which also warms it), then listen. */
  async start(): Promise<void> {
    for (const m of this.models.all) await checkEngine(m.engine);
    if (this.bus instanceof RedisBus)
      await this.bus
        .connected(BUS_CONNECT_MS)
        .catch((error: unknown) => this.options.log(`the calls' bus is degraded, starting without it: ${(error as Error).message}`));
    if (this.options.workers > 0)
      this.pool = await FrontEndPool.start(this.options.workers, {
        vad: true,
        saturated: () => this.loopLag.saturated,
        observe: (o) => this.observe(o),
        log: this.options.log,
        maxHeapMb: this.options.workerHeapMb,
        running: (n) => this.metrics.frontEndWorkers.set(n),
        failed: () => this.metrics.frontEndFailures.inc(),
      });
    try {
      if (this.options.metricsPort !== undefined) {
        this.metricsEndpoint = new MetricsEndpoint(this.metrics.registry);
        const { metricsHost, metricsPort } = this.options;
        this.metricsPortBound = await this.metricsEndpoint
          .listen(metricsHost, metricsPort)
          .catch((error: unknown) => Promise.reject(listenFailure(error, metricsHost, metricsPort, '--metrics-port N (or AER_METRICS_PORT)')));
      }
      const { host, port } = this.options;
      this.port = await this.transport.listen(host, port).catch((error: unknown) => Promise.reject(listenFailure(error, host, port, '--port N (or AER_PORT)')));
    } catch (error) {
      // Nothing started may keep the process alive after a start that failed (the workers would).
      await this.metricsEndpoint?.close();
      await this.pool?.close();
      await this.bus.close();
      throw error;
    }
    this.ready = true;
    this.updateReady();
    this.loopLag.start();
  }

  fault(site: FaultSite, error: unknown): void {
    this.metrics.internalErrors.inc({ site });
    this.options.log(
      `internal error (${site}), that ${site === 'http' ? 'request' : 'socket'} failed alone: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  }

  private updateReady(): void {
    const faulty = [...this.health.values()].some((h) => h.faulty);
    this.metrics.ready.set(this.ready && !this.stopping && !faulty ? 1 : 0);
  }

  /** A session's metrics, from this thread's sessions or a worker's. */
  private observe(o: Observation): void {
    const m = this.metrics;
    if (o.kind === 'window') {
      m.windows.inc({ result: o.result });
      if (o.result !== 'shed') m.windowLatency.observe({ result: o.result }, o.latencyMs / 1000);
      if (o.label) m.labels.inc({ label: o.label });
    } else if (o.kind === 'decode_error') m.decodeErrors.inc({ encoding: o.encoding });
    else m.shed.inc({ reason: 'behind' }, o.windows);
  }

  /** A session served by `model`: on a front-end worker, or on this thread when there are none. */
  private openSession(id: string, config: StreamConfig, model: ServedModel, bulk: boolean): SessionHandle {
    const spec = modelSpec(model.engine);
    if (this.pool) return this.pool.open({ id, config, ...spec, bulk }, model.scheduler);
    return new Session(id, config, {
      scheduler: model.scheduler,
      vad: this.parts.vad,
      ...spec,
      saturated: () => this.loopLag.saturated,
      bulk,
      observer: reportingObserver(bulk ? 'file' : config.encoding, (o) => this.observe(o)),
    });
  }

  async http(req: HttpRequest): Promise<HttpReply> {
    const path = req.url.pathname;
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const route = this.routes.get(path) ?? this.callRoute(path);
    const origin = req.header('origin');
    const api = route?.guarded;
    if (api && !this.origins.allows(origin, req.header('host'))) {
      return httpError(
        403,
        'origin_not_allowed',
        `pages from ${origin} may not use this service`,
        'start the service with --allowed-origins naming that origin',
      );
    }
    const cors: Record<string, string> = api && this.origins.listed(origin) ? { 'access-control-allow-origin': origin!, vary: 'origin' } : {};
    try {
      if (!route) {
        const page = method === 'GET' ? await this.webDemo.reply(path) : undefined;
        if (page) return page;
        return httpError(
          404,
          'not_found',
          `no route ${req.method} ${path}`,
          'see / (the demo), /v1/models, /v1/classify, /v1/stream, /v1/calls, /healthz, /readyz, /metrics',
        );
      }
      if (method === 'OPTIONS' && api) {
        return {
          status: 204,
          contentType: 'text/plain',
          body: '',
          headers: {
            ...cors,
            'access-control-allow-methods': Object.keys(route.methods).join(', '),
            'access-control-allow-headers': 'authorization, content-type',
            'access-control-max-age': '600',
          },
        };
      }
      const handler = route.methods[method as 'GET' | 'POST'];
      if (!handler) {
        const allowed = Object.keys(route.methods).flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]));
        return httpError(405, 'method_not_allowed', `${path} answers ${allowed.join(', ')}, not ${req.method}`, undefined, {
          allow: allowed.join(', '),
          ...cors,
        });
      }
      if (route.guarded && !this.allowedRequest(path, req)) {
        return httpError(401, 'unauthorized', 'a valid bearer token is required', 'send Authorization: Bearer <token>', {
          'www-authenticate': 'Bearer',
          ...cors,
        });
      }
      const reply = await handler(req);
      return { ...reply, headers: { ...reply.headers, ...cors } };
    } catch (error) {
      if (isAerError(error)) return httpError(ERROR_STATUS[error.code] ?? 400, error.code, error.message, error.hint, cors);
      throw error;
    }
  }

  /** /v1/calls/{id} and /v1/calls/{id}/events. */
  private callRoute(path: string): Route | undefined {
    const call = callPath(path);
    if (!call) return undefined;
    return {
      guarded: true,
      methods: { GET: call.events ? (req) => this.callsApi.events(req, call.id) : () => this.callsApi.get(call.id) },
    };
  }

  /** Tokens guard the API; /metrics too, unless it has its own port (where it is not served here). */
  private allowedRequest(path: string, req: HttpRequest): boolean {
    if (path === '/metrics' && this.options.metricsPort !== undefined) return true;
    return this.parts.tokens.allows(Tokens.presented(req.header('authorization'), req.url));
  }

  private async metricsReply(): Promise<HttpReply> {
    if (this.options.metricsPort !== undefined) {
      return httpError(
        404,
        'not_found',
        `/metrics is served on the metrics port (${this.metricsPortBound ?? this.options.metricsPort})`,
        'scrape that port, or start without --metrics-port',
      );
    }
    return { status: 200, contentType: this.metrics.registry.contentType, body: await this.metrics.registry.metrics() };
  }

  private async readiness(): Promise<HttpReply> {
    const unavailable = { 'retry-after': String(RETRY_AFTER_S) };
    if (this.stopping) return json(503, { status: 'stopping' }, unavailable);
    if (!this.ready) return json(503, { status: 'starting' }, unavailable);
    const faults: string[] = [];
    for (const [band, health] of this.health) {
      const fault = await health.fault();
      if (fault) faults.push(this.models.narrow ? `${band}band model: ${fault}` : fault);
    }
    this.updateReady();
    if (faults.length > 0) return json(503, { status: 'degraded', reason: faults.join('; ') }, unavailable);
    // A bus that is away does not stop the tagging: the service stays ready and says so.
    const bus = this.bus.health();
    return json(200, { status: 'ready', engine: this.parts.engine.detail, bus: { name: this.bus.name, ...bus } });
  }

  private async classify(req: HttpRequest): Promise<HttpReply> {
    const retry = { 'retry-after': String(RETRY_AFTER_S) };
    if (this.stopping) {
      this.metrics.classifyRequests.inc({ result: 'shutting_down' });
      return httpError(503, 'shutting_down', 'the server is shutting down', 'send it to another instance', retry);
    }
    if (this.classifying.size >= this.options.maxClassify) {
      this.metrics.classifyRequests.inc({ result: 'busy' });
      return httpError(
        503,
        'busy',
        `${this.classifying.size} files are being analysed, the most this server takes at once`,
        `retry after ${RETRY_AFTER_S} s, or stream the audio over /v1/stream`,
        retry,
      );
    }
    let config: StreamConfig;
    let events: boolean;
    let reader: FileReader;
    try {
      ({ config, events, reader } = classifyInput(req.url.searchParams));
      this.models.for(config.band, config.sampleRate);
    } catch (error) {
      return httpError(400, 'invalid_argument', (error as Error).message);
    }
    const shutdown = new AbortController();
    const signal = AbortSignal.any([req.signal, shutdown.signal]);
    const contentType = req.header('content-type');
    const body = isMultipart(contentType) ? multipartFile(req.body, contentType) : req.body;
    const id = `classify-${++this.classifyCount}`;
    const open = (fileConfig: StreamConfig) => {
      const model = this.models.for(config.band, fileConfig.sampleRate);
      return { session: this.openSession(id, fileConfig, model, true), band: model.band };
    };
    const { wide, narrow } = this.models;
    // On a worker the file is decoded there too; the query travels, the reader is built again from it.
    const work = this.pool
      ? this.pool.classify(
          { id, query: req.url.searchParams.toString(), models: { wide: modelSpec(wide.engine), ...(narrow ? { narrow: modelSpec(narrow.engine) } : {}) } },
          { wide: wide.scheduler, narrow: narrow?.scheduler },
          body,
          signal,
        )
      : classifyStream(body, { ...config, events }, open, signal, reader);
    this.classifying.set(work, shutdown);
    this.metrics.classifyActive.set(this.classifying.size);
    try {
      const result = await work;
      this.metrics.classifyRequests.inc({ result: 'ok' });
      const head = JSON.stringify({
        format: result.format,
        duration_s: result.duration_s,
        channels: result.channels,
        model: { band: result.band },
        warnings: result.warnings,
        summary: result.summary,
      });
      return { status: 200, contentType: 'application/json', body: events ? `${head.slice(0, -1)},"events":[${result.events.join(',')}]}` : head };
    } catch (error) {
      if (req.signal.aborted) {
        this.metrics.classifyRequests.inc({ result: 'client_gone' });
        return httpError(499, 'client_gone', 'the client went away');
      }
      if (shutdown.signal.aborted) {
        this.metrics.classifyRequests.inc({ result: 'shutting_down' });
        return httpError(503, 'shutting_down', 'the server shut down before the file was analysed', 'send it to another instance', retry);
      }
      this.metrics.classifyRequests.inc({ result: isAerError(error) ? 'bad_request' : 'error' });
      throw error;
    } finally {
      this.classifying.delete(work);
      this.metrics.classifyActive.set(this.classifying.size);
    }
  }

  upgrades(path: string): boolean {
    return path === STREAM_PATH || path in TELEPHONY || callPath(path)?.events === true;
  }

  stream(req: UpgradeRequest, socket: StreamSocket): StreamHandlers | undefined {
    const url = req.url;
    // Refusals are WebSocket close codes, which every client can read; an HTTP status before the upgrade is opaque to browsers.
    const refuse = (code: number, reason: string, error: string): undefined => {
      socket.send(JSON.stringify({ type: 'error', code: error, message: reason, fatal: true }));
      socket.close(code, reason);
      this.metrics.closed.inc({ reason: error });
      return undefined;
    };
    if (!this.origins.allows(req.header('origin'), req.header('host')))
      return refuse(CLOSE.policy, 'pages from this origin may not stream to this service (--allowed-origins)', 'origin_not_allowed');
    const telephony = TELEPHONY[url.pathname];
    const authorized = this.parts.tokens.allows(telephony?.credential?.(req) ?? Tokens.presented(req.header('authorization'), url));
    // A telephony platform may carry its token in its own protocol (Twilio's custom parameters): checked at its start.
    if (!authorized && !telephony) return refuse(CLOSE.policy, 'a valid bearer token is required (Authorization: Bearer or ?token=)', 'unauthorized');
    const call = callPath(url.pathname);
    if (call) return this.callsApi.websocket(req, call.id, socket);
    if (this.stopping) return refuse(CLOSE.tryAgainLater, 'the server is shutting down; reconnect to another instance', 'shutting_down');
    if (this.activeSessions >= this.options.maxSessions)
      return refuse(CLOSE.tryAgainLater, `the server is full (${this.options.maxSessions} sessions); try again later`, 'server_full');
    if (telephony) return this.mediaFork(telephony.source, telephony.protocol(), socket, authorized);
    let config: StreamConfig;
    let model: ServedModel;
    try {
      config = parseStreamQuery(url.searchParams);
      model = this.models.for(config.band, config.sampleRate);
    } catch (error) {
      return refuse(error instanceof ProtocolError ? error.closeCode : CLOSE.badRequest, (error as Error).message, 'bad_request');
    }
    const id = crypto.randomUUID();
    let session: SessionHandle;
    try {
      session = this.openSession(id, config, model, false);
    } catch (error) {
      if (!isAerError(error)) throw error;
      if (error.code === 'unavailable') return refuse(CLOSE.tryAgainLater, error.message, 'unavailable');
      return refuse(CLOSE.badRequest, error.message, 'bad_request');
    }
    const connection = new StreamConnection(socket, session, {
      idleTimeoutMs: this.options.idleTimeoutMs,
      metrics: this.metrics,
      outgoing: this.options.outgoing,
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
        config: {
          encoding: config.encoding,
          sample_rate: config.sampleRate,
          channels: config.channels,
          hop_ms: config.hopMs,
          smoothing: config.smoothing,
          vad: config.vad,
          attention: config.attention,
          band: config.band,
        },
        labels: model.engine.labels,
        model: { variant: model.engine.metadata.variant, engine: model.engine.detail, band: model.band },
        attention_hop_s: model.engine.metadata.attention_hop_s,
      }),
    );
    return { message: (data, isBinary) => connection.message(data, isBinary), gone: () => connection.gone() };
  }

  /** A telephony platform's media fork: the call opens at its start message. */
  private mediaFork(source: CallSource, protocol: MediaForkProtocol, socket: StreamSocket, authorized: boolean): StreamHandlers {
    const connection = new CallConnection(socket, protocol, {
      source,
      idleTimeoutMs: this.options.idleTimeoutMs,
      metrics: this.metrics,
      open: (start) => this.openCall(start, authorized),
      onEnd: (reason) => {
        this.callConnections.delete(connection);
        this.metrics.activeSessions.set(this.activeSessions);
        this.metrics.closed.inc({ reason });
      },
    });
    this.callConnections.add(connection);
    this.metrics.activeSessions.set(this.activeSessions);
    return { message: (data, isBinary) => connection.message(data, isBinary), gone: () => connection.gone() };
  }

  private async openCall(start: ForkStart, authorized: boolean): Promise<OpenedCall> {
    if (!authorized && !this.parts.tokens.allows(start.token))
      throw new AerError('unauthorized', 'a valid token is required', {
        hint: 'Twilio: a custom parameter named token (<Parameter name="token" value="..."/>); AudioHook: the integration\'s API key set to a service token; others: Authorization: Bearer',
      });
    if (this.stopping) throw new AerError('unavailable', 'the server is shutting down', { hint: 'send the call to another instance' });
    const config: StreamConfig = {
      encoding: start.encoding,
      sampleRate: start.sampleRate,
      channels: start.parties.length,
      hopMs: DEFAULT_HOP_MS,
      smoothing: 'ema',
      vad: true,
      // Calls' events leave attention weights to the stream API.
      attention: false,
      band: 'auto',
    };
    const model = this.models.for(config.band, config.sampleRate);
    const call = await this.calls.open({ id: start.callId, source: start.source, external: start.external, parties: start.parties });
    try {
      const session = this.openSession(crypto.randomUUID(), config, model, false);
      this.metrics.opened.inc({ encoding: config.encoding });
      return { session, call };
    } catch (error) {
      call.end('error');
      throw error;
    }
  }

  /**
   * Graceful shutdown. The listener stays open while open work finishes
   * (bounded by the deadline): new streams are refused 1013, classify 503,
   * /readyz 503. Then what could not finish is ended, with a report.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.updateReady();
    const deadline = Date.now() + this.options.shutdownTimeoutMs;
    const open = [...this.connections, ...this.callConnections];
    await settledBy(Promise.all([...open.map((c) => c.shutdown()), ...[...this.classifying.keys()].map((w) => w.catch(() => {}))]), deadline);
    for (const c of this.connections) c.abort();
    for (const c of this.callConnections) c.abort();
    this.calls.endAll('server_shutdown');
    await settledBy(this.callsApi.stop(), deadline + 1000);
    await this.webhooks?.close(deadline);
    for (const abort of this.classifying.values()) abort.abort();
    // A stuck engine must not hold the process past the deadline: its batch is abandoned with the process.
    await settledBy(this.models.drain(), deadline);
    // Replies to the classify requests just ended go out before the connections close.
    await new Promise((resolve) => setImmediate(resolve));
    await this.transport.closeAll();
    await this.metricsEndpoint?.close();
    await this.pool?.close();
    await this.bus.close();
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
  if (!Number.isInteger(o.maxClassify) || o.maxClassify < 1) throw new AerError('invalid_argument', `--max-classify must be at least 1, got ${o.maxClassify}`);
  if (o.metricsPort !== undefined && o.metricsPort !== 0 && o.metricsPort === o.port && o.metricsHost === o.host)
    throw new AerError('invalid_argument', `--metrics-port ${o.metricsPort} is the service's own port`, { hint: 'give the metrics their own port, e.g. 9464' });
  new OriginPolicy(o.allowedOrigins);
}
