/**
 * Ogg bitstream reader (RFC 3533): bytes in any chunking -> checked pages ->
 * packets. Damage is reported, not thrown: a page that fails its CRC or
 * breaks the framing is skipped, the reader finds the next capture pattern,
 * and what was lost is said in `problems` so the caller can conceal it
 * (streams) or refuse the file (files).
 */

const CAPTURE = [0x4f, 0x67, 0x67, 0x53]; // "OggS"
const HEADER_BYTES = 27;
const FLAG_CONTINUED = 0x01;
const FLAG_BOS = 0x02;
const FLAG_EOS = 0x04;
/** The granule position that means "no packet ends on this page". */
export const NO_GRANULE = -1n;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

export function oggCrc(bytes: Uint8Array, skipFrom = -1, skipTo = -1): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = i >= skipFrom && i < skipTo ? 0 : bytes[i];
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b) & 0xff]) >>> 0;
  }
  return crc;
}

export interface OggPage {
  serial: number;
  sequence: number;
  granule: bigint;
  bos: boolean;
  eos: boolean;
  continued: boolean;
  /** Byte offset of the page in the stream. */
  offset: number;
}

export interface OggProblem {
  kind: 'crc' | 'garbage' | 'gap' | 'orphan' | 'truncated' | 'version';
  message: string;
  /** Byte offset in the stream. */
  offset: number;
  serial?: number;
  /** Index in OggReadResult.pages of the page this problem came before (pages.length: after the last). */
  beforePage: number;
}

export interface OggPageWithPackets {
  page: OggPage;
  /** The packets that end on this page, in order; the page's granule position is the end of the last. */
  packets: Uint8Array[];
}

export interface OggReadResult {
  /** Pages completed by this call. */
  pages: OggPageWithPackets[];
  problems: OggProblem[];
}

interface SerialState {
  nextSequence: number;
  /** A packet continued from an earlier page. */
  partial: Uint8Array[] | undefined;
}

export class OggReader {
  private buffer: Uint8Array = new Uint8Array(0);
  /** Stream offset of buffer[0]. */
  private offset = 0;
  private readonly serials = new Map<number, SerialState>();

  /** Bytes buffered waiting for the rest of a page. */
  get pending(): number {
    return this.buffer.length;
  }

  push(bytes: Uint8Array): OggReadResult {
    this.buffer = this.buffer.length === 0 ? bytes.slice() : concat(this.buffer, bytes);
    const result: OggReadResult = { pages: [], problems: [] };
    for (;;) {
      const start = findCapture(this.buffer);
      // Without a capture pattern, keep the last 3 bytes: they may start one.
      const skip = start < 0 ? Math.max(0, this.buffer.length - 3) : start;
      if (skip > 0) {
        this.problem(result, 'garbage', `${skip} bytes at byte ${this.offset} are not part of any Ogg page; skipped`);
        this.consume(skip);
      }
      if (start < 0) break;
      const b = this.buffer;
      if (b.length < HEADER_BYTES) break;
      const segments = b[26];
      const headerSize = HEADER_BYTES + segments;
      if (b.length < headerSize) break;
      let bodySize = 0;
      for (let i = 0; i < segments; i++) bodySize += b[HEADER_BYTES + i];
      const pageSize = headerSize + bodySize;
      if (b.length < pageSize) break;
      const view = new DataView(b.buffer, b.byteOffset, pageSize);
      const pageBytes = b.subarray(0, pageSize);
      if (b[4] !== 0) {
        this.problem(result, 'version', `Ogg page at byte ${this.offset} has stream structure version ${b[4]}, not 0; skipped`);
        this.consume(1);
        continue;
      }
      if (oggCrc(pageBytes, 22, 26) !== view.getUint32(22, true)) {
        this.problem(result, 'crc', `Ogg page at byte ${this.offset} fails its CRC check; skipped`);
        // The capture pattern may have been a false match inside data: resync one byte on.
        this.consume(1);
        continue;
      }
      this.readPage(view, pageBytes, headerSize, result);
      this.consume(pageSize);
    }
    return result;
  }

  /** Call at the end of the stream: reports an incomplete trailing page or packet. */
  end(): OggProblem[] {
    const problems: OggProblem[] = [];
    if (this.buffer.length > 0) {
      problems.push({
        kind: 'truncated',
        message: `the stream ends inside an Ogg page (${this.buffer.length} bytes of it at byte ${this.offset})`,
        offset: this.offset,
        beforePage: 0,
      });
    }
    for (const [serial, state] of this.serials) {
      if (state.partial)
        problems.push({
          kind: 'truncated',
          message: `the stream ends inside a packet of logical stream ${serial}`,
          offset: this.offset,
          serial,
          beforePage: 0,
        });
    }
    this.buffer = new Uint8Array(0);
    return problems;
  }

  private readPage(view: DataView, bytes: Uint8Array, headerSize: number, result: OggReadResult): void {
    const flags = bytes[5];
    const page: OggPage = {
      serial: view.getUint32(14, true),
      sequence: view.getUint32(18, true),
      granule: view.getBigInt64(6, true),
      bos: (flags & FLAG_BOS) !== 0,
      eos: (flags & FLAG_EOS) !== 0,
      continued: (flags & FLAG_CONTINUED) !== 0,
      offset: this.offset,
    };
    let state = this.serials.get(page.serial);
    if (!state || page.bos) {
      state = { nextSequence: page.sequence, partial: undefined };
      this.serials.set(page.serial, state);
    }
    if (page.sequence !== state.nextSequence) {
      const missing = (page.sequence - state.nextSequence) >>> 0;
      this.problem(result, 'gap', `${missing} Ogg page(s) of stream ${page.serial} are missing before byte ${this.offset}`, page.serial);
      state.partial = undefined;
    }
    state.nextSequence = (page.sequence + 1) >>> 0;

    // `pieces` is null while skipping the tail of a packet whose start was lost.
    let pieces: Uint8Array[] | null;
    if (page.continued) {
      pieces = state.partial ?? null;
    } else {
      if (state.partial) {
        this.problem(result, 'orphan', `an Ogg packet of stream ${page.serial} was cut off by the page at byte ${this.offset}`, page.serial);
      }
      pieces = [];
    }
    const packets: Uint8Array[] = [];
    const segments = bytes[26];
    let segmentStart = headerSize;
    let p = headerSize;
    for (let i = 0; i < segments; i++) {
      const lace = bytes[HEADER_BYTES + i];
      p += lace;
      // A lacing value below 255 ends a packet.
      if (lace < 255) {
        if (pieces) {
          pieces.push(bytes.subarray(segmentStart, p));
          packets.push(concat(...pieces));
        }
        pieces = [];
        segmentStart = p;
      }
    }
    const continues = segments > 0 && bytes[HEADER_BYTES + segments - 1] === 255;
    state.partial = continues && pieces ? [...pieces, bytes.slice(segmentStart, p)] : undefined;
    result.pages.push({ page, packets });
  }

  private problem(result: OggReadResult, kind: OggProblem['kind'], message: string, serial?: number): void {
    result.problems.push({ kind, message, offset: this.offset, serial, beforePage: result.pages.length });
  }

  private consume(bytes: number): void {
    this.buffer = this.buffer.subarray(bytes);
    this.offset += bytes;
  }
}

function findCapture(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === CAPTURE[0] && b[i + 1] === CAPTURE[1] && b[i + 2] === CAPTURE[2] && b[i + 3] === CAPTURE[3]) return i;
  }
  return -1;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0].slice();
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
