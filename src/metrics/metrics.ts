/**
 * The service's Prometheus metrics (prom-client), all prefixed `aer_`, with
 * low-cardinality labels only (engine, encoding, reason, result, label;
 * never a session id), plus Node's default process metrics under their
 * standard names. It implements the scheduler's and the sessions' observer
 * interfaces, so those modules never import prom-client.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ENCODINGS } from '../protocol/wire.ts';
import type { SchedulerObserver } from '../stream/scheduler.ts';
import { CallMetrics } from './call-metrics.ts';

const LATENCY_BUCKETS = [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2, 5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly windowLatency: Histogram<'result'>;
  readonly inference: Histogram<'engine' | 'band'>;
  readonly queueWait: Histogram;
  readonly batchSize: Histogram<'engine' | 'band'>;
  readonly windows: Counter<'result'>;
  readonly events: Counter<'type'>;
  readonly shed: Counter<'reason'>;
  readonly decodeErrors: Counter<'encoding'>;
  readonly bytes: Counter<'encoding'>;
  readonly opened: Counter<'encoding'>;
  readonly closed: Counter<'reason'>;
  readonly labels: Counter<'label'>;
  readonly activeSessions: Gauge;
  readonly queueDepth: Gauge<'band'>;
  readonly ready: Gauge;
  readonly eventsDropped: Counter;
  readonly internalErrors: Counter<'site'>;
  readonly classifyActive: Gauge;
  readonly classifyRequests: Counter<'result'>;
  readonly engineFaults: Counter;
  readonly frontEndWorkers: Gauge;
  readonly frontEndFailures: Counter;
  readonly calls: CallMetrics;

  constructor(readonly engine: string) {
    const r = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.windowLatency = new Histogram({
      name: 'aer_window_latency_seconds',
      help: 'End-to-end latency of a window: the audio that completed it received -> its event sent',
      labelNames: ['result'],
      buckets: LATENCY_BUCKETS,
      registers: r,
    });
    this.inference = new Histogram({
      name: 'aer_inference_seconds',
      help: 'Engine time for one batch, by engine and model (band: wide, or narrow for the telephone-band model)',
      labelNames: ['engine', 'band'],
      buckets: LATENCY_BUCKETS,
      registers: r,
    });
    this.queueWait = new Histogram({
      name: 'aer_queue_wait_seconds',
      help: 'Time a window waited in the scheduler before its batch ran',
      buckets: LATENCY_BUCKETS,
      registers: r,
    });
    this.batchSize = new Histogram({
      name: 'aer_batch_size',
      help: 'Windows per engine batch, by engine and model (band)',
      labelNames: ['engine', 'band'],
      buckets: BATCH_BUCKETS,
      registers: r,
    });
    this.windows = new Counter({
      name: 'aer_windows_total',
      help: 'Windows processed, by result (speech, silence, shed, error)',
      labelNames: ['result'],
      registers: r,
    });
    this.events = new Counter({ name: 'aer_events_sent_total', help: 'Messages sent to clients, by type', labelNames: ['type'], registers: r });
    this.shed = new Counter({
      name: 'aer_windows_shed_total',
      help: 'Windows dropped to keep up under overload, by reason',
      labelNames: ['reason'],
      registers: r,
    });
    this.decodeErrors = new Counter({
      name: 'aer_decode_errors_total',
      help: 'Audio problems (concealed or dropped), by encoding',
      labelNames: ['encoding'],
      registers: r,
    });
    this.bytes = new Counter({ name: 'aer_bytes_received_total', help: 'Audio bytes received, by encoding', labelNames: ['encoding'], registers: r });
    this.opened = new Counter({ name: 'aer_sessions_opened_total', help: 'Stream sessions opened, by encoding', labelNames: ['encoding'], registers: r });
    this.closed = new Counter({ name: 'aer_sessions_closed_total', help: 'Stream sessions closed, by reason', labelNames: ['reason'], registers: r });
    this.labels = new Counter({ name: 'aer_emotion_labels_total', help: 'Speech windows by their top label', labelNames: ['label'], registers: r });
    this.activeSessions = new Gauge({ name: 'aer_active_sessions', help: 'Open stream sessions', registers: r });
    this.queueDepth = new Gauge({
      name: 'aer_queue_depth',
      help: "Windows waiting in a model's scheduler, by model (band)",
      labelNames: ['band'],
      registers: r,
    });
    this.ready = new Gauge({ name: 'aer_ready', help: '1 when the model is loaded, warm and answering sound probabilities', registers: r });
    this.eventsDropped = new Counter({
      name: 'aer_events_dropped_total',
      help: 'Emotion and change events not sent because the client was not reading them (slow consumer)',
      registers: r,
    });
    this.internalErrors = new Counter({
      name: 'aer_internal_errors_total',
      help: 'Unexpected exceptions caught while handling one request or socket (each failed only its own work), by where',
      labelNames: ['site'],
      registers: r,
    });
    this.classifyActive = new Gauge({ name: 'aer_classify_active', help: '/v1/classify requests being analysed', registers: r });
    this.classifyRequests = new Counter({
      name: 'aer_classify_requests_total',
      help: '/v1/classify requests by outcome (ok, bad_request, busy, client_gone, shutting_down, error)',
      labelNames: ['result'],
      registers: r,
    });
    this.engineFaults = new Counter({
      name: 'aer_engine_output_faults_total',
      help: 'Engine batches whose answer held non-finite or non-probability scores',
      registers: r,
    });
    this.frontEndWorkers = new Gauge({
      name: 'aer_frontend_workers',
      help: "Worker threads running sessions' front ends (0: they run on the main thread)",
      registers: r,
    });
    this.frontEndFailures = new Counter({
      name: 'aer_frontend_worker_failures_total',
      help: 'Front-end worker threads that died (their sessions were closed 1011) and were replaced',
      registers: r,
    });
    this.calls = new CallMetrics(this.registry);
    // Series that exist from the start, so dashboards and alerts see zeros rather than nothing.
    for (const result of ['speech', 'silence', 'shed', 'error']) this.windows.inc({ result }, 0);
    for (const reason of ['coalesced', 'stale', 'queue_full', 'behind']) this.shed.inc({ reason }, 0);
    for (const site of ['http', 'upgrade', 'message', 'close']) this.internalErrors.inc({ site }, 0);
    // 'file' is /v1/classify.
    for (const encoding of [...ENCODINGS, 'file']) this.decodeErrors.inc({ encoding }, 0);
  }

  /** The scheduler's observer. */
  /** What the scheduler of one model (by band, run by `engine`) reports. */
  scheduler(band: string, engine = this.engine): SchedulerObserver {
    const labels = { engine, band };
    // Exported from the start: the autoscaler reads it before the first window.
    this.queueDepth.set({ band }, 0);
    return {
      batch: (size, ms) => {
        this.batchSize.observe(labels, size);
        this.inference.observe(labels, ms / 1000);
      },
      queueWait: (ms) => this.queueWait.observe(ms / 1000),
      shed: (count, reason) => this.shed.inc({ reason }, count),
      depth: (n) => this.queueDepth.set({ band }, n),
    };
  }
}
