import { AerError } from '../errors.ts';

/** Throw invalid_samples at the first NaN or infinite sample. */
export function assertFiniteSamples(samples: Float32Array, what = 'audio'): void {
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i];
    // v - v is NaN exactly when v is NaN or infinite, and this loop stays monomorphic and fast.
    if (v - v !== 0) {
      throw new AerError('invalid_samples', `${what} has a ${Number.isNaN(v) ? 'NaN' : 'infinite'} sample at index ${i}; samples must be finite`, {
        hint: 'check the producer of this audio: float PCM must hold finite values, nominally in [-1, 1]',
      });
    }
  }
}
