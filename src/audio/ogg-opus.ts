/**
 * Ogg Opus (RFC 7845) for files and for `ogg_opus` streams: the OpusHead
 * header (channels, pre-skip, output gain, mapping), audio packets decoded
 * page by page, the pre-skip dropped at the start, the end trimmed to the
 * last page's granule position, and audio lost to missing or damaged pages
 * concealed for the duration the granule positions say was lost.
 */
import { AerError, FFMPEG_HINT } from '../errors.ts';
import { DEFAULT_OPUS_DECODE_RATE, type OpusDecodeRate, OpusStreamDecoder } from './opus-decoder.ts';
import { opusPacketSamples } from './opus-packet.ts';
import { NO_GRANULE, OggReader, type OggPageWithPackets, type OggProblem } from './ogg.ts';

/** Granule positions count 48 kHz samples whatever the decode rate. */
const GRANULE_RATE = 48000;
/** Longer gaps than this are concealed only up to it, and reported: the granule positions are likely corrupt. */
const MAX_CONCEAL_SECONDS = 10;

export interface OpusHead {
  version: number;
  channels: number;
  /** Samples at 48 kHz to drop from the start of the decoded stream. */
  preSkip: number;
  /** The sample rate of the encoder's input, for information only. */
  inputSampleRate: number;
  outputGainDb: number;
  mappingFamily: number;
}

function startsWith(packet: Uint8Array, magic: string): boolean {
  if (packet.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (packet[i] !== magic.charCodeAt(i)) return false;
  return true;
}

/** The codec of an Ogg logical stream, from its first packet. */
function codecOf(packet: Uint8Array): string {
  if (startsWith(packet, 'OpusHead')) return 'Opus';
  if (startsWith(packet, '\x01vorbis')) return 'Vorbis';
  if (startsWith(packet, '\x7fFLAC')) return 'FLAC';
  if (startsWith(packet, 'Speex   ')) return 'Speex';
  if (startsWith(packet, '\x80theora')) return 'Theora';
  return 'an unknown codec';
}

export function parseOpusHead(packet: Uint8Array): OpusHead {
  if (!startsWith(packet, 'OpusHead') || packet.length < 19) {
    throw new AerError('malformed_opus', 'the first packet of the Opus stream is not a valid OpusHead header');
  }
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const version = packet[8];
  if (version >> 4 !== 0)
    throw new AerError('unsupported_encoding', `Ogg Opus version ${version} is not supported (major version 0 is)`, { hint: FFMPEG_HINT });
  const head: OpusHead = {
    version,
    channels: packet[9],
    preSkip: view.getUint16(10, true),
    inputSampleRate: view.getUint32(12, true),
    outputGainDb: view.getInt16(16, true) / 256,
    mappingFamily: packet[18],
  };
  if (head.channels === 0) throw new AerError('malformed_opus', 'the OpusHead header says the stream has 0 channels');
  // Mapping family 1 with one stream and an identity table is the same as family 0.
  const plainFamily1 =
    head.mappingFamily === 1 &&
    head.channels <= 2 &&
    packet.length >= 21 + head.channels &&
    packet[19] === 1 &&
    packet[20] === head.channels - 1 &&
    Array.from(packet.subarray(21, 21 + head.channels)).every((v, i) => v === i);
  if (!(head.mappingFamily === 0 && head.channels <= 2) && !plainFamily1) {
    throw new AerError(
      'unsupported_encoding',
      `Ogg Opus with ${head.channels} channels in mapping family ${head.mappingFamily} (multistream) is not supported; mono and stereo are`,
      { hint: 'downmix it first, e.g. `ffmpeg -i input.opus -ac 2 -c:a libopus output.opus`' },
    );
  }
  return head;
}

export interface OggOpusChunk {
  /** Decoded audio, one Float32Array per channel (empty arrays when nothing was decoded yet). */
  channels: Float32Array[];
  /** What went wrong in the stream (damaged pages, lost audio, bad packets); the audio was concealed. */
  problems: string[];
}

/** An Ogg Opus byte stream in, PCM out, chunk by chunk. */
export class OggOpusStreamDecoder {
  readonly sampleRate: OpusDecodeRate;
  private readonly reader = new OggReader();
  private decoder: OpusStreamDecoder | undefined;
  private serial: number | undefined;
  private ended = false;
  private headersSeen = 0;
  private headInfo: OpusHead | undefined;
  private gain = 1;
  private preSkipLeft = 0;
  /** Granule position (48 kHz) at the end of the last audio page decoded. */
  private lastGranule: bigint | undefined;
  /** Samples output in this link, at the decode rate. */
  private output = 0;
  private gapPending = false;
  private readonly otherCodecs = new Set<string>();

  constructor(sampleRate: OpusDecodeRate = DEFAULT_OPUS_DECODE_RATE) {
    this.sampleRate = sampleRate;
  }

  /** The stream's OpusHead, once it has been read. */
  get head(): OpusHead | undefined {
    return this.headInfo;
  }

  /** Codecs of other logical streams seen and ignored (Vorbis, FLAC, ...). */
  get ignoredCodecs(): string[] {
    return [...this.otherCodecs];
  }

  push(bytes: Uint8Array): OggOpusChunk {
    const read = this.reader.push(bytes);
    const problems: string[] = [];
    const pieces: Float32Array[][] = [];
    // Problems are handled in stream order with the pages: a gap is only known to be ours once our header is read.
    let next = 0;
    const handleProblems = (beforePage: number) => {
      for (; next < read.problems.length && read.problems[next].beforePage <= beforePage; next++) this.problem(read.problems[next], problems);
    };
    read.pages.forEach((entry, i) => {
      handleProblems(i);
      this.page(entry, pieces, problems);
    });
    handleProblems(read.pages.length);
    return { channels: this.join(pieces), problems };
  }

  /** End of input: reports a cut-off last page and releases the decoder. */
  end(): OggOpusChunk {
    const problems = this.reader.end().map((p) => p.message);
    this.decoder?.dispose();
    this.decoder = undefined;
    return { channels: this.join([]), problems };
  }

  private problem(problem: OggProblem, problems: string[]): void {
    if (problem.serial !== undefined && problem.serial !== this.serial) return;
    problems.push(problem.message);
    if (problem.kind !== 'version') this.gapPending = true;
  }

  private page({ page, packets }: OggPageWithPackets, pieces: Float32Array[][], problems: string[]): void {
    if (page.bos && packets.length > 0) {
      const codec = codecOf(packets[0]);
      const idle = this.serial === undefined || this.ended;
      if (codec === 'Opus' && idle) {
        this.startLink(page.serial, packets[0]);
        packets = packets.slice(1);
      } else if (codec !== 'Opus') {
        this.otherCodecs.add(codec);
        return;
      }
    }
    if (page.serial !== this.serial || this.ended || !this.decoder) return;
    if (this.headersSeen === 1 && packets.length > 0) {
      if (!startsWith(packets[0], 'OpusTags')) problems.push('the Opus stream has no OpusTags header; continuing without it');
      else packets = packets.slice(1);
      this.headersSeen = 2;
    }
    if (packets.length > 0) this.decodePage(page.granule, packets, page.eos, pieces, problems);
    if (page.eos) {
      this.ended = true;
      this.decoder.dispose();
      this.decoder = undefined;
    }
  }

  private startLink(serial: number, headPacket: Uint8Array): void {
    const head = parseOpusHead(headPacket);
    if (this.headInfo && head.channels !== this.headInfo.channels) {
      throw new AerError('unsupported_encoding', `a chained Ogg Opus stream changes from ${this.headInfo.channels} to ${head.channels} channels`, {
        hint: FFMPEG_HINT,
      });
    }
    this.decoder?.dispose();
    this.decoder = new OpusStreamDecoder(head.channels, this.sampleRate);
    this.headInfo = head;
    this.serial = serial;
    this.ended = false;
    this.headersSeen = 1;
    this.gain = 10 ** (head.outputGainDb / 20);
    this.preSkipLeft = Math.round((head.preSkip * this.sampleRate) / GRANULE_RATE);
    this.lastGranule = undefined;
    this.output = 0;
    this.gapPending = false;
  }

  private decodePage(granule: bigint, packets: Uint8Array[], eos: boolean, pieces: Float32Array[][], problems: string[]): void {
    const decoder = this.decoder!;
    const ratio = this.sampleRate / GRANULE_RATE;
    let pageSamples = 0n;
    for (const p of packets) pageSamples += BigInt(Math.max(0, opusPacketSamples(p, GRANULE_RATE)));
    const pageStart = granule === NO_GRANULE ? undefined : granule - pageSamples;
    if (this.gapPending && pageStart !== undefined && this.lastGranule !== undefined && pageStart > this.lastGranule) {
      const lost = Number(pageStart - this.lastGranule);
      const concealed = Math.min(lost, MAX_CONCEAL_SECONDS * GRANULE_RATE);
      problems.push(
        `${((lost / GRANULE_RATE) * 1000).toFixed(1)} ms of audio were lost in damaged or missing pages${concealed < lost ? `; only ${MAX_CONCEAL_SECONDS} s were concealed` : ' and were concealed'}`,
      );
      this.emit(decoder.conceal(Math.round(concealed * ratio)), pieces);
    }
    this.gapPending = false;
    for (const packet of packets) {
      const result = decoder.decode(packet);
      if (result.error) problems.push(result.error.message);
      this.emit(result.channels, pieces);
    }
    if (eos && granule !== NO_GRANULE && this.headInfo) {
      // The last page's granule position is where the audio really ends.
      const total = Math.max(0, Math.floor(Number(granule - BigInt(this.headInfo.preSkip)) * ratio));
      this.trimTo(total, pieces);
    }
    if (granule !== NO_GRANULE) this.lastGranule = granule;
  }

  private emit(channels: Float32Array[], pieces: Float32Array[][]): void {
    let out = channels;
    if (this.preSkipLeft > 0) {
      const drop = Math.min(this.preSkipLeft, out[0].length);
      this.preSkipLeft -= drop;
      out = out.map((c) => c.subarray(drop));
    }
    if (out[0].length === 0) return;
    if (this.gain !== 1) for (const c of out) for (let i = 0; i < c.length; i++) c[i] *= this.gain;
    this.output += out[0].length;
    pieces.push(out);
  }

  /** Drop output beyond `total` samples of this link, from the pieces of the current call. */
  private trimTo(total: number, pieces: Float32Array[][]): void {
    let excess = this.output - total;
    while (excess > 0 && pieces.length > 0) {
      const last = pieces[pieces.length - 1];
      const n = last[0].length;
      if (n <= excess) {
        pieces.pop();
        excess -= n;
        this.output -= n;
      } else {
        pieces[pieces.length - 1] = last.map((c) => c.subarray(0, n - excess));
        this.output -= excess;
        excess = 0;
      }
    }
  }

  private join(pieces: Float32Array[][]): Float32Array[] {
    const channels = this.headInfo?.channels ?? 1;
    return Array.from({ length: channels }, (_, c) => {
      let n = 0;
      for (const p of pieces) n += p[c].length;
      const out = new Float32Array(n);
      let o = 0;
      for (const p of pieces) {
        out.set(p[c], o);
        o += p[c].length;
      }
      return out;
    });
  }
}

export interface OggOpusAudio {
  sampleRate: number;
  channels: Float32Array[];
  head: OpusHead;
}

/**
 * A whole Ogg Opus file. Unlike a live stream, a damaged file is refused with
 * the first problem found rather than concealed.
 */
export function readOggOpus(bytes: Uint8Array, sampleRate: OpusDecodeRate = DEFAULT_OPUS_DECODE_RATE): OggOpusAudio {
  if (bytes.length === 0) throw new AerError('empty_file', 'the Ogg file is empty (0 bytes)');
  const decoder = new OggOpusStreamDecoder(sampleRate);
  const first = decoder.push(bytes);
  const last = decoder.end();
  const head = decoder.head;
  if (!head) {
    const others = decoder.ignoredCodecs;
    throw new AerError('unsupported_format', others.length > 0 ? `the Ogg file holds ${others.join(' and ')}, not Opus` : 'the file holds no Ogg Opus stream', {
      hint: FFMPEG_HINT,
    });
  }
  const problems = [...first.problems, ...last.problems];
  if (problems.length > 0) {
    const truncated = last.problems.length > 0;
    throw new AerError(truncated ? 'truncated_audio' : 'malformed_ogg', `the Ogg Opus file is ${truncated ? 'truncated' : 'damaged'}: ${problems[0]}`, {
      hint: 'repair what can be saved with `ffmpeg -i damaged.opus -c:a libopus repaired.opus`',
    });
  }
  return { sampleRate, channels: first.channels, head };
}
