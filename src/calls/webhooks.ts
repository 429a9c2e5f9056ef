/**
 * Webhooks: the calls' events POSTed as JSON to systems that want them
 * pushed (a CRM, a QA pipeline), each endpoint with its own event filter.
 * The replica that owns a call delivers its events, once each.
 *
 * - Signed: `x-aer-signature: sha256=HEX`, the HMAC-SHA256 with the
 *   webhook secret of `TIMESTAMP.BODY`, where TIMESTAMP is the
 *   `x-aer-timestamp` header (Unix seconds): a receiver checks both, and
 *   refuses old timestamps (replays).
 * - Never in the audio path's way: each endpoint has its own queue and one
 *   delivery at a time (its events arrive in order). A delivery that fails
 *   (network, timeout, 408, 429, 5xx) is retried with exponential backoff;
 *   other answers are final. A queue past its bound drops its oldest
 *   event: a dead endpoint costs bounded memory and delays nobody else.
 */
import crypto from 'node:crypto';
import { AerError } from '../errors.ts';
import { CALL_EVENT_TYPES, type CallEventType } from '../protocol/calls.ts';
import type { StoredEvent } from './bus.ts';
import type { CallListener } from './call-hub.ts';

export interface WebhookSpec {
  url: URL;
  /** Event types delivered; all when absent. */
  types: Set<CallEventType> | undefined;
}

export interface WebhookOptions {
  secret: string | undefined;
  timeoutMs: number;
  /** Attempts per event, the first included. */
  attempts: number;
  /** The first retry's wait; each next doubles, up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Events waiting per endpoint at most. */
  maxQueued: number;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookOptions = {
  secret: undefined,
  timeoutMs: 5000,
  attempts: 6,
  backoffMs: 1000,
  maxBackoffMs: 30_000,
  maxQueued: 10_000,
};

export type DeliveryResult = 'delivered' | 'retried' | 'failed' | 'dropped';

export interface WebhookObserver {
  delivery(webhook: string, result: DeliveryResult, seconds?: number): void;
  queued(webhook: string, n: number): void;
}

/** `summary` names the event that carries it. */
const ALIASES: Record<string, CallEventType> = { summary: 'call_ended' };

/** `URL` or `URL events=change,alert,summary` (a space cannot be in a URL). */
export function parseWebhook(spec: string): WebhookSpec {
  const [target, filter, ...extra] = spec.trim().split(/\s+/);
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new AerError('invalid_argument', `--webhook needs an http(s) URL, got ${JSON.stringify(target)}`, {
      hint: "e.g. --webhook 'https://crm.example.com/aer events=change,alert,summary'",
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AerError('invalid_argument', `--webhook takes http or https URLs, got ${url.protocol}`);
  if (extra.length > 0 || (filter !== undefined && !filter.startsWith('events=')))
    throw new AerError('invalid_argument', `--webhook takes a URL and optionally events=TYPE,...; got ${JSON.stringify(spec)}`);
  if (filter === undefined) return { url, types: undefined };
  const types = new Set<CallEventType>();
  for (const name of filter.slice('events='.length).split(',')) {
    const type = ALIASES[name] ?? name;
    if (!(CALL_EVENT_TYPES as readonly string[]).includes(type))
      throw new AerError('invalid_argument', `--webhook events: ${JSON.stringify(name)} is not an event type`, {
        hint: `one of ${[...CALL_EVENT_TYPES, 'summary'].join(', ')}`,
      });
    types.add(type as CallEventType);
  }
  return { url, types };
}

/** The signature a receiver recomputes: HMAC-SHA256 of `timestamp.body`. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

const RETRIED_STATUS = new Set([408, 425, 429]);

class Endpoint {
  private readonly queue: { callId: string; event: StoredEvent }[] = [];
  private sending = false;
  private readonly stopping = new AbortController();
  private idle: (() => void) | undefined;
  /** The metrics label: the endpoint's host (configured, so few). */
  readonly label: string;

  constructor(
    private readonly spec: WebhookSpec,
    private readonly options: WebhookOptions,
    private readonly observer: WebhookObserver,
  ) {
    this.label = spec.url.host;
  }

  offer(callId: string, event: StoredEvent): void {
    if (this.spec.types && !this.spec.types.has(event.type)) return;
    if (this.stopping.signal.aborted) return;
    this.queue.push({ callId, event });
    if (this.queue.length > this.options.maxQueued) {
      this.queue.shift();
      this.observer.delivery(this.label, 'dropped');
    }
    this.observer.queued(this.label, this.queue.length);
    if (!this.sending) void this.drain();
  }

  /** Resolves when the queue is empty, or at the deadline (what is left is dropped and counted). */
  async close(deadline: number): Promise<void> {
    if (this.queue.length > 0 || this.sending)
      await Promise.race([new Promise<void>((resolve) => (this.idle = resolve)), new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))]);
    this.stopping.abort();
    for (const _ of this.queue.splice(0)) this.observer.delivery(this.label, 'dropped');
    this.observer.queued(this.label, 0);
  }

  private async drain(): Promise<void> {
    this.sending = true;
    while (this.queue.length > 0 && !this.stopping.signal.aborted) {
      const { callId, event } = this.queue.shift()!;
      this.observer.queued(this.label, this.queue.length);
      await this.deliver(callId, event);
    }
    this.sending = false;
    this.idle?.();
  }

  private async deliver(callId: string, event: StoredEvent): Promise<void> {
    const delivery = crypto.randomUUID();
    for (let attempt = 1; attempt <= this.options.attempts && !this.stopping.signal.aborted; attempt++) {
      const started = performance.now();
      const outcome = await this.post(callId, event, delivery, attempt);
      if (outcome === 'delivered' || outcome === 'final') {
        this.observer.delivery(this.label, outcome === 'delivered' ? 'delivered' : 'failed', (performance.now() - started) / 1000);
        return;
      }
      if (attempt === this.options.attempts) break;
      this.observer.delivery(this.label, 'retried');
      const wait = Math.min(this.options.backoffMs * 2 ** (attempt - 1), this.options.maxBackoffMs);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.stopping.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
    this.observer.delivery(this.label, 'failed');
  }

  /** One attempt: delivered, final (an answer not worth retrying), or retry. */
  private async post(callId: string, event: StoredEvent, delivery: string, attempt: number): Promise<'delivered' | 'final' | 'retry'> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'aer-stream-webhooks',
      'x-aer-event': event.type,
      'x-aer-call': callId,
      'x-aer-seq': String(event.seq),
      'x-aer-delivery': delivery,
      'x-aer-attempt': String(attempt),
      'x-aer-timestamp': timestamp,
      ...(this.options.secret ? { 'x-aer-signature': signature(this.options.secret, timestamp, event.json) } : {}),
    };
    try {
      const res = await fetch(this.spec.url, {
        method: 'POST',
        headers,
        body: event.json,
        signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.stopping.signal]),
        redirect: 'manual',
      });
      // The answer's body is not needed; reading it frees the connection.
      await res.arrayBuffer().catch(() => {});
      if (res.status >= 200 && res.status < 300) return 'delivered';
      return res.status >= 500 || RETRIED_STATUS.has(res.status) ? 'retry' : 'final';
    } catch {
      return 'retry';
    }
  }
}

export class Webhooks implements CallListener {
  private readonly endpoints: Endpoint[];

  constructor(specs: WebhookSpec[], options: WebhookOptions, observer: WebhookObserver) {
    this.endpoints = specs.map((s) => new Endpoint(s, options, observer));
  }

  event(callId: string, event: StoredEvent): void {
    for (const e of this.endpoints) e.offer(callId, event);
  }

  /** Shutdown: deliveries in progress and queued get until `deadline` (epoch ms). */
  async close(deadline: number): Promise<void> {
    await Promise.all(this.endpoints.map((e) => e.close(deadline)));
  }
}
