/** Every failure the SDK reports is an AerClientError with a stable code and a message that says what to do. */
export type ClientErrorCode =
  /** The server could not be reached, or did not speak the protocol at that URL. */
  | 'connection_failed'
  /** The server refused the token (close 1008). */
  | 'unauthorized'
  /** The server is at its session limit or shutting down (close 1013): retry later or elsewhere. */
  | 'server_full'
  /** The server refused the stream's parameters or its audio (close 4400, or a fatal error). */
  | 'bad_request'
  /** A message over the server's size limit (close 1009). */
  | 'too_large'
  /** The connection was lost and could not be restored. */
  | 'connection_lost'
  /** The server failed (close 1011). */
  | 'server_error'
  /** send() or flush() after close(), or on a session that ended. */
  | 'session_closed'
  /** No answer in time. */
  | 'timeout'
  /** An audio file the SDK cannot read. */
  | 'unreadable_file'
  /** The user or the browser refused the microphone. */
  | 'microphone_denied'
  /** Audio of a kind the session was not opened for. */
  | 'invalid_audio';

export class AerClientError extends Error {
  override readonly name = 'AerClientError';
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    /** The WebSocket close code, where the server closed. */
    readonly closeCode?: number,
  ) {
    super(message);
  }
}
