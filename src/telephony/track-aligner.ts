/**
 * Tracks that arrive as separate timestamped chunks (Twilio sends each
 * party's 20 ms chunks on its own, in whatever order the network gave
 * them) put side by side as one interleaved stream, the session's input.
 *
 * Each chunk is placed at its timestamp. Audio goes out once every track
 * has it, or once later audio has waited `holdMs` for a chunk that did
 * not come: the missing stretch is concealed with silence, so a lost
 * chunk or a silent track costs at most `holdMs` of delay, never the
 * call's timing. A chunk that comes after its place went out is dropped
 * (counted as late). G.711 only: one byte per sample.
 */

export interface AlignerOptions {
  tracks: number;
  sampleRate: number;
  /** The byte that decodes to silence (mu-law 0xff, A-law 0xd5). */
  silence: number;
  /** How long audio waits for a missing chunk before the gap is concealed. */
  holdMs: number;
  /** A chunk further ahead of the audio received than this is refused (a broken timestamp would make the service conceal hours). */
  maxJumpMs: number;
}

export interface AlignerStats {
  /** Samples per track concealed with silence. */
  concealedSamples: number;
  /** Chunks dropped: they came after their place was sent on. */
  lateChunks: number;
}

interface Chunk {
  at: number;
  bytes: Uint8Array;
}

export class TrackAligner {
  /** Samples per track sent on. */
  private head = 0;
  /** Per track, chunks not yet sent on, by position. */
  private readonly pending: Chunk[][];
  /** The furthest sample any chunk reached. */
  private latest = 0;
  readonly stats: AlignerStats = { concealedSamples: 0, lateChunks: 0 };

  constructor(private readonly options: AlignerOptions) {
    this.pending = Array.from({ length: options.tracks }, () => []);
  }

  /** Seconds of call audio sent on. */
  get sentS(): number {
    return this.head / this.options.sampleRate;
  }

  /**
   * One track's chunk at `timestampMs`: the interleaved audio that can go
   * out now (possibly empty). Throws RangeError for a chunk too far ahead.
   */
  push(track: number, timestampMs: number, bytes: Uint8Array): Uint8Array {
    let at = Math.round((timestampMs * this.options.sampleRate) / 1000);
    let data = bytes;
    if (at > this.latest + (this.options.maxJumpMs * this.options.sampleRate) / 1000)
      throw new RangeError(
        `a chunk at ${timestampMs} ms is more than ${this.options.maxJumpMs} ms past the audio received (${Math.round((this.latest * 1000) / this.options.sampleRate)} ms)`,
      );
    if (at + data.length <= this.head) {
      this.stats.lateChunks++;
      return new Uint8Array(0);
    }
    if (at < this.head) {
      data = data.subarray(this.head - at);
      at = this.head;
    }
    const queue = this.pending[track];
    let i = queue.length;
    while (i > 0 && queue[i - 1].at > at) i--;
    queue.splice(i, 0, { at, bytes: data });
    this.latest = Math.max(this.latest, at + data.length);
    const holdSamples = Math.round((this.options.holdMs * this.options.sampleRate) / 1000);
    const concealed = this.take(Math.max(this.ready(), this.latest - holdSamples));
    // Past a concealed gap, what every track has goes out too.
    const after = this.take(this.ready());
    if (after.length === 0) return concealed;
    const out = new Uint8Array(concealed.length + after.length);
    out.set(concealed);
    out.set(after, concealed.length);
    return out;
  }

  /** The end of the call: everything received goes out, gaps concealed. */
  finish(): Uint8Array {
    return this.take(this.latest);
  }

  /** Where the audio every track has from the head on ends. */
  private ready(): number {
    return Math.min(...this.pending.map((q) => this.contiguousEnd(q)));
  }

  /** Where a track's audio from the head on stops being contiguous. */
  private contiguousEnd(queue: Chunk[]): number {
    let end = this.head;
    for (const c of queue) {
      if (c.at > end) break;
      end = Math.max(end, c.at + c.bytes.length);
    }
    return end;
  }

  /** Interleaved samples [head, to), silence where a track has none; sent chunks leave the queues. */
  private take(to: number): Uint8Array {
    const n = to - this.head;
    if (n <= 0) return new Uint8Array(0);
    const { tracks, silence } = this.options;
    const out = new Uint8Array(n * tracks).fill(silence);
    for (let t = 0; t < tracks; t++) {
      const queue = this.pending[t];
      let covered = this.head;
      let filled = 0;
      while (queue.length > 0 && queue[0].at < to) {
        const c = queue[0];
        const from = Math.max(c.at, covered);
        const end = Math.min(c.at + c.bytes.length, to);
        for (let s = from; s < end; s++) out[(s - this.head) * tracks + t] = c.bytes[s - c.at];
        filled += Math.max(0, end - from);
        covered = Math.max(covered, end);
        if (c.at + c.bytes.length <= to) queue.shift();
        else {
          queue[0] = { at: to, bytes: c.bytes.subarray(to - c.at) };
          break;
        }
      }
      this.stats.concealedSamples += n - filled;
    }
    this.head = to;
    return out;
  }
}
