/**
 * Audio files for streaming: WAV (PCM 8/16/24/32-bit, float 32) is sent as
 * PCM, Ogg Opus as its own pages. A file is read whole and cut into chunks
 * that know where they end on the stream's clock, so they can be paced.
 */
import { readFile } from 'node:fs/promises';
import { type AudioFormat, bytesPerFrame } from '../audio.ts';
import { AerClientError } from '../errors.ts';

export interface AudioChunk {
  bytes: Uint8Array;
  /** Where this chunk's audio ends, in seconds from the file's start. */
  endS: number;
}

export interface AudioFileSource {
  path: string;
  format: AudioFormat;
  durationS: number;
  chunks: AudioChunk[];
}

const MAX_CHANNELS = 2;

function unreadable(path: string, why: string): AerClientError {
  return new AerClientError('unreadable_file', `${path}: ${why}`);
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

function wav(path: string, bytes: Uint8Array, chunkMs: number): AudioFileSource {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: { tag: number; channels: number; rate: number; bits: number } | undefined;
  let data: Uint8Array | undefined;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = ascii(bytes, at, 4);
    const size = view.getUint32(at + 4, true);
    const body = bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + size));
    if (id === 'fmt ') {
      let tag = view.getUint16(at + 8, true);
      if (tag === 0xfffe && size >= 26) tag = view.getUint16(at + 32, true);
      fmt = { tag, channels: view.getUint16(at + 10, true), rate: view.getUint32(at + 12, true), bits: view.getUint16(at + 22, true) };
    } else if (id === 'data') data = body;
    at += 8 + size + (size % 2);
  }
  if (!fmt || !data) throw unreadable(path, `a WAV file without ${fmt ? 'a data' : 'an fmt'} chunk`);
  const { tag, channels, rate, bits } = fmt;
  if (channels < 1 || channels > MAX_CHANNELS) throw unreadable(path, `${channels} channels; a stream carries 1 or 2 (ffmpeg -i IN -ac 2 OUT.wav)`);
  const width = bits / 8;
  const frames = Math.floor(data.length / (width * channels));
  let encoding: AudioFormat['encoding'];
  let pcm: Uint8Array;
  if (tag === 1 && bits === 16) {
    encoding = 'pcm_s16le';
    pcm = data.subarray(0, frames * 2 * channels);
  } else if ((tag === 3 && bits === 32) || (tag === 1 && (bits === 8 || bits === 24 || bits === 32))) {
    encoding = 'pcm_f32le';
    const out = new Float32Array(frames * channels);
    const d = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i < out.length; i++) {
      const o = i * width;
      out[i] =
        tag === 3
          ? d.getFloat32(o, true)
          : bits === 8
            ? (d.getUint8(o) - 128) / 128
            : bits === 24
              ? (d.getUint8(o) | (d.getUint8(o + 1) << 8) | (d.getInt8(o + 2) << 16)) / 8388608
              : d.getInt32(o, true) / 2147483648;
    }
    pcm = new Uint8Array(out.buffer);
  } else {
    throw unreadable(path, `WAV format ${tag} at ${bits} bits is not streamed; convert it: ffmpeg -i ${path} -c:a pcm_s16le OUT.wav`);
  }
  const frameBytes = bytesPerFrame({ encoding, sampleRate: rate, channels });
  const step = Math.max(1, Math.round((rate * chunkMs) / 1000)) * frameBytes;
  const chunks: AudioChunk[] = [];
  for (let i = 0; i < pcm.length; i += step) {
    const piece = pcm.subarray(i, i + step);
    chunks.push({ bytes: piece, endS: (i + piece.length) / frameBytes / rate });
  }
  return { path, format: { encoding, sampleRate: rate, channels }, durationS: frames / rate, chunks };
}

function oggOpus(path: string, bytes: Uint8Array): AudioFileSource {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: AudioChunk[] = [];
  let channels = 0;
  let preSkip = 0;
  let endS = 0;
  for (let at = 0; at < bytes.length; ) {
    if (ascii(bytes, at, 4) !== 'OggS' || at + 27 > bytes.length) throw unreadable(path, `no Ogg page at byte ${at}: the file is damaged`);
    const granule = Number(view.getBigInt64(at + 6, true));
    const segments = bytes[at + 26];
    let size = 27 + segments;
    for (let s = 0; s < segments; s++) size += bytes[at + 27 + s];
    if (at + size > bytes.length) throw unreadable(path, `the Ogg page at byte ${at} is cut short: the file is truncated`);
    const body = at + 27 + segments;
    if (at === 0) {
      if (ascii(bytes, body, 8) !== 'OpusHead')
        throw unreadable(path, 'an Ogg file without Opus audio (Vorbis? FLAC?); convert it: ffmpeg -i IN -c:a libopus OUT.opus');
      channels = bytes[body + 9];
      preSkip = view.getUint16(body + 10, true);
    }
    if (granule > 0) endS = Math.max(endS, (granule - preSkip) / 48000);
    chunks.push({ bytes: bytes.subarray(at, at + size), endS });
    at += size;
  }
  if (channels < 1 || channels > MAX_CHANNELS) throw unreadable(path, `${channels} Opus channels; a stream carries 1 or 2`);
  return { path, format: { encoding: 'ogg_opus', sampleRate: 48000, channels }, durationS: endS, chunks };
}

/** Reads a WAV or Ogg Opus file for streaming, cut into `chunkMs` pieces (PCM) or pages (Ogg). */
export async function readAudioFile(path: string, chunkMs = 100): Promise<AudioFileSource> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw unreadable(path, `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (bytes.length === 0) throw unreadable(path, 'the file is empty');
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WAVE') return wav(path, bytes, chunkMs);
  if (ascii(bytes, 0, 4) === 'OggS') return oggOpus(path, bytes);
  throw unreadable(path, `not WAV or Ogg Opus; convert it: ffmpeg -i ${path} -ac 1 -ar 16000 -c:a pcm_s16le OUT.wav`);
}
