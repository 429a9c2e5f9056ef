/**
 * A headerless upload (raw PCM or G.711 bytes, as a telephony platform
 * records them) read as its bytes arrive: the format comes from the request,
 * not the file, so it is known before the first byte.
 */
import type { FileReader, StreamedFormat } from './file-stream.ts';
import { type PcmEncoding, PcmStreamDecoder } from './pcm.ts';

const NAMES: Record<PcmEncoding, string> = { pcm_s16le: '16-bit PCM', pcm_f32le: '32-bit float PCM', mulaw: 'G.711 mu-law', alaw: 'G.711 A-law' };

export class RawFileStream implements FileReader {
  readonly format: StreamedFormat;
  private readonly decoder: PcmStreamDecoder;

  constructor(encoding: PcmEncoding, sampleRate: number, channels: number) {
    this.decoder = new PcmStreamDecoder(encoding, channels);
    this.format = { format: `raw ${NAMES[encoding]}`, sampleRate, channels };
  }

  push(bytes: Uint8Array): Float32Array[] {
    return this.decoder.decode(bytes);
  }

  end(): { channels: Float32Array[]; warnings: string[] } {
    const left = this.decoder.pendingBytes;
    return {
      channels: [],
      warnings:
        left > 0 ? [`the body ended with ${left} byte${left === 1 ? '' : 's'} short of a whole frame; ${left === 1 ? 'it was' : 'they were'} dropped`] : [],
    };
  }
}
