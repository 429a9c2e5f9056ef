/**
 * The model's input recipe (docs/architecture.md, "The model"), librosa 0.10 defaults:
 * mono 22050 Hz, 3 s windows, melspectrogram(n_fft=2048, hop=512, n_mels=128,
 * center=True, zero padding, Slaney), power_to_db(ref=max, top_db=80), z-score.
 */
export const SAMPLE_RATE = 22050;
export const N_FFT = 2048;
export const HOP_LENGTH = 512;
export const N_MELS = 128;
export const N_BINS = N_FFT / 2 + 1;
/** 3 s of audio. */
export const WINDOW_SAMPLES = 66150;
/** Frames of a centred STFT over one window: 1 + floor(66150 / 512). */
export const WINDOW_FRAMES = 1 + Math.floor(WINDOW_SAMPLES / HOP_LENGTH);
/** Values in one model input: WINDOW_FRAMES x N_MELS, time-major. */
export const WINDOW_VALUES = WINDOW_FRAMES * N_MELS;
export const TOP_DB = 80;
/** power_to_db's floor on power before the logarithm. */
export const AMIN = 1e-10;
/**
 * A window whose dB values have a standard deviation below this is treated as
 * constant (digital silence) and its z-scored features are all zero, where the
 * plain recipe would divide by zero.
 */
export const SILENT_STD_DB = 1e-5;

/** The recipe as stored in a model's metadata, so a model and the front end can be checked against each other. */
export const FEATURE_RECIPE = {
  name: 'aer-mel-v1',
  sample_rate: SAMPLE_RATE,
  window_samples: WINDOW_SAMPLES,
  n_fft: N_FFT,
  hop_length: HOP_LENGTH,
  n_mels: N_MELS,
  window: 'hann',
  center: true,
  pad_mode: 'constant',
  mel_scale: 'slaney',
  mel_norm: 'slaney',
  fmin: 0,
  fmax: SAMPLE_RATE / 2,
  power: 2,
  db_ref: 'max',
  top_db: TOP_DB,
  amin: AMIN,
  normalize: 'zscore_window',
  shape: [WINDOW_FRAMES, N_MELS, 1],
} as const;

/**
 * The lowest Mel band edge a model may be trained with (`--mel-fmin`). The
 * recipe's own is 0 Hz; a model trained above the band a VoIP path's or a
 * microphone's high-pass removes (60-100 Hz) reads such a path's audio as
 * it reads studio audio (docs/evaluation.md, "The Mel bands from 100 Hz").
 * Up to 300 Hz: a telephone line's band starts there.
 */
export const MAX_MEL_FMIN = 300;

export type FeatureRecipe = Omit<typeof FEATURE_RECIPE, 'fmin'> & { fmin: number };

/** The recipe with its Mel bands from `fmin` Hz. */
export function featureRecipe(fmin = 0): FeatureRecipe {
  return { ...FEATURE_RECIPE, fmin };
}
