/**
 * One client's stream as an RxJS pipeline (docs/architecture.md, "Streaming"): binary
 * messages are decoded, split by channel, and each channel's windows are
 * analysed concurrently (the shared scheduler batches them) and delivered
 * in order as events. `flush` processes what is buffered; `close_stream`
 * processes everything received, then `closed` follows the last event.
 * Unsubscribing (the socket went away) tears it all down: queued windows
 * are dropped from the scheduler and the VAD.
 */
import { concat, concatMap, defer, from, map, merge, mergeMap, NEVER, Observable, of, share, Subject } from 'rxjs';
import { AerError, isAerError } from '../errors.ts';
import type { WindowInput } from '../features/window-input.ts';
import type { ChangeMessage, ClosedMessage, EmotionMessage, ServerMessage, WarningMessage } from '../protocol/wire.ts';
import type { StreamConfig } from '../protocol/stream-config.ts';
import { ChannelPipeline, type WindowResult } from './channel.ts';
import { createStreamDecoder, type Decoded } from './decode.ts';
import { OVERLOAD } from './overload.ts';
import type { WindowSink } from './scheduler.ts';
import type { Reconfiguration, SessionHandle } from './session-handle.ts';
import { DEFAULT_SMOOTHING } from './smoothing.ts';
import type { VadBatcher } from './vad.ts';

export interface SessionDeps {
  /** Where windows go to the model: the shared scheduler, or a worker's proxy to it. */
  scheduler: WindowSink;
  vad: VadBatcher | undefined;
  labels: string[];
  attentionHopS: number;
  /** How the model takes a window (its aer.json's window_input). */
  windowInput: WindowInput;
  /** The model's lowest Mel band edge in Hz (its aer.json's feature_recipe.fmin); absent: 0. */
  melFmin?: number;
  now?: () => number;
  /** True while the main thread is saturated (see LoopLag): live streams then skip audio they are behind on. */
  saturated?: () => boolean;
  observer?: SessionObserver;
  /** A file being classified rather than a live stream: its windows yield to live ones in the scheduler. */
  bulk?: boolean;
}

/** What a session reports, for metrics. */
export interface SessionObserver {
  window?(result: WindowResult['kind'], latencyMs: number, label?: string): void;
  decodeError?(): void;
  /** Windows a live channel skipped to catch up with real time. */
  skipped?(windows: number): void;
}

/** What a session observed, as one value: what crosses from a worker, and what the server's metrics take. */
export type Observation =
  | { kind: 'window'; result: WindowResult['kind']; latencyMs: number; label?: string; encoding: string }
  | { kind: 'decode_error'; encoding: string }
  | { kind: 'skipped'; windows: number };

/** A session's observer that hands each observation of a stream of `encoding` to `report`. */
export function reportingObserver(encoding: string, report: (o: Observation) => void): SessionObserver {
  return {
    window: (result, latencyMs, label) => report({ kind: 'window', result, latencyMs, label, encoding }),
    decodeError: () => report({ kind: 'decode_error', encoding }),
    skipped: (windows) => report({ kind: 'skipped', windows }),
  };
}

type Input = { kind: 'audio'; bytes: Uint8Array; at: number } | { kind: 'flush'; at: number };

const round = (v: number, digits = 4) => Number(v.toFixed(digits));

export class Session implements SessionHandle {
  readonly id: string;
  readonly config: StreamConfig;
  private readonly input = new Subject<Input>();
  private readonly channels: ChannelPipeline[];
  private readonly now: () => number;
  private readonly stats = { windows: 0, speech_windows: 0, shed_windows: 0, events: 0, bytes: 0, decode_errors: 0 };
  private closing = false;
  private firstAudioAt: number | undefined;
  /** Wall time minus audio time, as it was when the server last kept up: how far behind a live stream is counts from it. */
  private anchorMs: number | undefined;
  private closeReason = 'close_stream';
  /** Per channel, when the audio of each window cut and not yet delivered arrived, oldest first. */
  private readonly inFlight: number[][];
  /** Per channel, the end of the last window delivered (seconds): audio after it has not been analysed yet. */
  private readonly analysedTo: number[];
  /** Overload warnings are sent at most once a second per channel, with the count of windows since. */
  private readonly overload = new Map<number, { count: number; lastSent: number }>();
  /** Events, in order per channel, then `closed` once the input ends. */
  readonly events$: Observable<ServerMessage>;

  constructor(
    id: string,
    config: StreamConfig,
    private readonly deps: SessionDeps,
  ) {
    this.id = id;
    this.config = { ...config };
    this.now = deps.now ?? (() => performance.now());
    const decoder = createStreamDecoder(config);
    this.inFlight = Array.from({ length: config.channels }, () => []);
    this.analysedTo = Array.from({ length: config.channels }, () => 0);
    this.channels = Array.from(
      { length: config.channels },
      (_, index) =>
        new ChannelPipeline(
          {
            index,
            stream: `${id}/${index}`,
            inputRate: decoder.sampleRate,
            hopMs: config.hopMs,
            vad: config.vad,
            smoothing: { ...DEFAULT_SMOOTHING, kind: config.smoothing },
            labels: deps.labels,
            windowInput: deps.windowInput,
            melFmin: deps.melFmin,
            bulk: deps.bulk,
          },
          deps.scheduler,
          deps.vad,
        ),
    );

    const warnings = new Subject<ServerMessage>();
    const problems = (list: string[]) => {
      for (const problem of list) {
        this.stats.decode_errors++;
        deps.observer?.decodeError?.();
        warnings.next({ type: 'warning', code: 'audio_problem', message: problem });
      }
    };
    // Each input becomes the windows it completes, per channel; the end of input flushes every channel once.
    const windows$ = concat(
      this.input.pipe(
        map((item) => {
          if (item.kind === 'flush') return this.channels.map((c) => c.flush(item.at));
          let decoded: Decoded;
          try {
            decoded = decoder.decode(item.bytes);
          } catch (error) {
            // Float PCM with NaNs: that message is dropped, the stream goes on. Anything else ends the session.
            if (!isAerError(error) || error.code !== 'invalid_samples') throw error;
            this.stats.decode_errors++;
            deps.observer?.decodeError?.();
            warnings.next({ type: 'error', code: error.code, message: error.message, fatal: false });
            return this.channels.map(() => []);
          }
          problems(decoded.problems);
          return this.channels.map((c, i) => {
            const windows = c.push(decoded.channels[i], item.at, this.behindMs(c, item.at));
            const skipped = c.takeSkipped();
            if (skipped > 0) {
              deps.observer?.skipped?.(skipped);
              for (const m of this.shed(c.index, skipped, 0)) warnings.next(m);
            }
            return windows;
          });
        }),
      ),
      defer(() => {
        const decoded = decoder.end();
        problems(decoded.problems);
        const at = this.now();
        return of(this.channels.map((c, i) => [...c.push(decoded.channels[i], at), ...c.flush(at)]));
      }),
    ).pipe(share());
    const results$ = merge(
      ...this.channels.map((channel) =>
        windows$.pipe(
          mergeMap((all) => from(all[channel.index])),
          // The analysis starts at once (so windows batch); concatMap only delivers the results in order.
          map((timed) => {
            this.inFlight[channel.index].push(timed.receivedAt);
            return channel.analyse(timed, this.atRealTimePace(channel));
          }),
          concatMap((pending) => from(pending)),
          map((result) => channel.smooth(result)),
          mergeMap((result) => from(this.messages(channel, result))),
        ),
      ),
    );
    this.events$ = new Observable<ServerMessage>((subscriber) => {
      const send = (m: ServerMessage) => {
        this.stats.events++;
        subscriber.next(m);
      };
      const w = warnings.subscribe(send);
      const r = results$.subscribe({
        next: send,
        error: (e: unknown) => subscriber.error(e),
        complete: () => {
          send(this.closedMessage(this.closeReason));
          subscriber.complete();
        },
      });
      return () => {
        w.unsubscribe();
        r.unsubscribe();
        this.teardown();
      };
    });
  }

  /** A binary message from the client. Throws AerError when the stream cannot be of its encoding (the session must end). */
  audio(bytes: Uint8Array, at = this.now()): void {
    if (this.closing) throw new AerError('invalid_argument', 'audio after close_stream');
    this.stats.bytes += bytes.length;
    this.firstAudioAt ??= at;
    this.input.next({ kind: 'audio', bytes, at });
  }

  flush(at = this.now()): void {
    if (!this.closing) this.input.next({ kind: 'flush', at });
  }

  /** No more audio (close_stream, an idle timeout, shutdown): events$ completes after the last events and `closed`. */
  closeStream(reason = 'close_stream'): void {
    if (this.closing) return;
    this.closing = true;
    this.closeReason = reason;
    this.input.complete();
  }

  /** Presentation options a client may change while streaming. */
  configure(changes: Reconfiguration): void {
    if (changes.attention !== undefined) this.config.attention = changes.attention;
    if (changes.smoothing !== undefined) {
      this.config.smoothing = changes.smoothing;
      for (const c of this.channels) c.setSmoothing(changes.smoothing);
    }
  }

  /**
   * A client at real-time pace wants the newest audio analysed, so its stale
   * windows may be shed under overload; one far ahead of real time (a file
   * sent as fast as it goes) wants every window, and is paused instead.
   */
  private atRealTimePace(channel: ChannelPipeline): boolean {
    if (this.firstAudioAt === undefined) return true;
    return channel.audioSeconds - (this.now() - this.firstAudioAt) / 1000 < OVERLOAD.aheadOfRealTimeS;
  }

  /**
   * How far a live channel is behind: the age of its oldest window still in
   * analysis (the VAD or the engine not keeping up), how long its audio
   * waited before the pipeline took it in, or, while the main
   * thread is saturated, how far its audio fell behind real time before it
   * was even read (a client that paused its stream is not behind).
   */
  private behindMs(channel: ChannelPipeline, at: number): number {
    // A client ahead of real time that is paused (back pressure) is not behind.
    if (!this.atRealTimePace(channel)) return 0;
    const oldest = this.inFlight[channel.index][0];
    // The age of the oldest window in analysis, or how long this audio waited to be taken in (a worker behind), whichever is more.
    const analysing = Math.max(oldest === undefined ? 0 : at - oldest, this.now() - at);
    const offset = at - channel.audioSeconds * 1000;
    if (!this.deps.saturated?.() || this.anchorMs === undefined) {
      this.anchorMs = offset;
      return analysing;
    }
    return Math.max(analysing, offset - this.anchorMs);
  }

  /** Audio is taken in as it is given: nothing waits before the pipeline. */
  readonly backlogBytes = 0;
  readonly progress$: Observable<void> = NEVER;

  /** Windows cut but not yet delivered: what a transport watches to push back on a client that sends too fast. */
  get pendingWindows(): number {
    return this.inFlight.reduce((n, queue) => n + queue.length, 0);
  }

  /** Why the input ended: close_stream, idle_timeout, server_shutdown. */
  get closedReason(): string {
    return this.closeReason;
  }

  get audioSeconds(): number {
    return Math.max(0, ...this.channels.map((c) => c.audioSeconds));
  }

  /** Seconds of audio received that no delivered window has covered yet (0 once the stream ended normally). */
  get unanalysedSeconds(): number {
    return Math.max(0, ...this.channels.map((c, i) => c.audioSeconds - this.analysedTo[i]));
  }

  /** `closed`; when the server had to cut the session short, it says how much of the audio received was not analysed. */
  closedMessage(reason: string): ClosedMessage {
    return { type: 'closed', reason, stats: { audio_s: round(this.audioSeconds, 3), unanalysed_s: round(this.unanalysedSeconds, 3), ...this.stats } };
  }

  private teardown(): void {
    for (const c of this.channels) c.close();
  }

  private messages(channel: ChannelPipeline, result: WindowResult): ServerMessage[] {
    const { timed } = result;
    const latency = this.now() - timed.receivedAt;
    this.stats.windows++;
    this.inFlight[channel.index].shift();
    this.analysedTo[channel.index] = Math.max(this.analysedTo[channel.index], timed.endS);
    const base = {
      type: 'emotion' as const,
      channel: channel.index,
      seq: timed.seq,
      start_s: round(timed.startS),
      end_s: round(timed.endS),
      latency_ms: round(latency, 1),
    };
    switch (result.kind) {
      case 'silence':
        this.deps.observer?.window?.('silence', latency);
        return [{ ...base, speech: false, label: null, confidence: null, scores: null, smoothed: null } satisfies EmotionMessage];
      case 'shed':
        return this.shed(channel.index, 1, latency);
      case 'error':
        this.deps.observer?.window?.('error', latency);
        return [
          {
            type: 'error',
            code: isAerError(result.error) ? result.error.code : 'engine_error',
            message: `window ${timed.seq} of channel ${channel.index} could not be analysed: ${result.error.message}`,
            fatal: false,
          },
        ];
      case 'speech': {
        this.stats.speech_windows++;
        const labels = this.deps.labels;
        let best = 0;
        for (let i = 1; i < result.scores.length; i++) if (result.scores[i] > result.scores[best]) best = i;
        this.deps.observer?.window?.('speech', latency, labels[best]);
        const dict = (v: Float32Array) => Object.fromEntries(labels.map((l, i) => [l, round(v[i])]));
        const emotion: EmotionMessage = {
          ...base,
          speech: true,
          label: labels[best],
          confidence: round(result.scores[best]),
          scores: dict(result.scores),
          smoothed: dict(result.smoothed),
          ...(this.config.attention ? { attention: Array.from(result.attention, (v) => round(v)), attention_hop_s: this.deps.attentionHopS } : {}),
        };
        const out: ServerMessage[] = [emotion];
        if (result.change)
          out.push({
            type: 'change',
            channel: channel.index,
            from: result.change.from,
            to: result.change.to,
            at_s: round(result.change.atS),
            confidence: round(result.change.confidence),
          } satisfies ChangeMessage);
        return out;
      }
    }
  }

  /** Windows shed (by the scheduler, or skipped to catch up): counted, and a warning at most once a second. */
  private shed(channel: number, windows: number, latency: number): ServerMessage[] {
    for (let i = 0; i < windows; i++) this.deps.observer?.window?.('shed', latency);
    this.stats.shed_windows += windows;
    const state = this.overload.get(channel) ?? { count: 0, lastSent: -Infinity };
    this.overload.set(channel, state);
    state.count += windows;
    const now = this.now();
    if (now - state.lastSent < OVERLOAD.warningIntervalMs) return [];
    const warning: WarningMessage = {
      type: 'warning',
      code: 'overloaded',
      channel,
      windows: state.count,
      message: `the server is overloaded: ${state.count} window(s) of channel ${channel} were skipped to keep up with the newest audio`,
    };
    state.count = 0;
    state.lastSent = now;
    return [warning];
  }
}
