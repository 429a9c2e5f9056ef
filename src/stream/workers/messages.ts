/**
 * What the main thread and a front-end worker say to each other
 * (docs/architecture.md, "Front-end workers"). Times are on the main
 * thread's performance.now() clock: the worker converts its own.
 */
import type { WindowInput } from '../../features/window-input.ts';
import type { StreamConfig } from '../../protocol/stream-config.ts';
import type { ClosedStats, ServerMessage } from '../../protocol/wire.ts';
import type { WindowOutcome } from '../scheduler.ts';
import type { Observation } from '../session.ts';
import type { Reconfiguration } from '../session-handle.ts';
import type { ClassifyResult } from '../classify-file.ts';
import type { ServedBand } from '../../protocol/wire.ts';

/** What a model answers in: the worker needs it to open a session the model will hear. */
export interface ModelSpec {
  labels: string[];
  attentionHopS: number;
  windowInput: WindowInput;
  melFmin: number;
}

/** A file to classify on a worker: its query (as /v1/classify took it), and the models the server has. */
export interface ClassifySpec {
  id: string;
  query: string;
  models: { wide: ModelSpec; narrow?: ModelSpec };
}

/** A session as the worker opens it. */
export interface SessionSpec {
  id: string;
  config: StreamConfig;
  labels: string[];
  attentionHopS: number;
  windowInput: WindowInput;
  melFmin: number;
  /** A file being classified: its windows yield to live ones. */
  bulk: boolean;
}

export interface WorkerData {
  entry: string;
  /** The main thread's performance.timeOrigin: the worker's clock is shifted onto the main thread's. */
  mainTimeOrigin: number;
  /** Load Silero (false only where no session asks for voice activity, e.g. tests of the plumbing). */
  vad: boolean;
  /** The Silero model file, when not the shipped one. */
  vadModel?: string;
}

export type ToWorker =
  | { type: 'open'; spec: SessionSpec }
  | { type: 'classify'; spec: ClassifySpec }
  /** The next bytes of a file being classified, and its end. */
  | { type: 'body'; id: string; bytes: Uint8Array }
  | { type: 'body_end'; id: string }
  | { type: 'audio'; id: string; bytes: Uint8Array; at: number; mainSaturated: boolean }
  | { type: 'flush'; id: string; at: number }
  | { type: 'close'; id: string; reason: string }
  | { type: 'configure'; id: string; changes: Reconfiguration }
  /** The connection went away: tear the session down (its queued windows are cancelled). */
  | { type: 'drop'; id: string }
  | { type: 'outcome'; job: number; outcome: OutcomeOnWire };

/** A window's outcome, its error as a WireError. */
export type OutcomeOnWire = Exclude<WindowOutcome, { kind: 'error' }> | { kind: 'error'; error: WireError };

/** What the main thread reads of a session without asking. */
export interface SessionState {
  pending: number;
  closedReason: string;
  stats: ClosedStats;
}

/** An error as it crosses: enough to rebuild the AerError or ProtocolError it was. */
export interface WireError {
  message: string;
  code?: string;
  hint?: string;
  closeCode?: number;
}

export type FromWorkerItem =
  | { type: 'events'; id: string; messages: ServerMessage[]; state: SessionState }
  | { type: 'ended'; id: string; error?: WireError }
  | {
      type: 'window';
      job: number;
      id: string;
      stream: string;
      features: Float32Array;
      receivedAt: number;
      sheddable: boolean;
      bulk: boolean;
      /** A classified file's model, picked by the worker from the file's rate. */
      band?: ServedBand;
    }
  /** Bytes of a file the worker has read so far (for back pressure), and its answer. */
  | { type: 'consumed'; id: string; bytes: number }
  | { type: 'classified'; id: string; result: ClassifyResult }
  | { type: 'cancel'; id: string; stream: string }
  | { type: 'observe'; observation: Observation }
  /** A line for the service's log. */
  | { type: 'log'; line: string };

export type FromWorker = { type: 'ready' } | { type: 'failed'; message: string } | { type: 'batch'; items: FromWorkerItem[] };
