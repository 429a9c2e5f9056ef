/**
 * A front-end worker thread: the sessions the main thread gives it, from
 * the client's bytes to events (decode, resample, Mel, Silero VAD,
 * smoothing), with their windows sent to the main thread's scheduler and
 * the results coming back. Everything a session does stays on this thread;
 * a failure in one session ends that session alone.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { config as rxjsConfig, type Subscription } from 'rxjs';
import type { StreamConfig } from '../../protocol/stream-config.ts';
import type { ServedBand, ServerMessage } from '../../protocol/wire.ts';
import { classifyInput, classifyStream } from '../classify-file.ts';
import { LoopLag } from '../loop-lag.ts';
import type { WindowJob, WindowOutcome, WindowSink } from '../scheduler.ts';
import { servedBand } from '../served-models.ts';
import { reportingObserver, Session } from '../session.ts';
import { VadBatcher } from '../vad.ts';
import type { ClassifySpec, FromWorker, FromWorkerItem, SessionSpec, ToWorker, WorkerData } from './messages.ts';
import { Outbox, transferable } from './outbox.ts';
import { fromWire, toWire } from './wire-error.ts';

const data = workerData as WorkerData;
const port = parentPort!;
/** This thread's clock on the main thread's: times cross in both directions. */
const now = () => performance.timeOrigin + performance.now() - data.mainTimeOrigin;

interface Open {
  session: Session;
  subscription: Subscription | undefined;
  /** Events not yet sent, in order. */
  messages: ServerMessage[];
}

const sessions = new Map<string, Open>();
/** Sessions whose events or state changed since the last batch. */
const dirty = new Set<string>();
const lag = new LoopLag().start();
let mainSaturated = false;

const outbox = new Outbox<FromWorkerItem>(port, () => {
  for (const id of dirty) report(id);
});

/** The session's events and state, into the batch being gathered. */
function report(id: string): void {
  dirty.delete(id);
  const open = sessions.get(id);
  if (!open) return;
  const { session } = open;
  const messages = open.messages;
  open.messages = [];
  outbox.add({
    type: 'events',
    id,
    messages,
    state: { pending: session.pendingWindows, closedReason: session.closedReason, stats: session.closedMessage('').stats },
  });
}

function changed(id: string): void {
  dirty.add(id);
  outbox.touch();
}

/** Outcomes awaited, by job number (one count for the thread). */
const jobs = new Map<number, (outcome: WindowOutcome) => void>();
let nextJob = 0;

/** Windows go to the main thread's scheduler (the model's, by `band`, for a classified file); each comes back as an outcome. */
class MainThreadScheduler implements WindowSink {
  constructor(
    private readonly session: string,
    private readonly band?: ServedBand,
  ) {}

  submit(job: WindowJob): void {
    const id = nextJob++;
    jobs.set(id, job.done);
    const transfer = transferable(job.features);
    outbox.add(
      {
        type: 'window',
        job: id,
        id: this.session,
        stream: job.stream,
        features: transfer ? job.features : job.features.slice(),
        receivedAt: job.receivedAt ?? now(),
        sheddable: job.sheddable !== false,
        bulk: job.bulk === true,
        ...(this.band ? { band: this.band } : {}),
      },
      transfer,
    );
  }

  cancel(stream: string): void {
    outbox.add({ type: 'cancel', id: this.session, stream });
  }
}

/** A session's metrics, to the main thread. */
const observer = (encoding: string) => reportingObserver(encoding, (observation) => outbox.add({ type: 'observe', observation }));

function open(spec: SessionSpec, vad: VadBatcher | undefined): void {
  const session = new Session(spec.id, spec.config, {
    scheduler: new MainThreadScheduler(spec.id),
    vad,
    labels: spec.labels,
    attentionHopS: spec.attentionHopS,
    windowInput: spec.windowInput,
    melFmin: spec.melFmin,
    bulk: spec.bulk,
    now,
    saturated: () => mainSaturated || lag.saturated,
    observer: observer(spec.config.encoding),
  });
  const entry: Open = { session, subscription: undefined, messages: [] };
  sessions.set(spec.id, entry);
  const ended = (error?: unknown) => {
    report(spec.id);
    sessions.delete(spec.id);
    outbox.add({ type: 'ended', id: spec.id, ...(error === undefined ? {} : { error: toWire(error) }) });
  };
  entry.subscription = session.events$.subscribe({
    next: (m) => {
      entry.messages.push(m);
      changed(spec.id);
    },
    error: (error: unknown) => ended(error),
    complete: () => ended(),
  });
}

/** A file's bytes as the main thread sends them, read as they come; what has been read is reported, for back pressure. */
class Body implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private ended = false;
  private wake: (() => void) | undefined;
  private read = 0;

  constructor(private readonly id: string) {}

  push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk) {
        this.read += chunk.length;
        outbox.add({ type: 'consumed', id: this.id, bytes: this.read });
        yield chunk;
      } else if (this.ended) return;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

/** Files being classified here, with what ends each early (the client gone, the server stopping). */
const files = new Map<string, { body: Body; abort: AbortController }>();

/** A file through the same pipeline as /v1/classify on the main thread: decoded here, its windows to the model of its rate. */
function classify(spec: ClassifySpec, vad: VadBatcher | undefined): void {
  const { config, events, reader } = classifyInput(new URLSearchParams(spec.query));
  const body = new Body(spec.id);
  const abort = new AbortController();
  files.set(spec.id, { body, abort });
  const openSession = (fileConfig: StreamConfig) => {
    const band = servedBand(config.band, fileConfig.sampleRate, spec.models.narrow !== undefined);
    const model = band === 'narrow' ? spec.models.narrow! : spec.models.wide;
    const session = new Session(spec.id, fileConfig, {
      scheduler: new MainThreadScheduler(spec.id, band),
      vad,
      labels: model.labels,
      attentionHopS: model.attentionHopS,
      windowInput: model.windowInput,
      melFmin: model.melFmin,
      bulk: true,
      now,
      observer: observer('file'),
    });
    return { session, band };
  };
  classifyStream(body, { ...config, events }, openSession, abort.signal, reader)
    .then(
      (result) => outbox.add({ type: 'classified', id: spec.id, result }),
      (error: unknown) => outbox.add({ type: 'ended', id: spec.id, error: toWire(error) }),
    )
    .finally(() => files.delete(spec.id));
}

function handle(message: Exclude<ToWorker, { type: 'outcome' }>, vad: VadBatcher | undefined): void {
  if (message.type === 'open') return open(message.spec, vad);
  if (message.type === 'classify') return classify(message.spec, vad);
  if (message.type === 'body') return files.get(message.id)?.body.push(message.bytes);
  if (message.type === 'body_end') return files.get(message.id)?.body.end();
  if (message.type === 'drop' && files.has(message.id)) return files.get(message.id)!.abort.abort();
  const entry = sessions.get(message.id);
  if (!entry) return;
  const { session } = entry;
  switch (message.type) {
    case 'audio':
      mainSaturated = message.mainSaturated;
      // Audio after close_stream never gets here: the main thread's RemoteSession refuses it.
      session.audio(message.bytes, message.at);
      return changed(message.id);
    case 'flush':
      session.flush(message.at);
      return changed(message.id);
    case 'close':
      return session.closeStream(message.reason);
    case 'configure':
      return session.configure(message.changes);
    case 'drop':
      sessions.delete(message.id);
      dirty.delete(message.id);
      entry.subscription?.unsubscribe();
  }
}

async function main(): Promise<void> {
  // An error escaping a subscriber would otherwise be rethrown on a timer and end the thread with all its sessions.
  rxjsConfig.onUnhandledError = (error) =>
    outbox.add({
      type: 'log',
      line: `internal error (unhandled in a stream pipeline): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    });
  let vad: VadBatcher | undefined;
  try {
    vad = data.vad ? await VadBatcher.load({ model: data.vadModel }) : undefined;
  } catch (error) {
    port.postMessage({ type: 'failed', message: `the voice activity model could not be loaded: ${(error as Error).message}` } satisfies FromWorker);
    return;
  }
  port.on('message', (batch: { items: ToWorker[] }) => {
    for (const message of batch.items) {
      if (message.type === 'outcome') {
        const done = jobs.get(message.job);
        jobs.delete(message.job);
        const { outcome } = message;
        done?.(outcome.kind === 'error' ? { kind: 'error', error: fromWire(outcome.error) } : outcome);
        continue;
      }
      try {
        handle(message, vad);
      } catch (error) {
        // This session alone ends; the others on this thread go on.
        const id = 'id' in message ? message.id : 'spec' in message ? message.spec.id : undefined;
        if (id === undefined) throw error;
        const entry = sessions.get(id);
        sessions.delete(id);
        entry?.subscription?.unsubscribe();
        outbox.add({ type: 'ended', id, error: toWire(error) });
      }
    }
  });
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}

await main();
