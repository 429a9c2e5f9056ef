/**
 * One WebSocket stream, whatever the transport: the session's events go
 * out as JSON text; binary messages are audio, text messages control.
 *
 * - A client that sends faster than the service analyses is paused (TCP
 *   pushes back on it) rather than buffered without bound: by the windows
 *   it has in flight, and by the audio waiting for its worker.
 * - A client that does not read its events: past `dropAboveBytes` waiting
 *   in its send buffer, emotion and change events are dropped (a
 *   `slow_consumer` warning says how many); past `closeAboveBytes`, or
 *   after dropping for `closeAfterDroppingMs`, it is closed 1008.
 * - Repeated non-fatal errors and warnings are coalesced (repeat-coalescer.ts).
 * - A client silent for `idleTimeoutMs` is closed as if it had sent close_stream.
 * - Shutdown: reading stops, everything read is analysed and delivered,
 *   then `closed`; past the deadline `closed` says how much was not analysed.
 */
import type { Subscription } from 'rxjs';
import { isAerError } from '../errors.ts';
import type { ServiceMetrics } from '../metrics/metrics.ts';
import { OVERLOAD } from '../stream/overload.ts';
import type { SessionHandle } from '../stream/session-handle.ts';
import { CLOSE, type ServerMessage } from '../protocol/wire.ts';
import { type ParsedControl, parseControl, ProtocolError } from '../protocol/stream-config.ts';
import { mayResume, shouldPause } from './backpressure.ts';
import { isRepeatable, RepeatCoalescer, type Repeatable } from './repeat-coalescer.ts';
import type { StreamSocket } from './transport/transport.ts';

export interface OutgoingLimits {
  /** Bytes waiting to go to the client above which its emotion and change events are dropped. */
  dropAboveBytes: number;
  /** Bytes waiting above which it is closed 1008 slow_consumer. */
  closeAboveBytes: number;
  /** Dropping events this long without the client catching up also closes it. */
  closeAfterDroppingMs: number;
}

export const DEFAULT_OUTGOING_LIMITS: OutgoingLimits = { ...OVERLOAD.outgoing };

export interface ConnectionOptions {
  idleTimeoutMs: number;
  metrics: ServiceMetrics;
  outgoing: OutgoingLimits;
  onEnd: (reason: string) => void;
}

export class StreamConnection {
  private readonly subscription: Subscription;
  private readonly progress: Subscription;
  private readonly coalescer: RepeatCoalescer;
  private idleTimer: NodeJS.Timeout | undefined;
  private paused = false;
  /** Shutdown has begun: reading stops, and once what was read is in, the input closes. */
  private draining = false;
  private inputClosed = false;
  private ended = false;
  private readonly finished: Promise<void>;
  private finish: () => void = () => {};
  /** Slow consumer: when dropping began, events dropped since the last warning, and when that warning went. */
  private droppingSince: number | undefined;
  private dropped = 0;
  private lastDropWarning = -Infinity;

  constructor(
    private readonly socket: StreamSocket,
    readonly session: SessionHandle,
    private readonly options: ConnectionOptions,
  ) {
    this.finished = new Promise((resolve) => (this.finish = resolve));
    this.coalescer = new RepeatCoalescer((m) => this.write(m));
    this.subscription = session.events$.subscribe({
      next: (m) => this.send(m),
      error: (error: unknown) => {
        const fatal = error instanceof ProtocolError ? error : undefined;
        const code = isAerError(error) ? error.code : 'internal_error';
        const hint = isAerError(error) ? error.hint : undefined;
        this.send({ type: 'error', code, message: isAerError(error) ? error.message : 'internal error', fatal: true, ...(hint ? { hint } : {}) });
        // A failed worker is the server's fault (1011), as an unexpected error is; other typed errors are the request's (4400).
        const serverFault = !isAerError(error) || error.code === 'worker_failed';
        this.end(fatal ? fatal.closeCode : serverFault ? CLOSE.internal : CLOSE.badRequest, code, 'error');
      },
      complete: () => this.end(CLOSE.normal, 'closed', 'close_stream'),
    });
    // Audio a worker took in may let a paused client go on before any event is sent.
    this.progress = session.progress$.subscribe(() => this.resumeIfCaughtUp());
    this.touch();
  }

  /** Resolves once the session's `closed` went out (or the socket went away). */
  get done(): Promise<void> {
    return this.finished;
  }

  message(data: Uint8Array, isBinary: boolean): void {
    // After a shutdown closed the input, nothing more is taken (the transport has stopped reading).
    if (this.ended || this.inputClosed) return;
    this.touch();
    if (isBinary) {
      try {
        this.session.audio(data);
      } catch (error) {
        this.send({ type: 'error', code: isAerError(error) ? error.code : 'invalid_argument', message: (error as Error).message, fatal: false });
      }
      this.options.metrics.bytes.inc({ encoding: this.session.config.encoding }, data.length);
      if (!this.paused && shouldPause(this.session)) {
        this.paused = true;
        this.socket.pause();
      }
      return;
    }
    let control: ParsedControl;
    try {
      control = parseControl(Buffer.from(data).toString('utf8'));
    } catch (error) {
      // A bad control message is reported; the stream goes on.
      this.send({ type: 'error', code: 'bad_message', message: (error as Error).message, fatal: false });
      return;
    }
    switch (control.type) {
      case 'keepalive':
        return;
      case 'flush':
        this.session.flush();
        return;
      case 'configure':
        this.session.configure(control.changes);
        return;
      case 'close_stream':
        this.session.closeStream();
    }
  }

  /** The client went away: tear the session down. */
  gone(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopTimers();
    this.subscription.unsubscribe();
    this.options.onEnd('client_gone');
    this.finish();
  }

  /** Graceful shutdown: stop reading, analyse everything read, send `closed`, close. */
  async shutdown(): Promise<void> {
    if (this.ended || this.draining) return this.finished;
    this.draining = true;
    await this.socket.stopReading();
    this.inputClosed = true;
    this.session.closeStream('server_shutdown');
    return this.finished;
  }

  /** Shutdown ran out of time: `closed` with what was not analysed, then close 1001. */
  abort(): void {
    if (this.ended) return;
    this.send(this.session.closedMessage('server_shutdown'));
    this.end(CLOSE.goingAway, 'server shutting down', 'server_shutdown');
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    if (this.options.idleTimeoutMs > 0) this.idleTimer = setTimeout(() => this.session.closeStream('idle_timeout'), this.options.idleTimeoutMs);
  }

  private send(message: ServerMessage): void {
    if (this.ended) return;
    if (isRepeatable(message)) return this.coalescer.offer(message as Repeatable);
    // What was held back goes before the end of the stream.
    if (message.type === 'closed' || message.type === 'error') this.coalescer.flush();
    this.write(message);
  }

  private write(message: ServerMessage): void {
    if (this.ended) return;
    const { outgoing } = this.options;
    const buffered = this.socket.bufferedAmount();
    if (buffered > outgoing.closeAboveBytes) return this.slowConsumer(`${buffered} bytes of events are waiting for it`);
    if ((message.type === 'emotion' || message.type === 'change') && buffered > outgoing.dropAboveBytes) {
      const now = performance.now();
      this.droppingSince ??= now;
      if (now - this.droppingSince > outgoing.closeAfterDroppingMs)
        return this.slowConsumer(`it has not read its events for ${Math.round((now - this.droppingSince) / 1000)} s`);
      this.dropped++;
      this.options.metrics.eventsDropped.inc();
      if (now - this.lastDropWarning >= OVERLOAD.dropWarningIntervalMs) this.dropWarning(now);
      return;
    }
    if (this.droppingSince !== undefined && buffered <= outgoing.dropAboveBytes) {
      this.droppingSince = undefined;
      if (this.dropped > 0) this.dropWarning(performance.now());
    }
    this.socket.send(JSON.stringify(message));
    this.options.metrics.events.inc({ type: message.type });
    this.resumeIfCaughtUp();
  }

  private resumeIfCaughtUp(): void {
    if (this.paused && !this.ended && mayResume(this.session)) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private dropWarning(now: number): void {
    const dropped = this.dropped;
    this.dropped = 0;
    this.lastDropWarning = now;
    this.socket.send(
      JSON.stringify({
        type: 'warning',
        code: 'slow_consumer',
        dropped,
        message: `${dropped} event(s) were dropped: the client is not reading its events as fast as they come`,
      } satisfies ServerMessage),
    );
    this.options.metrics.events.inc({ type: 'warning' });
  }

  private slowConsumer(why: string): void {
    this.socket.send(
      JSON.stringify({ type: 'error', code: 'slow_consumer', message: `closed: ${why}; read the events as they come`, fatal: true } satisfies ServerMessage),
    );
    this.end(CLOSE.policy, 'slow_consumer', 'slow_consumer');
  }

  private stopTimers(): void {
    clearTimeout(this.idleTimer);
    this.coalescer.stop();
    this.progress.unsubscribe();
  }

  private end(code: number, reason: string, why: string): void {
    if (this.ended) return;
    this.ended = true;
    this.stopTimers();
    this.subscription.unsubscribe();
    this.socket.close(code, reason);
    this.options.onEnd(why === 'close_stream' ? this.session.closedReason : why);
    this.finish();
  }
}
