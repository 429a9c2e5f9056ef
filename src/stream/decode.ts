/**
 * A session's decoder: one binary message in (PCM or G.711 frames, one Opus
 * packet, or Ogg pages), planar float32 out at the decoder's rate. Streams are
 * lenient: damaged Opus packets and Ogg pages are concealed and reported as
 * problems; what cannot be a stream of the declared encoding at all (PCM
 * with NaNs, 64 KiB without an Ogg Opus header) is an AerError.
 */
import { mixToMono } from '../audio/mix.ts';
import { OggOpusStreamDecoder } from '../audio/ogg-opus.ts';
import { DEFAULT_OPUS_DECODE_RATE, OpusStreamDecoder } from '../audio/opus-decoder.ts';
import { fileSignature } from '../audio/load.ts';
import { PcmStreamDecoder } from '../audio/pcm.ts';
import { AerError } from '../errors.ts';
import type { StreamConfig } from '../protocol/stream-config.ts';

export interface Decoded {
  /** One array per channel of the session (empty arrays when nothing came out). */
  channels: Float32Array[];
  problems: string[];
}

export interface StreamDecoder {
  /** Rate of the decoded audio. */
  readonly sampleRate: number;
  decode(message: Uint8Array): Decoded;
  /** End of input: what is left. */
  end(): Decoded;
}

/** Bytes an ogg_opus stream may send before its Opus header must have been seen. */
const OGG_HEADER_DEADLINE = 64 * 1024;

/** A whole file sent where raw samples were promised would be analysed as noise: refused, saying what it is. */
function refuseFileHeader(first: Uint8Array, encoding: string): void {
  const kind = fileSignature(first);
  if (!kind) return;
  throw new AerError('unsupported_format', `the stream was opened for raw ${encoding} samples, but its first bytes are the header of a ${kind} file`, {
    hint:
      kind === 'WAV'
        ? 'send the samples that follow the header (or POST the whole file to /v1/classify, which reads WAV and Ogg Opus)'
        : kind === 'Ogg'
          ? 'connect with encoding=ogg_opus for an Ogg Opus stream'
          : `convert to raw samples first, e.g. ffmpeg -i in -f s16le -ac 1 -ar 16000 out.raw, or POST a WAV to /v1/classify`,
  });
}

export function createStreamDecoder(config: StreamConfig): StreamDecoder {
  const empty = (): Float32Array[] => Array.from({ length: config.channels }, () => new Float32Array(0));
  switch (config.encoding) {
    case 'pcm_s16le':
    case 'pcm_f32le':
    case 'mulaw':
    case 'alaw': {
      const pcm = new PcmStreamDecoder(config.encoding, config.channels);
      let first = true;
      return {
        sampleRate: config.sampleRate,
        decode: (m) => {
          if (first && m.length > 0) {
            first = false;
            refuseFileHeader(m, config.encoding);
          }
          return { channels: pcm.decode(m), problems: [] };
        },
        end: () => ({
          channels: empty(),
          problems: pcm.pendingBytes > 0 ? [`the stream ended with ${pcm.pendingBytes} bytes that do not make a whole frame; they were dropped`] : [],
        }),
      };
    }
    case 'opus': {
      const opus = new OpusStreamDecoder(config.channels);
      return {
        sampleRate: opus.sampleRate,
        decode: (m) => {
          const result = opus.decode(m);
          return { channels: result.channels, problems: result.error ? [`${result.error.message}; concealed`] : [] };
        },
        end: () => ({ channels: empty(), problems: [] }),
      };
    }
    case 'ogg_opus': {
      const ogg = new OggOpusStreamDecoder(DEFAULT_OPUS_DECODE_RATE);
      let bytes = 0;
      /** The stream's channels as the session wants them: mixed down to mono, or as they are. */
      const fit = (channels: Float32Array[]): Float32Array[] => {
        if (channels.length === 0 || channels[0].length === 0) return empty();
        if (channels.length === config.channels) return channels;
        if (config.channels === 1) return [mixToMono(channels)];
        throw new AerError('malformed_ogg', `the Ogg Opus stream has ${channels.length} channel(s), the session asked for ${config.channels}`, {
          hint: 'connect with channels=1 for a mono stream',
        });
      };
      return {
        sampleRate: ogg.sampleRate,
        decode: (m) => {
          bytes += m.length;
          const chunk = ogg.push(m);
          if (!ogg.head && bytes > OGG_HEADER_DEADLINE) {
            throw new AerError('malformed_ogg', `no Ogg Opus header in the first ${bytes} bytes: this is not an Ogg Opus stream`, {
              hint: "send Ogg pages from the stream's start, or connect with the encoding you send",
            });
          }
          return { channels: fit(chunk.channels), problems: chunk.problems };
        },
        end: () => {
          const chunk = ogg.end();
          return { channels: fit(chunk.channels), problems: chunk.problems };
        },
      };
    }
  }
}
