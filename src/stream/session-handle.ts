/**
 * What the server holds of a session: the pipeline itself (session.ts, on
 * this thread) or its proxy to a front-end worker (workers/remote-session.ts).
 * The connection and /v1/classify use only this, so either can serve them.
 */
import type { Observable } from 'rxjs';
import type { StreamConfig } from '../protocol/stream-config.ts';
import type { ClosedMessage, ServerMessage } from '../protocol/wire.ts';

export type Reconfiguration = Partial<Pick<StreamConfig, 'smoothing' | 'attention'>>;

export interface SessionHandle {
  readonly id: string;
  readonly config: StreamConfig;
  /** Events, in order per channel, then `closed` once the input ends; errors when the session cannot go on. */
  readonly events$: Observable<ServerMessage>;
  /** A binary message from the client, received at `at` (performance.now() on the receiving thread; default now). */
  audio(bytes: Uint8Array, at?: number): void;
  flush(at?: number): void;
  /** No more audio: events$ completes after the last events and `closed`. */
  closeStream(reason?: string): void;
  configure(changes: Reconfiguration): void;
  /** Windows cut but not yet delivered: what pushes back on a client that sends too fast. */
  readonly pendingWindows: number;
  /** Audio bytes received but not yet taken in by the pipeline (waiting for its worker); always 0 on this thread. */
  readonly backlogBytes: number;
  /** Emits when the pipeline took in audio that was waiting (the backlog fell). */
  readonly progress$: Observable<void>;
  /** Why the input ended: close_stream, idle_timeout, server_shutdown. */
  readonly closedReason: string;
  /** `closed` now, saying how much audio received was not analysed. */
  closedMessage(reason: string): ClosedMessage;
}
