/**
 * A stream session: connect(url, options) opens a WebSocket to the
 * service's /v1/stream, resolves once the server is ready, and gives
 * send / flush / configure / close, the server's messages as events and as
 * RxJS Observables, backpressure, keepalive, and reconnection with backoff
 * that reports which audio was not analysed. Times in events are on one
 * continuous clock: the audio given to send() since connect, across
 * reconnections.
 */
import { filter, map, type Observable, Subject } from 'rxjs';
import { type AudioFormat, type AudioInput, bytesPerFrame, clockRate, encodeInput, framesOf } from './audio.ts';
import { AerClientError } from './errors.ts';
import {
  type Band,
  type ChangeMessage,
  CLOSE,
  type ClosedMessage,
  type ControlMessage,
  defaultSampleRate,
  type EmotionMessage,
  type Encoding,
  type ErrorMessage,
  type ReadyMessage,
  type ServerMessage,
  type WarningMessage,
} from './protocol.ts';
import { defaultSocketFactory, OPEN, type SocketFactory, type SocketLike } from './socket.ts';

/** The server's per-message limit (1 MiB); PCM is cut below it at frame boundaries. */
const MAX_MESSAGE_BYTES = 1 << 20;

export interface ReconnectOptions {
  /** Attempts before giving up (default 5). */
  attempts?: number;
  /** Delay before the first attempt, doubled each time (default 500 ms). */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export interface ConnectOptions {
  encoding?: Encoding;
  /** Rate of the PCM sent; for Opus, the rate encoded at (default 16000 for PCM, 8000 for G.711, 48000 for Opus). */
  sampleRate?: number;
  channels?: number;
  hopMs?: number;
  smoothing?: 'ema' | 'none';
  vad?: boolean;
  attention?: boolean;
  /** Which model hears the stream (default auto: the telephone-band model for audio at 8 kHz or less, when the server has one). */
  band?: Band;
  /** Bearer token: an Authorization header in Node, `?token=` in browsers (which cannot set headers). */
  token?: string;
  /** Reconnect after a lost connection or a server shutdown (default on; false to fail instead). */
  reconnect?: ReconnectOptions | false;
  /** Send a keepalive after this long without audio (default 10 000 ms; 0: never). The server closes idle sessions after 30 s. */
  keepaliveMs?: number;
  /** send() waits while more than this many bytes are buffered in the socket (default 1 MiB). */
  highWaterMark?: number;
  /** How long connect waits for the server's `ready` (default 10 000 ms). */
  timeoutMs?: number;
  /** Another WebSocket implementation (tests, proxies). */
  socketFactory?: SocketFactory;
}

/** Audio not analysed because the connection was lost, on the session's clock. */
export interface LostAudio {
  from_s: number;
  to_s: number;
  seconds: number;
  /** What broke the connection. */
  reason: string;
}

export interface CloseResult extends ClosedMessage {
  /** Every stretch of audio lost to reconnections. */
  lost: LostAudio[];
  reconnects: number;
}

export interface SessionEvents {
  ready: ReadyMessage;
  emotion: EmotionMessage;
  change: ChangeMessage;
  warning: WarningMessage;
  /** A non-fatal error the server reported (e.g. a malformed control message); the stream goes on. */
  error: ErrorMessage;
  reconnecting: { attempt: number; delayMs: number; cause: AerClientError };
  reconnected: { attempt: number; lost: LostAudio; session_id: string };
  closed: CloseResult;
  /** The session ended abnormally (also the rejection of close()). */
  failed: AerClientError;
}

type Event = { [K in keyof SessionEvents]: { type: K; payload: SessionEvents[K] } }[keyof SessionEvents];

function closeError(code: number, reason: string, detail: string): AerClientError {
  const said = reason ? `: ${reason}` : '';
  switch (code) {
    case CLOSE.policy:
      return new AerClientError('unauthorized', `the server refused the stream (1008${said}); check the token (options.token)`, code);
    case CLOSE.tryAgainLater:
      return new AerClientError('server_full', `the server cannot take another stream now (1013${said}); retry later or connect to another instance`, code);
    case CLOSE.badRequest:
      return new AerClientError('bad_request', `the server refused the stream${said}`, code);
    case CLOSE.tooBig:
      return new AerClientError('too_large', `a message was over the server's 1 MiB limit (1009${said})`, code);
    case CLOSE.internal:
      return new AerClientError('server_error', `the server failed (1011${said})`, code);
    default:
      return new AerClientError('connection_lost', `the connection closed (${code}${said}${detail ? `; ${detail}` : ''})`, code);
  }
}

const RETRYABLE = new Set(['connection_lost', 'connection_failed', 'server_full', 'server_error', 'timeout']);

export class AerSession {
  private socket!: SocketLike;
  private state: 'open' | 'reconnecting' | 'closing' | 'closed' | 'failed' = 'open';
  private readonly events = new Subject<Event>();
  private readonly format: AudioFormat;
  /** Frames of audio (at clockRate) given to send() since connect: the session's clock. */
  private sentFrames = 0;
  /** Where the current connection's clock starts on the session's. */
  private offsetS = 0;
  private readonly analysedEndS = new Map<number, number>();
  private readonly seqBase = new Map<number, number>();
  private readonly lastSeq = new Map<number, number>();
  private readonly lost: LostAudio[] = [];
  private reconnects = 0;
  private lastSentAt = Date.now();
  private keepalive: ReturnType<typeof setInterval> | undefined;
  private closing?: { resolve(r: CloseResult): void; reject(e: AerClientError): void };
  private closedMessage?: ClosedMessage;
  /** A fatal `error` the server sent before closing: what the close means. */
  private fatal?: ErrorMessage;
  /** The server's `ready` for the current connection. */
  ready!: ReadyMessage;

  /** Every server message but `closed` (the `closed` event and close() give it, with the audio lost), times on the session's clock. */
  readonly messages$: Observable<ServerMessage>;
  readonly emotions$: Observable<EmotionMessage>;
  readonly changes$: Observable<ChangeMessage>;
  readonly warnings$: Observable<WarningMessage>;

  private constructor(
    private readonly url: string,
    private readonly options: ConnectOptions,
    private readonly factory: { create: SocketFactory; headers: boolean },
  ) {
    const encoding = options.encoding ?? 'pcm_s16le';
    this.format = { encoding, sampleRate: options.sampleRate ?? defaultSampleRate(encoding), channels: options.channels ?? 1 };
    const payloads = <K extends keyof SessionEvents>(type: K) =>
      this.events.pipe(
        filter((e): e is Extract<Event, { type: K }> => e.type === type),
        map((e) => e.payload as SessionEvents[K]),
      );
    this.messages$ = this.events.pipe(
      filter((e) => ['ready', 'emotion', 'change', 'warning', 'error'].includes(e.type)),
      map((e) => e.payload as ServerMessage),
    );
    this.emotions$ = payloads('emotion');
    this.changes$ = payloads('change');
    this.warnings$ = payloads('warning');
  }

  static async connect(url: string, options: ConnectOptions = {}): Promise<AerSession> {
    const factory = options.socketFactory
      ? { create: options.socketFactory, headers: true }
      : await defaultSocketFactory().catch((e: Error) => Promise.reject(new AerClientError('connection_failed', e.message)));
    const session = new AerSession(url, options, factory);
    await session.open();
    session.startKeepalive();
    return session;
  }

  /** Subscribes to one kind of event; returns the function that unsubscribes. */
  on<K extends keyof SessionEvents>(type: K, listener: (payload: SessionEvents[K]) => void): () => void {
    const subscription = this.events.pipe(filter((e) => e.type === type)).subscribe((e) => listener(e.payload as SessionEvents[K]));
    return () => subscription.unsubscribe();
  }

  once<K extends keyof SessionEvents>(type: K, listener: (payload: SessionEvents[K]) => void): () => void {
    const off = this.on(type, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  /** The session's clock: seconds of audio given to send() so far. */
  get audioSeconds(): number {
    return this.sentFrames / clockRate(this.format);
  }

  get connected(): boolean {
    return this.state === 'open' && this.socket.readyState === OPEN;
  }

  /**
   * Sends audio: samples (converted to the session's PCM encoding) or bytes
   * in its encoding (one Opus packet per call). Resolves when the socket has
   * room for more (backpressure). While reconnecting, audio is not sent: it
   * is counted in the lost audio that `reconnected` reports.
   */
  async send(audio: AudioInput): Promise<void> {
    this.assertUsable('send');
    const bytes = encodeInput(audio, this.format);
    this.sentFrames += framesOf(bytes, this.format);
    if (this.state === 'reconnecting') return;
    if (bytes.length > MAX_MESSAGE_BYTES) {
      if (this.format.encoding !== 'pcm_s16le' && this.format.encoding !== 'pcm_f32le')
        throw new AerClientError('too_large', `one ${this.format.encoding} message of ${bytes.length} bytes is over the server's 1 MiB limit`);
      const step = MAX_MESSAGE_BYTES - (MAX_MESSAGE_BYTES % bytesPerFrame(this.format));
      for (let i = 0; i < bytes.length; i += step) this.socket.send(bytes.subarray(i, i + step));
    } else this.socket.send(bytes);
    this.lastSentAt = Date.now();
    await this.drained();
  }

  /** Analyse what is buffered now (the last window zero-padded). */
  flush(): void {
    this.control({ type: 'flush' });
  }

  /** Change how results are presented. */
  configure(changes: { smoothing?: 'ema' | 'none'; attention?: boolean }): void {
    this.control({ type: 'configure', ...changes });
  }

  /** No more audio: resolves with the server's `closed` (and the audio lost to reconnections) after the last events. */
  close(timeoutMs = 30_000): Promise<CloseResult> {
    if (this.state === 'closed' && this.closedMessage) return Promise.resolve(this.result(this.closedMessage));
    this.assertUsable('close');
    const done = new Promise<CloseResult>((resolve, reject) => (this.closing = { resolve, reject }));
    const wasReconnecting = this.state === 'reconnecting';
    this.state = 'closing';
    if (wasReconnecting)
      this.fail(new AerClientError('connection_lost', 'closed while reconnecting: the audio since the connection was lost was not analysed'));
    else this.socket.send(JSON.stringify({ type: 'close_stream' } satisfies ControlMessage));
    const timer = setTimeout(() => this.fail(new AerClientError('timeout', `no closed message within ${timeoutMs} ms of close()`)), timeoutMs);
    return done.finally(() => clearTimeout(timer));
  }

  /** Drops the connection at once, without waiting for the last events. */
  abort(): void {
    if (this.state === 'closed' || this.state === 'failed') return;
    this.state = 'closed';
    this.stopKeepalive();
    this.socket.close(CLOSE.normal, 'client aborted');
    this.events.complete();
  }

  private assertUsable(what: string): void {
    if (this.state === 'closing' || this.state === 'closed' || this.state === 'failed')
      throw new AerClientError('session_closed', `${what}() on a session that is ${this.state}`);
  }

  private control(message: ControlMessage): void {
    this.assertUsable(message.type);
    if (this.state !== 'open') return;
    this.socket.send(JSON.stringify(message));
    this.lastSentAt = Date.now();
  }

  private async drained(): Promise<void> {
    const limit = this.options.highWaterMark ?? MAX_MESSAGE_BYTES;
    while (this.state === 'open' && this.socket.readyState === OPEN && this.socket.bufferedAmount > limit) await new Promise((r) => setTimeout(r, 5));
  }

  private startKeepalive(): void {
    const every = this.options.keepaliveMs ?? 10_000;
    if (every <= 0) return;
    this.keepalive = setInterval(
      () => {
        if (this.state === 'open' && Date.now() - this.lastSentAt >= every) this.control({ type: 'keepalive' });
      },
      Math.min(every, 1000),
    );
  }

  private stopKeepalive(): void {
    clearInterval(this.keepalive);
  }

  private streamUrl(): string {
    const url = new URL(this.url);
    if (!/\/v1\/stream\/?$/.test(url.pathname)) url.pathname = `${url.pathname.replace(/\/$/, '')}/v1/stream`;
    const o = this.options;
    const params: Record<string, string | number | boolean | undefined> = {
      encoding: this.format.encoding,
      sample_rate: this.format.sampleRate,
      channels: this.format.channels,
      hop_ms: o.hopMs,
      smoothing: o.smoothing,
      vad: o.vad,
      attention: o.attention,
      band: o.band,
    };
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, String(v));
    if (o.token && !this.factory.headers) url.searchParams.set('token', o.token);
    return url.toString();
  }

  /** Opens one connection and waits for `ready`. */
  private open(): Promise<void> {
    const url = this.streamUrl();
    return new Promise((resolve, reject) => {
      let socket: SocketLike;
      try {
        socket = this.factory.create(url, this.options.token ? { authorization: `Bearer ${this.options.token}` } : {});
      } catch (e) {
        reject(new AerClientError('connection_failed', `cannot connect to ${this.url}: ${(e as Error).message}`));
        return;
      }
      this.socket = socket;
      socket.binaryType = 'arraybuffer';
      let readyYet = false;
      let detail = '';
      const timeoutMs = this.options.timeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        socket.close();
        reject(new AerClientError('timeout', `no answer from ${this.url} within ${timeoutMs} ms; is the server up and is this its address?`));
      }, timeoutMs);
      socket.onerror = (event) => (detail = event.message ?? (event.error as Error | undefined)?.message ?? '');
      socket.onmessage = (event) => {
        const message = JSON.parse(String(event.data)) as ServerMessage;
        if (message.type === 'ready') {
          readyYet = true;
          clearTimeout(timer);
          this.ready = message;
          this.emit({ type: 'ready', payload: message });
          resolve();
          return;
        }
        this.receive(message);
      };
      socket.onclose = ({ code, reason }) => {
        clearTimeout(timer);
        if (!readyYet) {
          const unreachable = code === CLOSE.abnormal && !reason;
          reject(
            unreachable
              ? new AerClientError(
                  'connection_failed',
                  `cannot open a stream at ${url}: ${detail || 'the connection failed'}; check the URL (ws://HOST:PORT) and that the server is running`,
                  code,
                )
              : closeError(code, reason, detail),
          );
          return;
        }
        if (socket === this.socket) this.connectionClosed(code, reason, detail);
      };
    });
  }

  /** A server message, its times moved onto the session's clock. */
  private receive(message: ServerMessage): void {
    switch (message.type) {
      case 'emotion': {
        const seq = message.seq + (this.seqBase.get(message.channel) ?? 0);
        this.lastSeq.set(message.channel, seq);
        const shifted = { ...message, seq, start_s: message.start_s + this.offsetS, end_s: message.end_s + this.offsetS };
        this.analysedEndS.set(message.channel, Math.max(this.analysedEndS.get(message.channel) ?? 0, shifted.end_s));
        this.emit({ type: 'emotion', payload: shifted });
        break;
      }
      case 'change':
        this.emit({ type: 'change', payload: { ...message, at_s: message.at_s + this.offsetS } });
        break;
      case 'warning':
        this.emit({ type: 'warning', payload: message });
        break;
      case 'error':
        if (!message.fatal) this.emit({ type: 'error', payload: message });
        else this.fatal = message;
        break;
      case 'closed':
        this.closedMessage = message;
        break;
      case 'ready':
        break;
    }
  }

  private connectionClosed(code: number, reason: string, detail: string): void {
    const closed = this.closedMessage;
    if (this.state === 'closing' && closed) {
      this.finish(closed);
      return;
    }
    if (this.state === 'closed' || this.state === 'failed') return;
    const cause = this.fatal
      ? new AerClientError(
          code === CLOSE.internal ? 'server_error' : 'bad_request',
          `${this.fatal.code}: ${this.fatal.message}${this.fatal.hint ? ` (${this.fatal.hint})` : ''}`,
          code,
        )
      : closeError(code, reason, detail);
    if (closed && closed.reason === 'idle_timeout') {
      this.finish(closed);
      return;
    }
    const serverShutdown = closed?.reason === 'server_shutdown';
    const retry = this.options.reconnect !== false && this.state === 'open' && (serverShutdown || RETRYABLE.has(cause.code));
    if (!retry) {
      this.fail(cause);
      return;
    }
    if (this.format.encoding === 'ogg_opus') {
      this.fail(
        new AerClientError(
          'connection_lost',
          `${cause.message}; an Ogg stream cannot resume mid-stream (its headers were at the start): send Opus packets (encoding opus) to reconnect`,
          code,
        ),
      );
      return;
    }
    void this.reconnect(serverShutdown ? new AerClientError('connection_lost', 'the server shut down', code) : cause);
  }

  private async reconnect(cause: AerClientError): Promise<void> {
    this.state = 'reconnecting';
    const ends = [...this.analysedEndS.values()];
    const from = ends.length === this.format.channels ? Math.min(...ends) : this.offsetS;
    const { attempts = 5, initialDelayMs = 500, maxDelayMs = 10_000 } = this.options.reconnect || {};
    let last = cause;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const delayMs = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);
      this.emit({ type: 'reconnecting', payload: { attempt, delayMs, cause: last } });
      await new Promise((r) => setTimeout(r, delayMs));
      if (this.state !== 'reconnecting') return;
      this.closedMessage = undefined;
      this.fatal = undefined;
      try {
        await this.open();
      } catch (e) {
        last = e as AerClientError;
        if (!RETRYABLE.has(last.code)) break;
        continue;
      }
      if (this.state !== 'reconnecting') return;
      this.state = 'open';
      this.reconnects++;
      for (const [channel, seq] of this.lastSeq) this.seqBase.set(channel, seq + 1);
      const lost: LostAudio = { from_s: from, to_s: this.audioSeconds, seconds: Math.max(0, this.audioSeconds - from), reason: cause.message };
      this.lost.push(lost);
      this.offsetS = this.audioSeconds;
      this.emit({ type: 'reconnected', payload: { attempt, lost, session_id: this.ready.session_id } });
      return;
    }
    this.fail(
      new AerClientError(
        last.code === 'unauthorized' || last.code === 'bad_request' ? last.code : 'connection_lost',
        `could not reconnect after ${attempts} attempts: ${last.message}`,
        last.closeCode,
      ),
    );
  }

  private result(closed: ClosedMessage): CloseResult {
    return { ...closed, lost: [...this.lost], reconnects: this.reconnects };
  }

  private finish(closed: ClosedMessage): void {
    this.state = 'closed';
    this.stopKeepalive();
    const result = this.result(closed);
    this.emit({ type: 'closed', payload: result });
    this.events.complete();
    this.closing?.resolve(result);
  }

  private fail(error: AerClientError): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.state = 'failed';
    this.stopKeepalive();
    if (this.socket.readyState === OPEN) this.socket.close(CLOSE.normal, 'client failed');
    this.emit({ type: 'failed', payload: error });
    this.events.complete();
    this.closing?.reject(error);
  }

  private emit(event: Event): void {
    this.events.next(event);
  }
}

/** Opens a stream session; resolves once the server has sent `ready`. */
export function connect(url: string, options: ConnectOptions = {}): Promise<AerSession> {
  return AerSession.connect(url, options);
}
