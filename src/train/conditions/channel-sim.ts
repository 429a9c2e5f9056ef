/**
 * Channels between a speaker and the service, simulated: a telephone line
 * (8 kHz, the 300-3400 Hz band, G.711), a 16 kHz stream, and an Opus voice
 * link (libopus, the codec itself, through the service's own Opus
 * decoder). Each returns the audio as the service analyses it: back at the
 * model's 22050 Hz, by the same resampler a stream's channel uses. Used
 * to measure a model (conditions) and to train one (augmentation).
 */
import { Encoder } from '@evan/opus';
import { bandPass } from '../../audio/band-pass.ts';
import { concatSamples } from '../../audio/concat.ts';
import { alawToFloat, floatToAlaw, floatToMulaw, mulawToFloat } from '../../audio/g711.ts';
import { OpusStreamDecoder } from '../../audio/opus-decoder.ts';
import { resample } from '../../audio/resample.ts';
import { SAMPLE_RATE } from '../../features/recipe.ts';

export const TELEPHONE_RATE = 8000;
export type G711Law = 'mulaw' | 'alaw';

/** The G.711 bytes a telephone line carries of a 22050 Hz signal: 8 kHz, the 300-3400 Hz band, companded. */
export function telephoneBytes(signal: Float32Array, law: G711Law): Uint8Array {
  const band = bandPass(resample(signal, SAMPLE_RATE, TELEPHONE_RATE), TELEPHONE_RATE, 300, 3400);
  return law === 'mulaw' ? floatToMulaw(band) : floatToAlaw(band);
}

/** What the line delivers: those bytes expanded again, at 8 kHz. */
export function telephoneLine(signal: Float32Array, law: G711Law): Float32Array {
  const expand = law === 'mulaw' ? mulawToFloat : alawToFloat;
  return Float32Array.from(telephoneBytes(signal, law), (b) => expand[b]);
}

/** A 22050 Hz signal after a telephone line, as the service analyses it. */
export function viaTelephone(signal: Float32Array, law: G711Law): Float32Array {
  return resample(telephoneLine(signal, law), TELEPHONE_RATE, SAMPLE_RATE);
}

/** The rate of wideband voice (WebRTC, VoIP apps, most speech APIs): its band ends at 8 kHz. */
export const WIDEBAND_RATE = 16000;

/** A 22050 Hz signal as a 16 kHz stream delivers it: the band above 8 kHz gone, back at 22050 Hz by the service's resampler. */
export function via16k(signal: Float32Array): Float32Array {
  const out = new Float32Array(signal.length);
  const back = resample(resample(signal, SAMPLE_RATE, WIDEBAND_RATE), WIDEBAND_RATE, SAMPLE_RATE);
  out.set(back.subarray(0, out.length));
  return out;
}

/** Rate Opus voice is encoded at here: wideband, what voice apps send. */
const OPUS_RATE = WIDEBAND_RATE;
const FRAME = OPUS_RATE / 50;

/** A 22050 Hz signal encoded by libopus (VoIP mode, 20 ms frames, `kbps`) and decoded by the service's decoder, as the service analyses it. */
export function viaOpus(signal: Float32Array, kbps: number): Float32Array {
  const encoder = new Encoder({ channels: 1, sample_rate: OPUS_RATE, application: 'voip' });
  encoder.bitrate = kbps * 1000;
  const decoder = new OpusStreamDecoder(1);
  const input = resample(signal, SAMPLE_RATE, OPUS_RATE);
  const frame = new Int16Array(FRAME);
  const pieces: Float32Array[] = [];
  for (let p = 0; p < input.length; p += FRAME) {
    frame.fill(0);
    for (let i = 0; i < FRAME && p + i < input.length; i++) frame[i] = Math.max(-32768, Math.min(32767, Math.round(input[p + i] * 32767)));
    pieces.push(decoder.decode(encoder.encode(frame)).channels[0]);
  }
  decoder.dispose();
  const out = resample(concatSamples(pieces), decoder.sampleRate, SAMPLE_RATE);
  return out.subarray(0, Math.min(out.length, signal.length));
}
