/**
 * What the service needs from an HTTP + WebSocket server, so that `ws` on
 * node:http (the default) and uWebSockets.js (optional, faster) are
 * interchangeable. The service answers requests and streams; the
 * transport owns sockets, framing and limits.
 */
import { AerError } from '../../errors.ts';

export interface HttpRequest {
  /** Upper case: GET, POST, ... */
  method: string;
  url: URL;
  /** A header by its lower-case name. */
  header(name: string): string | undefined;
  /** The whole body; rejects with AerError `too_large` over the transport's `maxBodyBytes`. */
  body(): Promise<Uint8Array>;
}

export interface HttpReply {
  status: number;
  contentType: string;
  body: string;
}

export interface UpgradeRequest {
  url: URL;
  header(name: string): string | undefined;
}

/** The server's side of one open WebSocket. */
export interface StreamSocket {
  send(text: string): void;
  close(code: number, reason: string): void;
  /** Stop reading from the client (back pressure), and start again. */
  pause(): void;
  resume(): void;
}

/** What the service does with an open WebSocket's traffic. */
export interface StreamHandlers {
  /** `data` is valid only during the call (uWS reuses it): what is kept must be copied. */
  message(data: Uint8Array, isBinary: boolean): void;
  /** The socket closed, whoever closed it. */
  gone(): void;
}

/** The service as the transport sees it. */
export interface TransportApp {
  http(request: HttpRequest): Promise<HttpReply>;
  /** A WebSocket to /v1/stream opened; undefined when the service refused it (and closed the socket). */
  stream(request: UpgradeRequest, socket: StreamSocket): StreamHandlers | undefined;
}

export interface TransportOptions {
  /** Largest WebSocket message; larger closes 1009. */
  maxMessageBytes: number;
  /** Largest HTTP request body. */
  maxBodyBytes: number;
}

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

export function bodyTooLarge(limit: number): AerError {
  return new AerError('too_large', `the body is larger than ${limit} bytes`, { hint: 'stream long recordings over /v1/stream instead' });
}

/** The path streams are served on. */
export const STREAM_PATH = '/v1/stream';
