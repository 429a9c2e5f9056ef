/**
 * One STFT frame to one Mel frame: periodic Hann window, real FFT, power,
 * Slaney Mel bands. The batch recipe and the incremental extractor both go
 * through here, so a frame computed either way is the same bits.
 */
import { RealFft } from './fft.ts';
import { slaneyMelFilterbank, type MelBand } from './mel-filterbank.ts';
import { AMIN, N_BINS, N_FFT, N_MELS, SAMPLE_RATE } from './recipe.ts';

export class MelFrameAnalyzer {
  private readonly fft = new RealFft(N_FFT);
  private readonly power = new Float64Array(N_BINS);
  private readonly bands: MelBand[];

  /** `fmin`: the lowest band edge in Hz (the recipe's 0, or a model's --mel-fmin). */
  constructor(fmin = 0) {
    this.bands = slaneyMelFilterbank(SAMPLE_RATE, N_FFT, N_MELS, fmin).bands;
  }

  /**
   * Mel power of the frame whose first sample is signal[start], where
   * samples outside signal[lo .. hi) count as zero (the recipe's padding).
   */
  melPower(signal: Float32Array, start: number, lo: number, hi: number, out: Float32Array | Float64Array, offset: number): void {
    this.fft.loadFrame(signal, start, Math.max(0, lo - start), Math.min(N_FFT, hi - start));
    const power = this.power;
    // scipy.signal.get_window('hann', N, fftbins=True): the periodic Hann window.
    this.fft.hannPowerSpectrum(power);
    const bands = this.bands;
    for (let m = 0; m < bands.length; m++) {
      const { start: k0, weights } = bands[m];
      let acc = 0;
      for (let j = 0; j < weights.length; j++) acc += weights[j] * power[k0 + j];
      out[offset + m] = acc;
    }
  }

  /** As melPower, then 10 * log10(max(amin, power)): dB before the window's reference is subtracted. */
  melDb(signal: Float32Array, start: number, lo: number, hi: number, out: Float32Array, offset: number): void {
    this.melPower(signal, start, lo, hi, out, offset);
    for (let m = offset; m < offset + N_MELS; m++) out[m] = 10 * Math.log10(Math.max(AMIN, out[m]));
  }
}

const shared = new Map<number, MelFrameAnalyzer>();

/** The process's analyzer for bands from `fmin` Hz: its scratch memory is reused by every caller (JavaScript runs one call at a time). */
export function melFrameAnalyzer(fmin = 0): MelFrameAnalyzer {
  let analyzer = shared.get(fmin);
  if (!analyzer) {
    analyzer = new MelFrameAnalyzer(fmin);
    shared.set(fmin, analyzer);
  }
  return analyzer;
}
