/**
 * What the service needs from an HTTP + WebSocket server, so that `ws` on
 * node:http (the default) and uWebSockets.js (optional, faster) are
 * interchangeable. The service answers requests and streams; the
 * transport owns sockets, framing and limits.
 */
import type { BodyLimits, RequestBody } from './request-body.ts';

export interface HttpRequest {
  /** Upper case: GET, HEAD, POST, ... */
  method: string;
  url: URL;
  /** A header by its lower-case name. */
  header(name: string): string | undefined;
  /** The body as it arrives, read from the client only as fast as it is consumed; limits as in BodyLimits. */
  body: RequestBody;
  /** Aborted when the client goes away before its reply is sent. */
  signal: AbortSignal;
}

export interface HttpReply {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
  /** A reply that goes on (Server-Sent Events): the status and headers go out, then `stream` writes the body until it ends it; `body` is unused. */
  stream?: (sink: ReplySink) => void;
}

/** The body of a streamed reply, as the transport takes it. */
export interface ReplySink {
  /** False when the client is not taking data as fast as it is written: wait for drained() before writing more. */
  write(text: string): boolean;
  /** Resolves once the client has taken what was waiting (or went away). */
  drained(): Promise<void>;
  end(): void;
  /** Aborted when the client goes away. */
  readonly closed: AbortSignal;
}

export interface UpgradeRequest {
  url: URL;
  header(name: string): string | undefined;
}

/** The server's side of one open WebSocket. */
export interface StreamSocket {
  send(text: string): void;
  /** Any reason is cut to fit a close frame (closeReason); a peer that does not answer the close is dropped after a short grace. */
  close(code: number, reason: string): void;
  /** Stop reading from the client (back pressure), and start again. */
  pause(): void;
  resume(): void;
  /** Bytes sent but not yet taken by the network: a client that does not read its events makes this grow. */
  bufferedAmount(): number;
  /**
   * Stop reading for good (shutdown): resolves once every message already
   * read from the client has been handed to `message()`; nothing is read after.
   */
  stopReading(): Promise<void>;
}

/** What the service does with an open WebSocket's traffic. */
export interface StreamHandlers {
  /** `data` is valid only during the call (uWS reuses it): what is kept must be copied. */
  message(data: Uint8Array, isBinary: boolean): void;
  /** The socket closed, whoever closed it. */
  gone(): void;
}

/** Where an unexpected exception was caught: it fails that request or socket only. */
export type FaultSite = 'http' | 'upgrade' | 'message' | 'close';

/** The service as the transport sees it. */
export interface TransportApp {
  http(request: HttpRequest): Promise<HttpReply>;
  /** Whether a WebSocket may be opened on this path (others are answered 404 before the upgrade). */
  upgrades(path: string): boolean;
  /** A WebSocket opened on a path the service upgrades; undefined when the service refused it (and closed the socket). */
  stream(request: UpgradeRequest, socket: StreamSocket): StreamHandlers | undefined;
  /** An exception escaped a handler: the transport has failed that request (500) or socket (1011); the service logs and counts it. */
  fault(site: FaultSite, error: unknown): void;
}

export interface TransportOptions {
  /** Largest WebSocket message; larger closes 1009. */
  maxMessageBytes: number;
  /** Request bodies: size, stall and rate limits. */
  body: BodyLimits;
}

/** Headers of a request must arrive within this. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** An idle keep-alive connection is closed after this. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** A WebSocket peer that does not answer our close frame within this is dropped. */
export const CLOSE_GRACE_MS = 2_000;

/** An internal failure's reply: no detail of the exception goes to the client (it is logged). */
export const INTERNAL_ERROR_REPLY: HttpReply = {
  status: 500,
  contentType: 'application/json',
  body: JSON.stringify({ error: { code: 'internal_error', message: 'the service failed on this request; it has been logged' } }),
};

export const TRANSPORTS = ['ws', 'uws'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

export interface Transport {
  readonly name: TransportName;
  /** Resolves with the port listened on (useful with port 0). */
  listen(host: string, port: number): Promise<number>;
  /** Accept no new connections; open ones go on. */
  stopListening(): void;
  /** Close every connection still open. */
  closeAll(): Promise<void>;
}
