/**
 * A request body as it arrives, with the limits every transport applies:
 * a size cap, a client that stops sending (no byte for `idleMs` while the
 * service waits for one), and one that trickles (less than
 * `minBytesPerSecond` on average over the time the service spent waiting,
 * after the first `idleMs`). Time the service spends analysing what it
 * has does not count against the client.
 */
import { AerError } from '../../errors.ts';

export interface BodyLimits {
  maxBytes: number;
  idleMs: number;
  minBytesPerSecond: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = { maxBytes: 64 * 1024 * 1024, idleMs: 10_000, minBytesPerSecond: 16 * 1024 };

export function bodyTooLarge(limit: number): AerError {
  return new AerError('too_large', `the body is larger than ${limit} bytes`, { hint: 'stream long recordings over /v1/stream instead' });
}

/** What a transport hands over: the raw chunks (pulled one at a time), and whether they were all read. */
export class RequestBody implements AsyncIterable<Uint8Array> {
  private started = false;
  /** True once the client's body was read to its end. */
  complete = false;

  constructor(
    private readonly source: AsyncIterable<Uint8Array>,
    private readonly limits: BodyLimits,
    /** The size the client declared, if any. */
    readonly declaredBytes: number | undefined,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.started) throw new Error('a request body can be read once');
    this.started = true;
    const { maxBytes, idleMs, minBytesPerSecond } = this.limits;
    if (this.declaredBytes !== undefined && this.declaredBytes > maxBytes) throw bodyTooLarge(maxBytes);
    const iterator = this.source[Symbol.asyncIterator]();
    let received = 0;
    let waitedMs = 0;
    try {
      for (;;) {
        const asked = performance.now();
        const next = await withTimeout(iterator.next(), idleMs);
        waitedMs += performance.now() - asked;
        if (next.done) {
          this.complete = true;
          return;
        }
        received += next.value.length;
        if (received > maxBytes) throw bodyTooLarge(maxBytes);
        if (waitedMs > idleMs && received < (minBytesPerSecond * waitedMs) / 1000) {
          throw new AerError(
            'timeout',
            `the body arrives too slowly (${Math.round(received / (waitedMs / 1000))} bytes/s; at least ${minBytesPerSecond} are needed)`,
            { hint: 'upload from a faster link, or stream the audio over /v1/stream' },
          );
        }
        yield next.value;
      }
    } finally {
      // Not awaited: an async iterator's return() waits behind a pending next(), which a stalled client never answers.
      if (!this.complete) void iterator.return?.()?.catch(() => {});
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new AerError('timeout', `no part of the body arrived for ${ms / 1000} s`, { hint: 'send the whole body without pausing' })),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
