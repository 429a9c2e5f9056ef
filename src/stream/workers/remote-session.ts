/**
 * The main thread's side of a session that runs on a front-end worker: the
 * same face as a Session (session-handle.ts), so the connection and
 * /v1/classify cannot tell them apart. Audio is copied once into its own
 * buffer and handed over; events come back in the worker's batches with
 * the session's state (pending windows, stats), which this keeps for the
 * questions the main thread asks without waiting.
 */
import { Observable, Subject } from 'rxjs';
import { AerError } from '../../errors.ts';
import type { StreamConfig } from '../../protocol/stream-config.ts';
import type { ClosedMessage, ServerMessage } from '../../protocol/wire.ts';
import type { Reconfiguration, SessionHandle } from '../session-handle.ts';
import type { SessionState, ToWorker } from './messages.ts';
import { owned } from './outbox.ts';

/** How a remote session reaches its worker. */
export interface SessionLink {
  send(message: ToWorker, transfer?: ArrayBuffer): void;
  /** The client went away before the session ended: the worker tears it down, the scheduler drops its windows. */
  drop(id: string): void;
  /** Whether the main thread is saturated now (live streams then skip audio they are behind on). */
  saturated(): boolean;
}

const EMPTY_STATS = { audio_s: 0, unanalysed_s: 0, windows: 0, speech_windows: 0, shed_windows: 0, events: 0, bytes: 0, decode_errors: 0 };

export class RemoteSession implements SessionHandle {
  readonly events$: Observable<ServerMessage>;
  private readonly subject = new Subject<ServerMessage>();
  private state: SessionState = { pending: 0, closedReason: 'close_stream', stats: EMPTY_STATS };
  private closing = false;
  private ended = false;
  /** Audio bytes sent to the worker; its state says how many it has taken in. */
  private sentBytes = 0;
  private readonly progress = new Subject<void>();
  readonly progress$: Observable<void> = this.progress.asObservable();
  readonly config: StreamConfig;

  constructor(
    readonly id: string,
    config: StreamConfig,
    private readonly link: SessionLink,
  ) {
    this.config = { ...config };
    this.events$ = new Observable<ServerMessage>((subscriber) => {
      const subscription = this.subject.subscribe(subscriber);
      return () => {
        subscription.unsubscribe();
        if (this.ended) return;
        this.ended = true;
        this.link.drop(this.id);
      };
    });
  }

  audio(bytes: Uint8Array, at = performance.now()): void {
    if (this.closing) throw new AerError('invalid_argument', 'audio after close_stream');
    const own = owned(bytes);
    this.sentBytes += own.length;
    this.link.send({ type: 'audio', id: this.id, bytes: own, at, mainSaturated: this.link.saturated() }, own.buffer);
  }

  flush(at = performance.now()): void {
    if (!this.closing) this.link.send({ type: 'flush', id: this.id, at });
  }

  closeStream(reason = 'close_stream'): void {
    if (this.closing) return;
    this.closing = true;
    this.state = { ...this.state, closedReason: reason };
    this.link.send({ type: 'close', id: this.id, reason });
  }

  configure(changes: Reconfiguration): void {
    if (changes.attention !== undefined) this.config.attention = changes.attention;
    if (changes.smoothing !== undefined) this.config.smoothing = changes.smoothing;
    this.link.send({ type: 'configure', id: this.id, changes });
  }

  get pendingWindows(): number {
    return this.state.pending;
  }

  get backlogBytes(): number {
    return this.sentBytes - this.state.stats.bytes;
  }

  get closedReason(): string {
    return this.state.closedReason;
  }

  closedMessage(reason: string): ClosedMessage {
    return { type: 'closed', reason, stats: this.state.stats };
  }

  /** @internal events and state from the worker. */
  deliver(messages: ServerMessage[], state: SessionState): void {
    const before = this.backlogBytes;
    this.state = state;
    for (const m of messages) this.subject.next(m);
    if (this.backlogBytes < before) this.progress.next();
  }

  /** @internal the session ended on the worker (completed, or failed with `error`), or its worker died. */
  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    if (error) this.subject.error(error);
    else this.subject.complete();
  }
}
