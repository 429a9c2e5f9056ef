/**
 * The batch recipe: Mel frames of a span of 22050 Hz mono samples, and the
 * model input of one 3 s window. Spans that run past the signal are zero-padded,
 * which is also how a clip shorter than 3 s is padded.
 */
import { assertFiniteSamples } from '../audio/validate.ts';
import { AerError } from '../errors.ts';
import { melFrameAnalyzer } from './mel-frame.ts';
import { normalizeWindow, referenceToMax } from './normalize.ts';
import { HOP_LENGTH, N_FFT, N_MELS, WINDOW_SAMPLES } from './recipe.ts';

function frameCount(length: number): number {
  return 1 + Math.floor(length / HOP_LENGTH);
}

/** Centred STFT Mel power frames of samples[start .. start + length), time-major (frames x N_MELS). */
export function melPowerFrames(samples: Float32Array, start = 0, length = WINDOW_SAMPLES): Float64Array {
  const analyzer = melFrameAnalyzer();
  const frames = frameCount(length);
  const out = new Float64Array(frames * N_MELS);
  const hi = Math.min(samples.length, start + length);
  for (let t = 0; t < frames; t++) analyzer.melPower(samples, start + t * HOP_LENGTH - N_FFT / 2, start, hi, out, t * N_MELS);
  return out;
}

/** As melPowerFrames, in dB before referencing (10 log10 max(amin, power)). */
export function melDbFrames(samples: Float32Array, start = 0, length = WINDOW_SAMPLES): Float32Array {
  const analyzer = melFrameAnalyzer();
  const frames = frameCount(length);
  const out = new Float32Array(frames * N_MELS);
  const hi = Math.min(samples.length, start + length);
  for (let t = 0; t < frames; t++) analyzer.melDb(samples, start + t * HOP_LENGTH - N_FFT / 2, start, hi, out, t * N_MELS);
  return out;
}

/** librosa's power_to_db(melspectrogram(...), ref=np.max, top_db=80) of one window, time-major. */
export function windowMelDb(samples: Float32Array, start = 0): Float32Array {
  return referenceToMax(melDbFrames(samples, start));
}

/**
 * The model input (WINDOW_FRAMES x N_MELS, time-major) of the 3 s window
 * starting at samples[start]; samples must be mono at 22050 Hz.
 */
export function windowFeatures(samples: Float32Array, start = 0): Float32Array {
  assertFiniteSamples(samples.subarray(start, start + WINDOW_SAMPLES));
  return normalizeWindow(melDbFrames(samples, start));
}

/** The model input of a clip's first 3 s (trimmed, or zero-padded when shorter). */
export function clipFeatures(samples: Float32Array): Float32Array {
  if (samples.length === 0) throw new AerError('empty_audio', 'the audio has no samples, so there is nothing to analyse');
  return windowFeatures(samples, 0);
}
