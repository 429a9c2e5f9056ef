/**
 * WAV reader: RIFF, RF64 and BW64 containers; PCM integer (8/16/24/32-bit,
 * any valid-bits in its container), IEEE float (32/64-bit), G.711 mu-law and
 * A-law; WAVE_FORMAT_EXTENSIBLE; any chunk order, unknown chunks skipped,
 * odd-sized chunks with their padding byte. Output is planar float32 in
 * [-1, 1), scaled as libsndfile (and so librosa) scales it.
 */
import { AerError, FFMPEG_HINT } from '../errors.ts';
import { MAX_CHANNELS } from './limits.ts';
import { alawToFloat, mulawToFloat } from './g711.ts';

export type WavEncoding = 'pcm_int' | 'pcm_float' | 'mulaw' | 'alaw';

export interface WavFormat {
  encoding: WavEncoding;
  /** Bits per sample in the container (8, 16, 24, 32 or 64). */
  bitsPerSample: number;
  /** Meaningful bits (EXTENSIBLE's wValidBitsPerSample), at most bitsPerSample. */
  validBits: number;
  /** The format tag after resolving EXTENSIBLE's sub-format. */
  formatTag: number;
  extensible: boolean;
  container: 'RIFF' | 'RF64' | 'BW64';
}

export interface DecodedAudio {
  sampleRate: number;
  /** One Float32Array per channel, all the same length. */
  channels: Float32Array[];
}

export interface WavAudio extends DecodedAudio {
  format: WavFormat;
  /** Things that were odd but had a defined, lossless-or-stated outcome. */
  warnings: string[];
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_ALAW = 0x0006;
const WAVE_FORMAT_MULAW = 0x0007;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** The sub-format GUID of EXTENSIBLE is the format tag followed by these bytes. */
const KSDATAFORMAT_SUFFIX = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
/** A 32-bit chunk size of all ones means "unknown" (streamed WAV, or RF64's ds64). */
export const SIZE_UNKNOWN = 0xffffffff;

export interface Chunk {
  id: string;
  /** Offset of the chunk's payload. */
  offset: number;
  /** Declared payload size. */
  size: number;
}

export function fourcc(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset], bytes[offset + 1], bytes[offset + 2], bytes[offset + 3]);
}

function printable(id: string): string {
  return JSON.stringify(id);
}

/** True when the bytes start like a WAV file this reader would try. */
export function looksLikeWav(bytes: Uint8Array): boolean {
  if (bytes.length < 12) return false;
  const magic = fourcc(bytes, 0);
  return (magic === 'RIFF' || magic === 'RF64' || magic === 'BW64' || magic === 'RIFX') && fourcc(bytes, 8) === 'WAVE';
}

export function readWav(bytes: Uint8Array): WavAudio {
  if (bytes.length === 0) throw new AerError('empty_file', 'the WAV file is empty (0 bytes)');
  if (bytes.length < 12) {
    throw new AerError('truncated_audio', `the WAV file is only ${bytes.length} bytes; a RIFF header alone needs 12`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = fourcc(bytes, 0);
  if (magic === 'RIFX') {
    throw new AerError('unsupported_encoding', 'big-endian WAV (RIFX) is not supported', { hint: FFMPEG_HINT });
  }
  if ((magic !== 'RIFF' && magic !== 'RF64' && magic !== 'BW64') || fourcc(bytes, 8) !== 'WAVE') {
    throw new AerError('malformed_wav', `not a WAV file: expected "RIFF....WAVE", found ${printable(fourcc(bytes, 0))}...${printable(fourcc(bytes, 8))}`, {
      hint: FFMPEG_HINT,
    });
  }
  const container = magic as WavFormat['container'];
  const warnings: string[] = [];
  const chunks = listChunks(bytes, view, container, warnings);

  const fmtChunk = chunks.find((c) => c.id === 'fmt ');
  if (!fmtChunk) throw new AerError('malformed_wav', 'the WAV file has no "fmt " chunk, so its sample format is unknown');
  const dataChunk = chunks.find((c) => c.id === 'data');
  if (!dataChunk) throw new AerError('malformed_wav', 'the WAV file has no "data" chunk');

  const fmt = parseFmt(bytes, view, fmtChunk, container);
  let dataSize = dataChunk.size;
  const available = bytes.length - dataChunk.offset;
  if (dataSize === SIZE_UNKNOWN) {
    dataSize = available;
    warnings.push('the data chunk size is unset (0xFFFFFFFF, as written by a streaming encoder); read to the end of the file');
  } else if (dataSize > available) {
    throw new AerError(
      'truncated_audio',
      `the WAV file is truncated: its data chunk declares ${dataSize} bytes but only ${available} follow ` +
        `(${formatSeconds(available / fmt.blockAlign / fmt.sampleRate)} of ${formatSeconds(dataSize / fmt.blockAlign / fmt.sampleRate)})`,
      { hint: 'export the file again, or let ffmpeg repair it: `ffmpeg -i broken.wav fixed.wav`' },
    );
  }
  const frames = Math.floor(dataSize / fmt.blockAlign);
  const partial = dataSize - frames * fmt.blockAlign;
  if (partial !== 0) {
    warnings.push(`the data chunk ends with ${partial} bytes of an incomplete sample frame; they were ignored`);
  }
  const channels = decodeSamples(bytes, dataChunk.offset, frames, fmt);
  return {
    sampleRate: fmt.sampleRate,
    channels,
    format: {
      encoding: fmt.encoding,
      bitsPerSample: fmt.bitsPerSample,
      validBits: fmt.validBits,
      formatTag: fmt.formatTag,
      extensible: fmt.extensible,
      container,
    },
    warnings,
  };
}

function formatSeconds(s: number): string {
  return `${s.toFixed(3)} s`;
}

function listChunks(bytes: Uint8Array, view: DataView, container: WavFormat['container'], warnings: string[]): Chunk[] {
  const chunks: Chunk[] = [];
  let ds64DataSize: number | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = fourcc(bytes, offset);
    let size = view.getUint32(offset + 4, true);
    const payload = offset + 8;
    if (id === 'ds64') {
      if (size < 24 || payload + 24 > bytes.length) throw new AerError('malformed_wav', 'the RF64 "ds64" chunk is too short');
      ds64DataSize = Number(view.getBigUint64(payload + 8, true));
    }
    if (id === 'data' && container !== 'RIFF' && size === SIZE_UNKNOWN) {
      if (ds64DataSize === undefined) throw new AerError('malformed_wav', `an ${container} file needs a "ds64" chunk before its data`);
      size = ds64DataSize;
    }
    chunks.push({ id, offset: payload, size });
    if (id === 'data' && (size === SIZE_UNKNOWN || payload + size >= bytes.length)) break;
    // Chunks are padded to an even size; the pad byte is not counted in the size.
    const next = payload + size + (size & 1);
    if (next > bytes.length && id !== 'data') {
      if (chunks.some((c) => c.id === 'data')) {
        warnings.push(`the trailing ${printable(id)} chunk is cut short; it was ignored`);
        chunks.pop();
        break;
      }
      throw new AerError('truncated_audio', `the WAV file is truncated inside its ${printable(id)} chunk, before any audio data`);
    }
    offset = next;
  }
  return chunks;
}

export interface Fmt {
  encoding: WavEncoding;
  formatTag: number;
  extensible: boolean;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
  validBits: number;
}

export function parseFmt(bytes: Uint8Array, view: DataView, chunk: Chunk, container: string): Fmt {
  if (chunk.size < 14 || chunk.offset + Math.min(chunk.size, 16) > bytes.length) {
    throw new AerError('malformed_wav', `the "fmt " chunk is ${chunk.size} bytes; it needs at least 16`);
  }
  const o = chunk.offset;
  let formatTag = view.getUint16(o, true);
  const channels = view.getUint16(o + 2, true);
  const sampleRate = view.getUint32(o + 4, true);
  const blockAlign = view.getUint16(o + 12, true);
  const bitsPerSample = chunk.size >= 16 ? view.getUint16(o + 14, true) : 8;
  let validBits = bitsPerSample;
  const extensible = formatTag === WAVE_FORMAT_EXTENSIBLE;
  if (extensible) {
    if (chunk.size < 40) throw new AerError('malformed_wav', `a WAVE_FORMAT_EXTENSIBLE "fmt " chunk needs 40 bytes, this one has ${chunk.size}`);
    validBits = view.getUint16(o + 18, true) || bitsPerSample;
    formatTag = view.getUint16(o + 24, true);
    for (let i = 0; i < KSDATAFORMAT_SUFFIX.length; i++) {
      if (bytes[o + 26 + i] !== KSDATAFORMAT_SUFFIX[i]) {
        throw new AerError('unsupported_encoding', 'the WAV sub-format GUID is not a standard KSDATAFORMAT one', { hint: FFMPEG_HINT });
      }
    }
  }
  if (channels === 0) throw new AerError('malformed_wav', 'the WAV header says the file has 0 channels');
  if (channels > MAX_CHANNELS) {
    throw new AerError('too_many_channels', `the WAV file has ${channels} channels; at most ${MAX_CHANNELS} are supported`, {
      hint: 'pick or mix the channels you need first, e.g. `ffmpeg -i input.wav -ac 2 output.wav`',
    });
  }
  if (sampleRate === 0) throw new AerError('malformed_wav', 'the WAV header says the sample rate is 0 Hz');

  let encoding: WavEncoding;
  let supportedBits: number[];
  switch (formatTag) {
    case WAVE_FORMAT_PCM:
      encoding = 'pcm_int';
      supportedBits = [8, 16, 24, 32];
      break;
    case WAVE_FORMAT_IEEE_FLOAT:
      encoding = 'pcm_float';
      supportedBits = [32, 64];
      break;
    case WAVE_FORMAT_MULAW:
      encoding = 'mulaw';
      supportedBits = [8];
      break;
    case WAVE_FORMAT_ALAW:
      encoding = 'alaw';
      supportedBits = [8];
      break;
    default:
      throw new AerError(
        'unsupported_encoding',
        `WAV format tag 0x${formatTag.toString(16).padStart(4, '0')} (${formatTagName(formatTag)}) is not supported; ${container} PCM, float, mu-law and A-law are`,
        {
          hint: FFMPEG_HINT,
        },
      );
  }
  if (!supportedBits.includes(bitsPerSample)) {
    throw new AerError('unsupported_encoding', `${bitsPerSample}-bit ${encoding} WAV is not supported (only ${supportedBits.join('/')}-bit)`, {
      hint: FFMPEG_HINT,
    });
  }
  if (validBits > bitsPerSample) {
    throw new AerError('malformed_wav', `the header claims ${validBits} valid bits in a ${bitsPerSample}-bit container`);
  }
  const expectedAlign = channels * (bitsPerSample / 8);
  if (blockAlign !== expectedAlign) {
    throw new AerError(
      'malformed_wav',
      `the block alignment is ${blockAlign} bytes but ${channels} channels of ${bitsPerSample}-bit samples need ${expectedAlign}`,
    );
  }
  return { encoding, formatTag, extensible, channels, sampleRate, blockAlign, bitsPerSample, validBits };
}

function formatTagName(tag: number): string {
  const names: Record<number, string> = {
    0x0002: 'Microsoft ADPCM',
    0x0011: 'IMA ADPCM',
    0x0031: 'GSM 6.10',
    0x0050: 'MPEG',
    0x0055: 'MP3',
    0x0092: 'Dolby AC3',
    0x00ff: 'AAC',
    0x1610: 'AAC',
  };
  return names[tag] ?? 'unknown';
}

export function decodeSamples(bytes: Uint8Array, offset: number, frames: number, fmt: Fmt): Float32Array[] {
  const n = fmt.channels;
  const out = Array.from({ length: n }, () => new Float32Array(frames));
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, frames * fmt.blockAlign);
  const bytesPerSample = fmt.bitsPerSample / 8;
  switch (fmt.encoding) {
    case 'pcm_int':
      decodeInt(view, out, frames, n, bytesPerSample);
      break;
    case 'pcm_float':
      decodeFloat(view, out, frames, n, bytesPerSample);
      break;
    case 'mulaw':
    case 'alaw': {
      const table = fmt.encoding === 'mulaw' ? mulawToFloat : alawToFloat;
      for (let f = 0, p = 0; f < frames; f++) for (let c = 0; c < n; c++) out[c][f] = table[view.getUint8(p++)];
      break;
    }
  }
  return out;
}

function decodeInt(view: DataView, out: Float32Array[], frames: number, n: number, bytesPerSample: number): void {
  let p = 0;
  switch (bytesPerSample) {
    case 1:
      for (let f = 0; f < frames; f++) for (let c = 0; c < n; c++) out[c][f] = (view.getUint8(p++) - 128) / 128;
      break;
    case 2:
      for (let f = 0; f < frames; f++) for (let c = 0; c < n; c++, p += 2) out[c][f] = view.getInt16(p, true) / 32768;
      break;
    case 3:
      for (let f = 0; f < frames; f++) {
        for (let c = 0; c < n; c++, p += 3) {
          const v = view.getUint8(p) | (view.getUint8(p + 1) << 8) | (view.getInt8(p + 2) << 16);
          out[c][f] = v / 8388608;
        }
      }
      break;
    case 4:
      for (let f = 0; f < frames; f++) for (let c = 0; c < n; c++, p += 4) out[c][f] = view.getInt32(p, true) / 2147483648;
      break;
  }
}

function decodeFloat(view: DataView, out: Float32Array[], frames: number, n: number, bytesPerSample: number): void {
  let p = 0;
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < n; c++, p += bytesPerSample) {
      const v = bytesPerSample === 4 ? view.getFloat32(p, true) : view.getFloat64(p, true);
      if (!Number.isFinite(v)) {
        throw new AerError('invalid_samples', `sample ${f} of channel ${c} is ${v}; float WAV data must be finite`, {
          hint: 'the file is corrupt or was written from unchecked floats; clean it up before analysing it',
        });
      }
      out[c][f] = v;
    }
  }
}
