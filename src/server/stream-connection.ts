/**
 * One WebSocket stream, whatever the transport: the session's events go
 * out as JSON text; binary messages are audio, text messages control. The
 * client that sends faster than the service analyses is paused (TCP pushes
 * back on it) rather than buffered without bound; a client silent for
 * `idleTimeoutMs` is closed as if it had sent close_stream.
 */
import type { Subscription } from 'rxjs';
import { isAerError } from '../errors.ts';
import type { ServiceMetrics } from '../metrics/metrics.ts';
import type { Session } from '../stream/session.ts';
import { CLOSE, parseControl, ProtocolError, type ServerMessage } from './protocol.ts';
import type { StreamSocket } from './transport/transport.ts';

/** Windows in flight per channel above which the client is paused, and below which it is resumed. */
const PAUSE_ABOVE = 6;
const RESUME_AT = 2;

export class StreamConnection {
  private readonly subscription: Subscription;
  private idleTimer: NodeJS.Timeout | undefined;
  private paused = false;
  private ended = false;
  private readonly finished: Promise<void>;
  private finish: () => void = () => {};

  constructor(
    private readonly socket: StreamSocket,
    readonly session: Session,
    private readonly options: { idleTimeoutMs: number; metrics: ServiceMetrics; onEnd: (reason: string) => void },
  ) {
    this.finished = new Promise((resolve) => (this.finish = resolve));
    this.subscription = session.events$.subscribe({
      next: (m) => this.send(m),
      error: (error: unknown) => {
        const fatal = error instanceof ProtocolError ? error : undefined;
        const code = isAerError(error) ? error.code : 'internal_error';
        this.send({ type: 'error', code, message: isAerError(error) ? error.message : 'internal error', fatal: true });
        this.end(fatal ? fatal.closeCode : isAerError(error) ? CLOSE.badRequest : CLOSE.internal, code, 'error');
      },
      complete: () => this.end(CLOSE.normal, 'closed', 'close_stream'),
    });
    this.touch();
  }

  /** Resolves once the session's `closed` went out (or the socket went away). */
  get done(): Promise<void> {
    return this.finished;
  }

  message(data: Uint8Array, isBinary: boolean): void {
    if (this.ended) return;
    this.touch();
    if (isBinary) {
      try {
        this.session.audio(data);
      } catch (error) {
        this.send({ type: 'error', code: isAerError(error) ? error.code : 'invalid_argument', message: (error as Error).message, fatal: false });
      }
      this.options.metrics.bytes.inc({ encoding: this.session.config.encoding }, data.length);
      if (!this.paused && this.session.pendingWindows > PAUSE_ABOVE * this.session.config.channels) {
        this.paused = true;
        this.socket.pause();
      }
      return;
    }
    let control;
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
    clearTimeout(this.idleTimer);
    this.subscription.unsubscribe();
    this.options.onEnd('client_gone');
    this.finish();
  }

  /** Graceful shutdown: analyse what was received, send `closed`, close. */
  shutdown(): Promise<void> {
    this.session.closeStream('server_shutdown');
    return this.finished;
  }

  /** Shutdown took too long: close now. */
  abort(): void {
    if (this.ended) return;
    this.end(1001, 'server shutting down', 'server_shutdown');
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    if (this.options.idleTimeoutMs > 0) this.idleTimer = setTimeout(() => this.session.closeStream('idle_timeout'), this.options.idleTimeoutMs);
  }

  private send(message: ServerMessage): void {
    if (this.ended) return;
    this.socket.send(JSON.stringify(message));
    this.options.metrics.events.inc({ type: message.type });
    if (this.paused && this.session.pendingWindows <= RESUME_AT * this.session.config.channels) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private end(code: number, reason: string, why: string): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.idleTimer);
    this.subscription.unsubscribe();
    this.socket.close(code, reason);
    this.options.onEnd(why === 'close_stream' ? this.session.closedReason : why);
    this.finish();
  }
}
