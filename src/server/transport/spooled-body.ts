/**
 * A request body that a transport pushes (node:http's data events, uWS's
 * onData) as chunks the service pulls one at a time, at the analysis's
 * pace. The socket is always read, at network speed: a paused socket is
 * not read, and one not read cannot tell that its client has gone (its FIN
 * waits behind megabytes in the kernel's buffers). What the analysis has
 * not taken yet waits in memory up to `MEMORY_BYTES`, then in an unlinked
 * temporary file (as nginx spools bodies), so memory holds a window of
 * audio whatever the file's size; the disk holds at most the body limit.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AerError } from '../../errors.ts';
import { bodyTooLarge } from './request-body.ts';

/** Body bytes held in memory before the rest goes to disk. */
const MEMORY_BYTES = 1024 * 1024;
/** Largest read from the spool file. */
const READ_BYTES = 256 * 1024;

export interface BodySource {
  /** Stops reading (only when the body is refused). */
  pause(): void;
}

interface Spool {
  fd: number;
  /** Bytes appended and readable (writes are serialised). */
  written: number;
  /** Bytes read back. */
  read: number;
  writing: Promise<void>;
}

export class SpooledBody implements AsyncIterable<Uint8Array> {
  private readonly memory: Uint8Array[] = [];
  private memoryBytes = 0;
  private spool: Spool | undefined;
  private received = 0;
  /** Bytes handed to the file but not yet written. */
  private pendingBytes = 0;
  private ended = false;
  private closed = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  /** Most bytes held in memory at once (for tests and the bench). */
  peakMemoryBytes = 0;

  constructor(
    private readonly source: BodySource,
    private readonly maxBytes: number,
    private readonly dir = os.tmpdir(),
  ) {}

  /** A chunk from the client; the caller must not reuse its memory. */
  data(chunk: Uint8Array): void {
    if (this.failure || this.closed || chunk.byteLength === 0) return;
    this.received += chunk.byteLength;
    if (this.received > this.maxBytes) {
      this.source.pause();
      return this.fail(bodyTooLarge(this.maxBytes));
    }
    // While the file holds unread bytes, everything after goes there too, so order is kept.
    const spilling = this.spool !== undefined && (this.pendingBytes > 0 || this.spool.read < this.spool.written);
    if (spilling || this.memoryBytes + chunk.byteLength > MEMORY_BYTES) this.append(chunk);
    else {
      this.memory.push(chunk);
      this.memoryBytes += chunk.byteLength;
      this.peakMemoryBytes = Math.max(this.peakMemoryBytes, this.memoryBytes);
    }
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  fail(error: Error): void {
    this.failure ??= error;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    try {
      for (;;) {
        const chunk = this.memory.shift();
        if (chunk) {
          this.memoryBytes -= chunk.byteLength;
          yield chunk;
          continue;
        }
        if (this.failure) throw this.failure;
        const spool = this.spool;
        if (spool && spool.read < spool.written) {
          yield await this.readBack(spool);
          continue;
        }
        if (spool && this.ended) await spool.writing;
        if (spool && spool.read < spool.written) continue;
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      this.close();
    }
  }

  private append(chunk: Uint8Array): void {
    try {
      this.spool ??= this.openSpool();
    } catch (error) {
      return this.fail(
        new AerError('io_error', `the upload cannot be held on disk (${(error as Error).message})`, {
          hint: 'free space in the temporary directory (TMPDIR), or send a smaller file',
        }),
      );
    }
    const spool = this.spool;
    const at = spool.written + this.pendingBytes;
    this.pendingBytes += chunk.byteLength;
    spool.writing = spool.writing.then(
      () =>
        new Promise<void>((resolve) =>
          fs.write(spool.fd, chunk, 0, chunk.byteLength, at, (error) => {
            this.pendingBytes -= chunk.byteLength;
            if (error)
              this.fail(
                new AerError('io_error', `the upload cannot be held on disk (${error.message})`, {
                  hint: 'free space in the temporary directory (TMPDIR), or send a smaller file',
                }),
              );
            else spool.written += chunk.byteLength;
            this.wake?.();
            resolve();
          }),
        ),
    );
  }

  private openSpool(): Spool {
    const file = path.join(this.dir, `aer-upload-${process.pid}-${Math.random().toString(36).slice(2)}`);
    const fd = fs.openSync(file, 'wx+', 0o600);
    // Unlinked at once: the space is freed when the descriptor closes, whatever happens to the process.
    fs.unlinkSync(file);
    return { fd, written: 0, read: 0, writing: Promise.resolve() };
  }

  private readBack(spool: Spool): Promise<Uint8Array> {
    const length = Math.min(READ_BYTES, spool.written - spool.read);
    const buffer = new Uint8Array(length);
    return new Promise((resolve, reject) =>
      fs.read(spool.fd, buffer, 0, length, spool.read, (error, n) => {
        if (error) return reject(new AerError('io_error', `the upload could not be read back from disk (${error.message})`));
        spool.read += n;
        resolve(buffer.subarray(0, n));
      }),
    );
  }

  private close(): void {
    this.closed = true;
    const spool = this.spool;
    this.spool = undefined;
    this.memory.length = 0;
    this.memoryBytes = 0;
    if (spool) void spool.writing.then(() => fs.close(spool.fd, () => {}));
  }
}
