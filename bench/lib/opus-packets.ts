/** Opus packets for benchmarks, as a voice client would send them: 20 ms, mono, 48 kHz, 24 kbit/s. */
import { Encoder } from '@evan/opus';

export function opusPackets(pcm48k: Float32Array): Uint8Array[] {
  const encoder = new Encoder({ channels: 1, sample_rate: 48000, application: 'voip' });
  encoder.bitrate = 24000;
  const packets: Uint8Array[] = [];
  const frame = new Int16Array(960);
  for (let p = 0; p + 960 <= pcm48k.length; p += 960) {
    for (let i = 0; i < 960; i++) frame[i] = Math.max(-32768, Math.min(32767, Math.round(pcm48k[p + i] * 32767)));
    packets.push(encoder.encode(frame));
  }
  return packets;
}
