/**
 * The Slaney Mel filter bank, as librosa.filters.mel(sr, n_fft, n_mels)
 * computes it with htk=False and norm='slaney' (float32 weights).
 */

const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

export function hzToMel(hz: number): number {
  return hz >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP : hz / F_SP;
}

export function melToHz(mel: number): number {
  return mel >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL)) : F_SP * mel;
}

/** One band's non-zero weights, over FFT bins start .. start + weights.length - 1. */
export interface MelBand {
  start: number;
  weights: Float32Array;
}

export interface MelFilterbank {
  nMels: number;
  nBins: number;
  /** Dense (nMels x nBins), row-major, as librosa returns it. */
  dense: Float32Array;
  /** The same weights, only the non-zero span of each band (the fast path). */
  bands: MelBand[];
}

export function slaneyMelFilterbank(sampleRate: number, nFft: number, nMels: number, fmin = 0, fmax = sampleRate / 2): MelFilterbank {
  const nBins = 1 + Math.floor(nFft / 2);
  // numpy's rfftfreq and linspace, operation for operation, so the band edges round as librosa's do.
  const binStep = 1 / (nFft * (1 / sampleRate));
  const binHz = (k: number) => k * binStep;
  const minMel = hzToMel(fmin);
  const maxMel = hzToMel(fmax);
  const melStep = (maxMel - minMel) / (nMels + 1);
  const melF = Array.from({ length: nMels + 2 }, (_, i) => melToHz(i === nMels + 1 ? maxMel : i * melStep + minMel));
  const dense = new Float32Array(nMels * nBins);
  const bands: MelBand[] = [];
  for (let m = 0; m < nMels; m++) {
    const lowerWidth = melF[m + 1] - melF[m];
    const upperWidth = melF[m + 2] - melF[m + 1];
    const enorm = 2 / (melF[m + 2] - melF[m]);
    let first = -1;
    let last = -1;
    for (let k = 0; k < nBins; k++) {
      const f = binHz(k);
      const lower = (f - melF[m]) / lowerWidth;
      const upper = (melF[m + 2] - f) / upperWidth;
      // librosa stores the triangle in float32 and then scales it in place.
      const w = Math.fround(Math.fround(Math.max(0, Math.min(lower, upper))) * enorm);
      dense[m * nBins + k] = w;
      if (w !== 0) {
        if (first < 0) first = k;
        last = k;
      }
    }
    const start = Math.max(first, 0);
    bands.push({ start, weights: dense.slice(m * nBins + start, m * nBins + last + 1) });
  }
  return { nMels, nBins, dense, bands };
}
