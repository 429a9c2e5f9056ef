/**
 * The calls path's metrics: telephony media forks in, subscribers and the
 * bus out. Same registry and rules as metrics.ts (low-cardinality labels,
 * never a call id).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WebhookObserver } from '../calls/webhooks.ts';
import { CALL_SOURCES } from '../protocol/calls.ts';
import { PROBLEM_CODES } from '../telephony/media-fork.ts';

export class CallMetrics {
  readonly active: Gauge;
  readonly started: Counter<'source'>;
  readonly rejected: Counter<'source' | 'reason'>;
  readonly concealed: Counter<'source'>;
  readonly subscribers: Gauge<'kind'>;
  readonly delivery: Histogram<'kind'>;
  readonly busUp: Gauge;
  readonly busErrors: Counter<'operation'>;
  readonly webhookDeliveries: Counter<'webhook' | 'result'>;
  readonly webhookQueued: Gauge<'webhook'>;
  readonly webhookSeconds: Histogram<'webhook'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.active = new Gauge({ name: 'aer_calls_active', help: 'Calls this replica is analysing (telephony media forks)', registers });
    this.started = new Counter({ name: 'aer_calls_started_total', help: 'Calls opened, by platform', labelNames: ['source'], registers });
    this.rejected = new Counter({
      name: 'aer_telephony_rejected_total',
      help: 'Platform messages refused, by platform and reason (bad_message, out_of_order, unknown_track, bad_audio, unsupported_media, unauthorized)',
      labelNames: ['source', 'reason'],
      registers,
    });
    this.concealed = new Counter({
      name: 'aer_telephony_concealed_seconds_total',
      help: 'Seconds of a track concealed with silence (chunks lost, late or not sent), by platform',
      labelNames: ['source'],
      registers,
    });
    this.subscribers = new Gauge({
      name: 'aer_call_subscribers',
      help: "Open subscriptions to calls' events, by kind (sse, ws)",
      labelNames: ['kind'],
      registers,
    });
    this.delivery = new Histogram({
      name: 'aer_call_event_delivery_seconds',
      help: 'From an event published to it written to a subscriber, by kind (sse, ws); replayed events are not counted',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.busUp = new Gauge({ name: 'aer_bus_up', help: "1 when the calls' event bus is reachable (always 1 in process)", registers });
    this.busErrors = new Counter({ name: 'aer_bus_errors_total', help: 'Bus operations that failed, by operation', labelNames: ['operation'], registers });
    this.webhookDeliveries = new Counter({
      name: 'aer_webhook_deliveries_total',
      help: 'Webhook deliveries by endpoint host and result (delivered, retried: an attempt failed and will be repeated, failed: given up or refused, dropped: the queue was full or the server stopped)',
      labelNames: ['webhook', 'result'],
      registers,
    });
    this.webhookQueued = new Gauge({ name: 'aer_webhook_queued', help: 'Events waiting for delivery, by endpoint host', labelNames: ['webhook'], registers });
    this.webhookSeconds = new Histogram({
      name: 'aer_webhook_request_seconds',
      help: 'Time of a webhook request that got an answer, by endpoint host',
      labelNames: ['webhook'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    for (const source of CALL_SOURCES) this.started.inc({ source }, 0);
    for (const kind of ['sse', 'ws']) {
      this.subscribers.set({ kind }, 0);
      this.delivery.zero({ kind });
    }
    for (const source of CALL_SOURCES) for (const reason of PROBLEM_CODES) this.rejected.inc({ source, reason }, 0);
    this.busUp.set(1);
  }

  /** What the webhooks report. */
  webhooks(): WebhookObserver {
    return {
      delivery: (webhook, result, seconds) => {
        this.webhookDeliveries.inc({ webhook, result });
        if (seconds !== undefined) this.webhookSeconds.observe({ webhook }, seconds);
      },
      queued: (webhook, n) => this.webhookQueued.set({ webhook }, n),
    };
  }
}
