/**
 * Audio files in: WAV (readWav) and Ogg Opus (readOggOpus), told apart by
 * their first bytes. Anything else is named, when it can be, and refused with
 * the ffmpeg command that converts it.
 */
import fs from 'node:fs/promises';
import { AerError, FFMPEG_HINT } from '../errors.ts';
import { readOggOpus } from './ogg-opus.ts';
import { looksLikeWav, readWav, type DecodedAudio, type WavFormat } from './wav.ts';

export interface LoadedAudio extends DecodedAudio {
  /** What the file was, for people: "WAV (16-bit PCM)", "Ogg Opus". */
  format: string;
  warnings: string[];
}

function ascii(bytes: Uint8Array, from: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(from, from + length));
}

/** A name for the formats people most often try, from their signatures. */
function recogniseOther(b: Uint8Array): string | undefined {
  if (b[0] === 0xff && (b[1] & 0xe6) === 0xe2) return 'MP3';
  if (b[0] === 0xff && (b[1] & 0xf6) === 0xf0) return 'AAC (ADTS)';
  return fixedSignature(b);
}

/** Formats whose files start with three or more fixed bytes: never raw samples by chance. */
function fixedSignature(b: Uint8Array): string | undefined {
  if (ascii(b, 0, 4) === 'fLaC') return 'FLAC';
  if (ascii(b, 0, 3) === 'ID3') return 'MP3';
  if (ascii(b, 4, 4) === 'ftyp') return 'MP4/M4A';
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'Matroska/WebM';
  if (ascii(b, 0, 5) === '#!AMR') return 'AMR';
  if (ascii(b, 0, 4) === 'FORM' && ['AIFF', 'AIFC'].includes(ascii(b, 8, 4))) return 'AIFF';
  if (ascii(b, 0, 4) === 'caff') return 'CAF';
  if (ascii(b, 0, 4) === '.snd') return 'Sun/NeXT AU';
  return undefined;
}

/** The kind of file `bytes` start with, when they start with a fixed signature (WAV, Ogg and the formats above): for telling a file from raw samples. */
export function fileSignature(bytes: Uint8Array): string | undefined {
  if (looksLikeWav(bytes)) return 'WAV';
  if (ascii(bytes, 0, 4) === 'OggS') return 'Ogg';
  return fixedSignature(bytes);
}

/** Which reader a file's first bytes (12 or more, or the whole file) call for; anything else is refused, named when it can be. */
export function containerOf(bytes: Uint8Array): 'wav' | 'ogg' {
  if (bytes.length === 0) throw new AerError('empty_file', 'the file is empty (0 bytes)');
  if (looksLikeWav(bytes)) return 'wav';
  if (ascii(bytes, 0, 4) === 'OggS') return 'ogg';
  const other = recogniseOther(bytes);
  throw new AerError(
    'unsupported_format',
    other
      ? `${other} files are not read directly; WAV and Ogg Opus are`
      : `not a WAV or Ogg Opus file (it starts with ${JSON.stringify(ascii(bytes, 0, Math.min(8, bytes.length)))})`,
    { hint: FFMPEG_HINT },
  );
}

/** What a WAV's format is called, for people: "WAV, 16-bit PCM". */
export function describeWav(f: Pick<WavFormat, 'encoding' | 'validBits' | 'bitsPerSample' | 'container' | 'extensible'>): string {
  const encoding =
    f.encoding === 'pcm_int'
      ? `${f.validBits}-bit PCM`
      : f.encoding === 'pcm_float'
        ? `${f.bitsPerSample}-bit float`
        : `G.711 ${f.encoding === 'mulaw' ? 'mu-law' : 'A-law'}`;
  const container = f.container === 'RIFF' ? 'WAV' : `WAV (${f.container})`;
  return `${container}, ${encoding}${f.extensible ? ', extensible' : ''}`;
}

export function decodeAudioFile(bytes: Uint8Array): LoadedAudio {
  if (containerOf(bytes) === 'wav') {
    const wav = readWav(bytes);
    return { sampleRate: wav.sampleRate, channels: wav.channels, format: describeWav(wav.format), warnings: wav.warnings };
  }
  const ogg = readOggOpus(bytes);
  return { sampleRate: ogg.sampleRate, channels: ogg.channels, format: 'Ogg Opus', warnings: [] };
}

export async function readAudioFile(path: string): Promise<LoadedAudio> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String((error as Error).message);
    throw new AerError('io_error', `cannot read ${path}: ${reason}`, { cause: error });
  }
  return decodeAudioFile(bytes);
}
