/**
 * The batch recipe: Mel frames of a span of 22050 Hz mono samples, and the
 * model input of one 3 s window. Spans that run past the signal are zero-padded,
 * which is also how a clip shorter than 3 s is padded.
 */
import { assertFiniteSamples } from '../audio/validate.ts';
import { AerError } from '../errors.ts';
import { melFrameAnalyzer } from './mel-frame.ts';
import { referenceToMax } from './normalize.ts';
import { HOP_LENGTH, N_FFT, N_MELS, WINDOW_SAMPLES } from './recipe.ts';
import { type WindowInput, windowInputRows } from './window-input.ts';

function frameCount(length: number): number {
  return 1 + Math.floor(length / HOP_LENGTH);
}

type FrameFunction<T> = (signal: Float32Array, start: number, lo: number, hi: number, out: T, offset: number) => void;

/** Fill `out` (frames x N_MELS) with one frame function over the centred STFT grid of samples[start .. start + length). */
function frames<T extends Float32Array | Float64Array>(samples: Float32Array, start: number, length: number, out: T, frame: FrameFunction<T>): T {
  const hi = Math.min(samples.length, start + length);
  for (let t = 0; t < frameCount(length); t++) frame(samples, start + t * HOP_LENGTH - N_FFT / 2, start, hi, out, t * N_MELS);
  return out;
}

/** Centred STFT Mel power frames of samples[start .. start + length), time-major (frames x N_MELS); bands from `fmin` Hz. */
export function melPowerFrames(samples: Float32Array, start = 0, length = WINDOW_SAMPLES, fmin = 0): Float64Array {
  const analyzer = melFrameAnalyzer(fmin);
  return frames(samples, start, length, new Float64Array(frameCount(length) * N_MELS), analyzer.melPower.bind(analyzer));
}

/** As melPowerFrames, in dB before referencing (10 log10 max(amin, power)), exactly as the incremental extractor computes them. */
export function melDbFrames(samples: Float32Array, start = 0, length = WINDOW_SAMPLES, fmin = 0): Float32Array {
  const analyzer = melFrameAnalyzer(fmin);
  return frames(samples, start, length, new Float32Array(frameCount(length) * N_MELS), analyzer.melDb.bind(analyzer));
}

/** librosa's power_to_db(melspectrogram(...), ref=np.max, top_db=80) of one window, time-major. */
export function windowMelDb(samples: Float32Array, start = 0, fmin = 0): Float32Array {
  return referenceToMax(melDbFrames(samples, start, WINDOW_SAMPLES, fmin));
}

/**
 * The model input (WINDOW_FRAMES x N_MELS, time-major; two such rows for
 * `spans`) of the 3 s window starting at samples[start], Mel bands from
 * `fmin` Hz; samples must be mono at 22050 Hz.
 */
export function windowFeatures(samples: Float32Array, start = 0, input: WindowInput = 'whole', fmin = 0): Float32Array {
  assertFiniteSamples(samples.subarray(start, start + WINDOW_SAMPLES));
  return windowInputRows(melDbFrames(samples, start, WINDOW_SAMPLES, fmin), input);
}

/** The model input of a clip's first 3 s (trimmed, or zero-padded when shorter). */
export function clipFeatures(samples: Float32Array, fmin = 0): Float32Array {
  if (samples.length === 0) throw new AerError('empty_audio', 'the audio has no samples, so there is nothing to analyse');
  return windowFeatures(samples, 0, 'whole', fmin);
}
