/**
 * One telephony platform's WebSocket (a media fork): the platform's
 * protocol (telephony/) reads its messages; this carries out its steps.
 * `start` opens the call and its session (one channel per party); audio
 * goes to the session (per-track chunks through the aligner first); the
 * session's events become the call's, published for subscribers elsewhere:
 * nothing goes back to the platform but what its protocol requires.
 *
 * - The platform ending the stream, or its connection going away, ends the
 *   call after everything received is analysed: its subscribers still get
 *   the last windows and `call_ended`.
 * - Malformed messages: a fatal one closes the socket 4400 with the reason
 *   (and ends the call); others are dropped, counted, and reported on the
 *   call as at most one warning a second.
 * - Back pressure as for /v1/stream: a platform sending faster than the
 *   service analyses (a replayed recording) is paused.
 */
import type { Subscription } from 'rxjs';
import type { LiveCall } from '../calls/live-call.ts';
import { isAerError } from '../errors.ts';
import type { ServiceMetrics } from '../metrics/metrics.ts';
import type { CallSource } from '../protocol/calls.ts';
import { CLOSE } from '../protocol/wire.ts';
import type { SessionHandle } from '../stream/session-handle.ts';
import type { ForkStart, ForkStep, MediaForkProtocol } from '../telephony/media-fork.ts';
import { TrackAligner } from '../telephony/track-aligner.ts';
import { shouldPause, mayResume } from './backpressure.ts';
import type { StreamSocket } from './transport/transport.ts';

export interface OpenedCall {
  session: SessionHandle;
  call: LiveCall;
}

export interface CallConnectionOptions {
  source: CallSource;
  idleTimeoutMs: number;
  metrics: ServiceMetrics;
  /** Opens the call and its session for `start` (checking its token); an AerError refuses it. */
  open(start: ForkStart): Promise<OpenedCall>;
  onEnd(reason: string): void;
}

/** Steps that may wait while the call opens (Twilio sends media right after start): 20 s of two tracks. */
const MAX_WAITING_STEPS = 2000;
const WARNING_INTERVAL_MS = 1000;
/** How long a track's audio waits for a missing chunk before the gap is concealed. */
const HOLD_MS = 120;
const MAX_JUMP_MS = 60_000;
const SILENCE = { mulaw: 0xff, alaw: 0xd5 } as const;

export class CallConnection {
  private state: 'waiting' | 'opening' | 'open' | 'ending' | 'ended' = 'waiting';
  private readonly waitingSteps: ForkStep[] = [];
  private opened: OpenedCall | undefined;
  private aligner: TrackAligner | undefined;
  private subscription: Subscription | undefined;
  private progress: Subscription | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private paused = false;
  private endReason = 'stop';
  /** Refused messages not yet reported on the call, and when the last report went. */
  private unreported = 0;
  private lastReport = -Infinity;
  private lastProblem = '';
  private concealedReported = 0;
  /** The call's session delivered its last event (or there is none): what shutdown waits for, with the socket. */
  private sessionDone = false;
  private readonly finished: Promise<void>;
  private finish: () => void = () => {};

  constructor(
    private readonly socket: StreamSocket,
    private readonly protocol: MediaForkProtocol,
    private readonly options: CallConnectionOptions,
  ) {
    this.finished = new Promise((resolve) => (this.finish = resolve));
    this.touch();
  }

  message(data: Uint8Array, isBinary: boolean): void {
    if (this.state === 'ending' || this.state === 'ended') return;
    this.touch();
    const steps = isBinary ? this.protocol.binary(data) : this.protocol.text(Buffer.from(data).toString('utf8'));
    for (const step of steps) this.step(step);
  }

  /** The platform's connection went away: what was received is analysed, then the call ends. */
  gone(): void {
    if (this.state === 'ended' || this.state === 'ending') return;
    this.endInput('connection_lost');
  }

  /** Graceful shutdown: stop reading, analyse what was read, end the call. */
  async shutdown(): Promise<void> {
    if (this.state !== 'ended' && this.state !== 'ending') {
      await this.socket.stopReading();
      this.endInput('server_shutdown');
    }
    return this.finished;
  }

  /** Shutdown ran out of time. */
  abort(): void {
    this.subscription?.unsubscribe();
    this.opened?.call.end('server_shutdown');
    this.sessionDone = true;
    this.close(CLOSE.goingAway, 'server shutting down');
  }

  private step(step: ForkStep): void {
    // While the call opens, everything waits (replies too: the platform's own sequence numbers must go out in order).
    if (this.state === 'opening' && step.kind !== 'problem') {
      if (this.waitingSteps.length >= MAX_WAITING_STEPS) return this.fail('bad_message', 'too much audio arrived before the call could open');
      this.waitingSteps.push(step);
      return;
    }
    switch (step.kind) {
      case 'start':
        return void this.start(step);
      case 'reply':
        return this.socket.send(step.text);
      case 'problem':
        this.options.metrics.calls.rejected.inc({ source: this.options.source, reason: step.code });
        if (step.fatal) return this.fail(step.code, step.message);
        return this.report(step.message);
      case 'stop':
        return this.endInput(step.reason);
      case 'pause':
      case 'resume':
        return;
      case 'track_audio':
        return this.trackAudio(step.track, step.timestampMs, step.bytes);
      case 'audio':
        return this.audio(step.bytes);
    }
  }

  private async start(start: ForkStart): Promise<void> {
    this.state = 'opening';
    let opened: OpenedCall;
    try {
      opened = await this.options.open(start);
    } catch (error) {
      const code = isAerError(error) ? error.code : 'internal_error';
      if (!isAerError(error)) throw error;
      this.options.metrics.calls.rejected.inc({ source: this.options.source, reason: code === 'unauthorized' ? 'unauthorized' : 'bad_message' });
      this.sessionDone = true;
      this.tell(code === 'unauthorized' ? 'unauthorized' : 'error', error.message);
      return this.close(code === 'unauthorized' ? CLOSE.policy : code === 'unavailable' ? CLOSE.tryAgainLater : CLOSE.badRequest, error.message);
    }
    if (this.state !== 'opening') {
      // The platform went away while the call opened: nothing was sent to it yet.
      opened.call.end(this.endReason);
      opened.session.closeStream(this.endReason);
      this.sessionDone = true;
      return this.finishIfDone();
    }
    this.opened = opened;
    this.state = 'open';
    if (start.opened) this.socket.send(start.opened());
    this.options.metrics.calls.started.inc({ source: this.options.source });
    this.aligner = new TrackAligner({
      tracks: start.parties.length,
      sampleRate: start.sampleRate,
      silence: SILENCE[start.encoding],
      holdMs: HOLD_MS,
      maxJumpMs: MAX_JUMP_MS,
    });
    this.subscription = opened.session.events$.subscribe({
      next: (m) => {
        opened.call.message(m);
        if (m.type !== 'closed') this.resumeIfCaughtUp();
      },
      error: (error: unknown) => {
        const code = isAerError(error) ? error.code : 'internal_error';
        opened.call.message({ type: 'error', code, message: isAerError(error) ? error.message : 'internal error', fatal: true });
        opened.call.end('error');
        this.sessionDone = true;
        this.finishIfDone();
        this.close(!isAerError(error) || code === 'worker_failed' ? CLOSE.internal : CLOSE.badRequest, code);
      },
      complete: () => {
        opened.call.end(this.endReason);
        this.sessionDone = true;
        this.close(CLOSE.normal, 'call ended');
        this.finishIfDone();
      },
    });
    this.progress = opened.session.progress$.subscribe(() => this.resumeIfCaughtUp());
    for (const step of this.waitingSteps.splice(0)) this.step(step);
  }

  private trackAudio(track: number, timestampMs: number, bytes: Uint8Array): void {
    if (!this.aligner) return;
    let out: Uint8Array;
    try {
      out = this.aligner.push(track, timestampMs, bytes);
    } catch (error) {
      this.options.metrics.calls.rejected.inc({ source: this.options.source, reason: 'bad_message' });
      return this.report((error as Error).message);
    }
    this.audio(out);
  }

  private audio(bytes: Uint8Array): void {
    const session = this.opened?.session;
    if (!session || bytes.length === 0) return;
    session.audio(bytes);
    this.options.metrics.bytes.inc({ encoding: session.config.encoding }, bytes.length);
    this.noteConcealed();
    if (!this.paused && shouldPause(session)) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private resumeIfCaughtUp(): void {
    if (this.paused && this.opened && this.state === 'open' && mayResume(this.opened.session)) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Concealed audio, counted as it happens. */
  private noteConcealed(): void {
    if (!this.aligner) return;
    const concealed = this.aligner.stats.concealedSamples;
    if (concealed > this.concealedReported) {
      this.options.metrics.calls.concealed.inc({ source: this.options.source }, (concealed - this.concealedReported) / this.opened!.session.config.sampleRate);
      this.concealedReported = concealed;
    }
  }

  /** A refused message, on the call as at most one warning a second (the count says how many). */
  private report(message: string): void {
    this.unreported++;
    this.lastProblem = message;
    const now = performance.now();
    if (!this.opened || now - this.lastReport < WARNING_INTERVAL_MS) return;
    this.opened.call.message({
      type: 'warning',
      code: 'audio_problem',
      message: this.lastProblem,
      ...(this.unreported > 1 ? { count: this.unreported } : {}),
    });
    this.unreported = 0;
    this.lastReport = now;
  }

  /** No more input: what is aligned goes to the session, whose `closed` ends the call. */
  private endInput(reason: string): void {
    this.endReason = reason;
    clearTimeout(this.idleTimer);
    if (this.state === 'waiting') {
      this.sessionDone = true;
      return this.close(reason === 'stop' ? CLOSE.normal : CLOSE.goingAway, 'ended before the call started');
    }
    if (this.state === 'opening') {
      this.state = 'ending';
      return;
    }
    if (this.state !== 'open') return;
    this.state = 'ending';
    if (this.aligner) this.audio(this.aligner.finish());
    this.opened!.session.closeStream(reason);
  }

  /** The platform's own last word before a refusal, where its protocol has one. */
  private tell(reason: 'unauthorized' | 'error', info: string): void {
    const text = this.protocol.refuse?.(reason, info);
    if (text) this.socket.send(text);
  }

  private fail(code: string, message: string): void {
    this.tell('error', message);
    if (this.opened && !this.opened.call.ended) {
      this.opened.call.message({ type: 'error', code, message, fatal: true });
      this.endReason = 'error';
      this.opened.session.closeStream('error');
    }
    this.close(CLOSE.badRequest, message);
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    if (this.options.idleTimeoutMs > 0) this.idleTimer = setTimeout(() => this.endInput('idle_timeout'), this.options.idleTimeoutMs);
  }

  /** Closes the socket; the session (if any) goes on until its last event is published. */
  private close(code: number, reason: string): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    clearTimeout(this.idleTimer);
    this.progress?.unsubscribe();
    this.socket.close(code, reason);
    this.options.onEnd(this.endReason);
    this.finishIfDone();
  }

  private finishIfDone(): void {
    if (this.state === 'ended' && this.sessionDone) this.finish();
  }
}
