/**
 * POST /v1/classify: a WAV or Ogg Opus file (or raw PCM or G.711 bytes
 * whose format the query names) through the same session
 * pipeline a stream uses (VAD, windows every hop, batched model, smoothing),
 * answered with every window's result at once.
 *
 * The body is taken from the transport as its windows are analysed (what
 * arrives ahead waits on disk: spooled-body.ts) and decoded a second at a
 * time, so memory holds a few seconds of audio and the events, never the
 * file. Its windows are bulk work: the scheduler serves live streams
 * first. When the client goes away (`signal`), the work stops and the
 * queued windows are dropped.
 */
import { merge, Subject } from 'rxjs';
import { AudioFileStream, type FileReader } from '../audio/file-stream.ts';
import { AerError } from '../errors.ts';
import { OVERLOAD } from './overload.ts';
import type { SessionHandle } from './session-handle.ts';
import { type ChannelSummary, StreamSummary } from './summary.ts';
import { quoted } from '../protocol/client-text.ts';
import { PCM_ENCODINGS, type PcmEncoding } from '../audio/pcm.ts';
import { RawFileStream } from '../audio/raw-file-stream.ts';
import type { ServedBand, ServerMessage } from '../protocol/wire.ts';
import { MAX_STREAM_CHANNELS, parseStreamQuery, ProtocolError, type StreamConfig } from '../protocol/stream-config.ts';

/** Decoded audio goes to the session at most this much at a time, yielding between, so live streams' work interleaves. */
const FEED_SECONDS = 1;

export interface ClassifyResult {
  format: string;
  duration_s: number;
  channels: number;
  warnings: string[];
  /** The model that heard it: wide (the default), or narrow (the telephone-band companion). */
  band: ServedBand;
  /** Per channel: speech time, time per label, the dominant label, changes. */
  summary: ChannelSummary[];
  /** Every event, already serialised (JSON text), in order; empty when they were not asked for. */
  events: string[];
}

export interface ClassifyOptions extends Pick<StreamConfig, 'hopMs' | 'vad' | 'attention' | 'smoothing' | 'band'> {
  /** Keep every event for the answer (else only the summary). */
  events: boolean;
}

/** Interleaved float32 bytes of planar channels. */
function interleave(channels: Float32Array[], from: number, to: number): Uint8Array {
  const n = channels.length;
  const out = new Float32Array((to - from) * n);
  for (let f = from; f < to; f++) for (let c = 0; c < n; c++) out[(f - from) * n + c] = channels[c][f];
  return new Uint8Array(out.buffer);
}

/**
 * What a classify request's query says: the analysis options, and how to
 * read the body: a file that names its own format (no encoding), or raw
 * PCM or G.711 whose encoding, sample_rate (default by encoding) and
 * channels the query names.
 */
export function classifyInput(query: URLSearchParams): { config: StreamConfig; events: boolean; reader: FileReader } {
  const params = new URLSearchParams(query);
  params.delete('token');
  const events = params.get('events') ?? 'true';
  if (events !== 'true' && events !== 'false') throw new ProtocolError(`events must be true or false, got ${quoted(events)}`);
  params.delete('events');
  const encoding = params.get('encoding');
  if (encoding === null) {
    const fromFile = ['sample_rate', 'channels'].filter((p) => params.has(p));
    if (fromFile.length > 0)
      throw new ProtocolError(
        `/v1/classify reads ${fromFile.join(', ')} from the file; leave them out, or name the raw encoding the body holds (encoding=${PCM_ENCODINGS.join(', ')})`,
      );
    params.set('encoding', 'pcm_f32le');
    return { config: parseStreamQuery(params), events: events === 'true', reader: new AudioFileStream() };
  }
  if (!(PCM_ENCODINGS as readonly string[]).includes(encoding)) {
    throw new ProtocolError(
      `/v1/classify's encoding names a raw body (${PCM_ENCODINGS.join(', ')}); a WAV or Ogg Opus file says its own format, so leave encoding out`,
    );
  }
  const config = parseStreamQuery(params);
  return { config, events: events === 'true', reader: new RawFileStream(encoding as PcmEncoding, config.sampleRate, config.channels) };
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function classifyStream(
  body: AsyncIterable<Uint8Array>,
  options: ClassifyOptions,
  /** A bulk session for the file (its rate picks the model); a file says its rate only once its header is read. */
  openSession: (config: StreamConfig) => { session: SessionHandle; band: ServedBand },
  signal: AbortSignal,
  reader: FileReader = new AudioFileStream(),
): Promise<ClassifyResult> {
  const events: string[] = [];
  let summary: StreamSummary | undefined;
  let session: SessionHandle | undefined;
  let band: ServedBand = 'wide';
  let frames = 0;
  let failure: unknown;
  let completed: () => void = () => {};
  const done = new Promise<void>((resolve) => (completed = resolve));
  /** Wakes the reader when windows were delivered (or the session ended). */
  const delivered = new Subject<void>();
  const subscriptions: { unsubscribe(): void }[] = [];

  const open = (sampleRate: number, channels: number): SessionHandle => {
    if (channels > MAX_STREAM_CHANNELS) {
      throw new AerError('too_many_channels', `the file has ${channels} channels; /v1/classify analyses up to ${MAX_STREAM_CHANNELS}`, {
        hint: 'split or mix the channels first, e.g. ffmpeg -i in.wav -ac 2 out.wav',
      });
    }
    const { events: keep, ...analysis } = options;
    const opened = openSession({ ...analysis, encoding: 'pcm_f32le', sampleRate, channels });
    band = opened.band;
    const s = opened.session;
    const totals = new StreamSummary(channels);
    summary = totals;
    subscriptions.push(
      s.events$.subscribe({
        next: (m: ServerMessage) => {
          totals.add(m);
          if (keep) events.push(JSON.stringify(m));
          delivered.next();
        },
        error: (e: unknown) => {
          failure = e;
          completed();
          delivered.next();
        },
        complete: () => {
          completed();
          delivered.next();
        },
      }),
    );
    return s;
  };

  const feed = async (channels: Float32Array[]): Promise<void> => {
    const length = channels[0]?.length ?? 0;
    if (length === 0) return;
    const format = reader.format!;
    session ??= open(format.sampleRate, format.channels);
    const step = Math.max(1, Math.round(format.sampleRate * FEED_SECONDS));
    for (let i = 0; i < length; i += step) {
      session.audio(interleave(channels, i, Math.min(length, i + step)));
      frames += Math.min(length, i + step) - i;
      await yieldToLoop();
      await backPressure(session);
      if (signal.aborted) throw gone();
      if (failure) throw failure;
    }
  };

  const backPressure = async (s: SessionHandle): Promise<void> => {
    const channels = s.config.channels;
    const limits = OVERLOAD.classify;
    if (s.pendingWindows <= limits.pauseAboveWindows * channels && s.backlogBytes <= limits.pauseAboveBytes) return;
    await new Promise<void>((resolve) => {
      const wake = () => {
        sub.unsubscribe();
        signal.removeEventListener('abort', wake);
        resolve();
      };
      const sub = merge(delivered, s.progress$).subscribe(() => {
        if ((s.pendingWindows <= limits.resumeAtWindows * channels && s.backlogBytes <= limits.resumeAtBytes) || failure) wake();
      });
      signal.addEventListener('abort', wake, { once: true });
    });
  };

  const chunks = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await abortable(chunks.next(), signal);
      if (next.done) break;
      await feed(reader.push(next.value));
    }
    const last = reader.end();
    await feed(last.channels);
    const format = reader.format!;
    session ??= open(format.sampleRate, format.channels);
    session.closeStream();
    await Promise.race([done, new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))]);
    if (signal.aborted) throw gone();
    if (failure) throw failure;
    return {
      format: format.format,
      duration_s: frames / format.sampleRate,
      channels: format.channels,
      band,
      warnings: last.warnings,
      summary: summary!.result(),
      events,
    };
  } finally {
    // Tears the session down when it did not finish (an error, the client gone): its queued windows leave the scheduler.
    for (const s of subscriptions) s.unsubscribe();
    delivered.complete();
    void chunks.return?.().catch(() => {});
  }
}

/** `promise`, or a rejection as soon as `signal` aborts (a body chunk that may never come). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(gone());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(gone());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export function gone(): AerError {
  return new AerError('io_error', 'the client went away before the answer');
}
