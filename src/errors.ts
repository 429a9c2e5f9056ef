/**
 * Typed errors. Every error the project raises on purpose is an AerError with a
 * stable snake_case `code` that the CLI prints and the wire protocol sends, a
 * message that says what was wrong, and where possible a hint that says what to do.
 */

export type ErrorCode =
  /** A file or buffer with no bytes at all. */
  | 'empty_file'
  /** A container or codec this project does not read (MP3, FLAC, Vorbis, ...). */
  | 'unsupported_format'
  /** A WAV file whose structure is broken. */
  | 'malformed_wav'
  /** An Ogg stream whose pages are broken. */
  | 'malformed_ogg'
  /** An Opus header or packet that cannot be used. */
  | 'malformed_opus'
  /** Fewer bytes than the container declares. */
  | 'truncated_audio'
  /** A sample encoding this project does not read (ADPCM, 12-bit, ...). */
  | 'unsupported_encoding'
  /** More channels than the front end accepts. */
  | 'too_many_channels'
  /** A sample rate outside the range the resampler accepts. */
  | 'unsupported_sample_rate'
  /** NaN or infinite samples. */
  | 'invalid_samples'
  /** Audio with no samples where some are needed. */
  | 'empty_audio'
  /** A dataset folder with no usable clips, or one whose layout cannot be told. */
  | 'invalid_dataset'
  /** A train/validation/test split that cannot be made (a class or speaker missing). */
  | 'invalid_split'
  /** A model directory that cannot be used: missing or corrupt files, or a mismatch with this front end. */
  | 'invalid_model'
  /** A model with a layer or option the ONNX exporter does not cover. */
  | 'unsupported_model'
  /** A training checkpoint that cannot be resumed. */
  | 'invalid_checkpoint'
  /** A bad argument or option value. */
  | 'invalid_argument'
  /** A file that could not be read or written. */
  | 'io_error'
  /** A request body or message larger than the server accepts. */
  | 'too_large'
  /** A client that sends audio far faster than it can be analysed and does not slow down. */
  | 'rate_exceeded'
  /** A request or message that took too long to arrive (a stalled or trickling body). */
  | 'timeout'
  /** The service cannot take this work now (busy, or shutting down): retry later or elsewhere. */
  | 'unavailable'
  /** A model or engine whose outputs are not probabilities (NaN, infinite, not summing to 1). */
  | 'engine_fault'
  /** The worker thread analysing a stream failed: the stream ended (close 1011); reconnect. */
  | 'worker_failed'
  /** A request or stream without a valid token where the service has tokens. */
  | 'unauthorized';

export class AerError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AerError';
    this.code = code;
    this.hint = options.hint;
  }

  /** One line for people: what was wrong, then what to do. */
  describe(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string } {
    return this.hint ? { code: this.code, message: this.message, hint: this.hint } : { code: this.code, message: this.message };
  }
}

/** The advice for any audio the readers do not take directly. */
export const FFMPEG_HINT = 'convert it with ffmpeg, e.g. `ffmpeg -i input.ext -ac 1 -ar 16000 output.wav`';

export function isAerError(error: unknown): error is AerError {
  return error instanceof AerError;
}
