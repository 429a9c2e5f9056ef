/**
 * A WAV or Ogg Opus file read as its bytes arrive (an upload to
 * /v1/classify), so memory holds a chunk of audio, never the file. The
 * header is read first (its format known from then on); every later chunk
 * yields the planar float32 samples it completes. As on a live stream,
 * damage that leaves the audio usable (a truncated data chunk, a lost Ogg
 * page) is concealed and reported as a warning; what cannot be read at all
 * is an AerError, as from the whole-file readers.
 */
import { AerError, FFMPEG_HINT } from '../errors.ts';
import { containerOf, describeWav } from './load.ts';
import { OggOpusStreamDecoder } from './ogg-opus.ts';
import { DEFAULT_OPUS_DECODE_RATE } from './opus-decoder.ts';
import { decodeSamples, type Fmt, fourcc, parseFmt, SIZE_UNKNOWN } from './wav.ts';

export interface StreamedFormat {
  /** For people: "WAV, 16-bit PCM", "Ogg Opus". */
  format: string;
  sampleRate: number;
  channels: number;
}

export interface FileReader {
  /** Known once the header has been read. */
  readonly format: StreamedFormat | undefined;
  /** The samples these bytes complete, one array per channel (none before the format is known). */
  push(bytes: Uint8Array): Float32Array[];
  /** End of the file: what is left, and what was wrong but concealed. */
  end(): { channels: Float32Array[]; warnings: string[] };
}

/** Bytes the header of an Ogg file may take before its Opus header must have been seen. */
const OGG_HEADER_DEADLINE = 64 * 1024;
/** Largest "fmt " or "ds64" chunk read (they are 16 to 40 bytes in practice). */
const MAX_HEADER_CHUNK = 64 * 1024;

/** Reads any file the service takes, deciding which reader from its first bytes. */
export class AudioFileStream implements FileReader {
  private reader: FileReader | undefined;
  private head: Uint8Array = new Uint8Array(0);

  get format(): StreamedFormat | undefined {
    return this.reader?.format;
  }

  push(bytes: Uint8Array): Float32Array[] {
    if (this.reader) return this.reader.push(bytes);
    this.head = concat(this.head, bytes);
    if (this.head.length < 12) return [];
    return this.start(this.head);
  }

  end(): { channels: Float32Array[]; warnings: string[] } {
    if (!this.reader) {
      // Fewer than 12 bytes in all: named (or refused) as a whole file would be.
      this.start(this.head);
    }
    return this.reader!.end();
  }

  private start(head: Uint8Array): Float32Array[] {
    this.reader = containerOf(head) === 'wav' ? new WavFileStream() : new OggFileStream();
    this.head = new Uint8Array(0);
    return this.reader.push(head);
  }
}

/** A new array (never a view: a Node Buffer's slice() is one, into a shared pool). */
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return new Uint8Array(b);
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

class WavFileStream implements FileReader {
  format: StreamedFormat | undefined;
  private fmt: Fmt | undefined;
  private container: 'RIFF' | 'RF64' | 'BW64' = 'RIFF';
  private ds64DataSize: number | undefined;
  /** Header bytes not yet parsed. */
  private pending: Uint8Array = new Uint8Array(0);
  private riffRead = false;
  /** Bytes of an unneeded chunk still to skip. */
  private skip = 0;
  /** In the data chunk: bytes of it still to come (Infinity when its size is unknown), and a partial frame carried over. */
  private remaining: number | undefined;
  private carry: Uint8Array = new Uint8Array(0);
  private readonly warnings: string[] = [];

  push(bytes: Uint8Array): Float32Array[] {
    if (this.remaining !== undefined) return this.samples(bytes);
    this.pending = concat(this.pending, bytes);
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, this.pending.length);
        this.skip -= n;
        this.pending = this.pending.subarray(n);
        if (this.skip > 0) return [];
      }
      if (!this.riffRead) {
        if (this.pending.length < 12) return [];
        const magic = fourcc(this.pending, 0);
        if (magic === 'RIFX') throw new AerError('unsupported_encoding', 'big-endian WAV (RIFX) is not supported', { hint: FFMPEG_HINT });
        this.container = magic as 'RIFF' | 'RF64' | 'BW64';
        this.riffRead = true;
        this.pending = this.pending.subarray(12);
      }
      if (this.pending.length < 8) return [];
      const view = new DataView(this.pending.buffer, this.pending.byteOffset, this.pending.byteLength);
      const id = fourcc(this.pending, 0);
      let size = view.getUint32(4, true);
      if (id === 'data') {
        if (!this.fmt)
          throw new AerError(
            'malformed_wav',
            'the WAV file\'s "data" chunk comes before its "fmt " chunk; an upload is read as it arrives and needs the format first',
            { hint: 'rewrite it with the format first: `ffmpeg -i input.wav output.wav`' },
          );
        if (this.container !== 'RIFF' && size === SIZE_UNKNOWN) {
          if (this.ds64DataSize === undefined) throw new AerError('malformed_wav', `an ${this.container} file needs a "ds64" chunk before its data`);
          size = this.ds64DataSize;
        }
        if (size === SIZE_UNKNOWN)
          this.warnings.push('the data chunk size is unset (0xFFFFFFFF, as written by a streaming encoder); read to the end of the file');
        this.remaining = size === SIZE_UNKNOWN ? Infinity : size;
        const rest = this.pending.subarray(8);
        this.pending = new Uint8Array(0);
        return this.samples(rest);
      }
      const padded = size + (size & 1);
      if (id !== 'fmt ' && id !== 'ds64') {
        this.pending = this.pending.subarray(8);
        this.skip = padded;
        continue;
      }
      if (size > MAX_HEADER_CHUNK) throw new AerError('malformed_wav', `the WAV file's ${JSON.stringify(id)} chunk claims ${size} bytes`);
      if (this.pending.length < 8 + padded) return [];
      const payload = new Uint8Array(this.pending.subarray(8, 8 + size));
      if (id === 'ds64') {
        if (size < 24) throw new AerError('malformed_wav', 'the RF64 "ds64" chunk is too short');
        this.ds64DataSize = Number(new DataView(payload.buffer).getBigUint64(8, true));
      } else {
        this.fmt = parseFmt(payload, new DataView(payload.buffer), { id, offset: 0, size }, this.container);
        this.format = { format: describeWav({ ...this.fmt, container: this.container }), sampleRate: this.fmt.sampleRate, channels: this.fmt.channels };
      }
      this.pending = this.pending.subarray(8 + padded);
    }
  }

  end(): { channels: Float32Array[]; warnings: string[] } {
    if (this.remaining === undefined) {
      throw new AerError('truncated_audio', this.fmt ? 'the WAV file ends before its "data" chunk' : 'the WAV file ends before its "fmt " and "data" chunks', {
        hint: 'send the whole file',
      });
    }
    if (Number.isFinite(this.remaining) && this.remaining > 0)
      this.warnings.push(`the WAV file is truncated: ${this.remaining} bytes of its data chunk are missing; what came was analysed`);
    if (this.carry.length > 0) this.warnings.push(`the data chunk ends with ${this.carry.length} bytes of an incomplete sample frame; they were ignored`);
    return { channels: Array.from({ length: this.fmt!.channels }, () => new Float32Array(0)), warnings: this.warnings };
  }

  private samples(bytes: Uint8Array): Float32Array[] {
    const fmt = this.fmt!;
    // Chunks after the data (a trailing LIST) are not audio.
    const take = bytes.subarray(0, Math.min(bytes.length, this.remaining!));
    this.remaining! -= take.length;
    const data = concat(this.carry, take);
    const frames = Math.floor(data.length / fmt.blockAlign);
    this.carry = new Uint8Array(data.subarray(frames * fmt.blockAlign));
    return decodeSamples(data, 0, frames, fmt);
  }
}

class OggFileStream implements FileReader {
  format: StreamedFormat | undefined;
  private readonly ogg = new OggOpusStreamDecoder(DEFAULT_OPUS_DECODE_RATE);
  private bytes = 0;
  private readonly warnings: string[] = [];

  push(bytes: Uint8Array): Float32Array[] {
    this.bytes += bytes.length;
    const chunk = this.ogg.push(bytes);
    this.warnings.push(...chunk.problems);
    if (!this.ogg.head) {
      if (this.bytes > OGG_HEADER_DEADLINE) throw this.noOpus();
      return [];
    }
    this.format ??= { format: 'Ogg Opus', sampleRate: this.ogg.sampleRate, channels: this.ogg.head.channels };
    return chunk.channels;
  }

  end(): { channels: Float32Array[]; warnings: string[] } {
    const chunk = this.ogg.end();
    if (!this.ogg.head) throw this.noOpus();
    return { channels: chunk.channels, warnings: [...this.warnings, ...chunk.problems] };
  }

  private noOpus(): AerError {
    const others = this.ogg.ignoredCodecs;
    return new AerError(
      'unsupported_format',
      others.length > 0 ? `the Ogg file holds ${others.join(' and ')}, not Opus` : 'the file holds no Ogg Opus stream',
      { hint: FFMPEG_HINT },
    );
  }
}
