/**
 * Augmentation for training windows, each kind an option. Streams put a
 * speaker's words anywhere in a 3 s window, with background noise; a 2 s
 * EmoDB clip read as the recipe reads it always starts the window and ends
 * in silence. So: random placement of the clip in the window (random crops
 * of longer clips), small shifts, gain, additive noise at a random SNR, a
 * noise floor far below the speech in place of digital silence, and
 * SpecAugment-style masks on the features. And what the service hears
 * that clips are not: windows full of continuous speech (a speaker's clips
 * of one emotion joined), the windows of a call (a turn of a few clips on
 * a line floor, the window straddling its edges), and the channels calls
 * come through (a telephone line, Opus), which move the Mel bands far more
 * than noise does. And voices the training speakers do not have: the clip
 * played a little slower or faster, its pitch and formants moved with it.
 *
 * Gain alone cannot change the features: power_to_db(ref=max) and the
 * z-score remove any overall level. It matters only together with noise,
 * whose level follows the clip before the gain: there it widens the range
 * of signal-to-noise ratios.
 */
import { highPass } from '../audio/band-pass.ts';
import { resample } from '../audio/resample.ts';
import { AerError } from '../errors.ts';
import { windowFeatures } from '../features/extract.ts';
import { N_MELS, SAMPLE_RATE, WINDOW_FRAMES, WINDOW_SAMPLES } from '../features/recipe.ts';
import { rms } from './conditions/noise-mix.ts';
import { gaussian, type Random } from './random.ts';
import { callWindow, channelDraw, continuousWindow, type SimulatedChannel, type TrainingAudio } from './training-audio.ts';

export interface AugmentOptions {
  /** Put short clips at a random position in the window, and crop long ones at a random start. */
  placement: boolean;
  /** Shift the clip by up to this many milliseconds either way (0: off). */
  shiftMs: number;
  /** Scale the audio by up to this many dB either way (0: off). */
  gainDb: number;
  /** Probability of adding white noise to a window. */
  noiseProbability: number;
  /** The noise's signal-to-noise ratio, drawn uniformly from this range (dB). */
  noiseSnrDb: [number, number];
  /**
   * Add that noise over the clip's own samples only, its padding left digital
   * silence: as a model served as spans sees a window of noisy speech (its 2 s
   * of sound, the rest silence), and as the noise rows score a clip.
   */
  noiseOverClip: boolean;
  /** Probability of a noise floor under a window: white noise far below the speech, where a clip has digital zeros and the service a microphone's or a line's floor. */
  floorProbability: number;
  /** The floor's level below the clip's RMS, drawn uniformly from this range (dB). */
  floorDb: [number, number];
  /** Time masks per window, each up to `timeMaskFrames` frames wide (0: off). */
  timeMasks: number;
  timeMaskFrames: number;
  /** Frequency masks per window, each up to `freqMaskBands` Mel bands wide (0: off). */
  freqMasks: number;
  freqMaskBands: number;
  /** Probability of a window of continuous speech (the clip continued by others of its speaker and emotion) instead of the clip alone. */
  continuous: number;
  /** Probability of a window as a call's channel has it around a turn: a few of the speaker's clips of one emotion on a line floor, the window anywhere the stream rows would score it. */
  call: number;
  /**
   * Probability of a high-pass under the window, its cutoff drawn uniformly
   * from `highPassHz`: a microphone's, a VoIP stack's or a codec's path
   * removes the lowest band, which clips recorded in a studio keep.
   */
  highPassProbability: number;
  highPassHz: [number, number];
  /** Probability of hearing the window through a simulated channel, one of `channels` (equally likely). */
  channel: number;
  /** The channels drawn from. */
  channels: SimulatedChannel[];
  /** Probability of a window at another speed: every clip in it resampled as if played at one of `speeds` (equally likely). */
  speedProbability: number;
  /** Playback speeds drawn from: 0.9 is 10 % slower and lower. */
  speeds: number[];
}

/**
 * The floor's range: the stream condition's line noise (-65 dBFS) lies
 * about 40 dB under its speech; a quiet microphone lies further down.
 */
const FLOOR_DB: [number, number] = [35, 65];

/**
 * The high-pass cutoffs drawn: WebRTC's audio processing and Opus in VoIP
 * mode cut at about 60-100 Hz, small microphones roll off below 100-200 Hz,
 * a telephone line at 300 (heard by the companion instead).
 */
const HIGH_PASS_HZ: [number, number] = [60, 250];

/** Kaldi's speed perturbation (Ko et al., 2015): 10 % either way, within one speaker's range and moving the pitch with it. */
const SPEEDS = [0.9, 1.1];

export const NO_AUGMENTATION: AugmentOptions = {
  placement: false,
  shiftMs: 0,
  gainDb: 0,
  noiseProbability: 0,
  noiseSnrDb: [10, 40],
  noiseOverClip: false,
  floorProbability: 0,
  floorDb: FLOOR_DB,
  timeMasks: 0,
  timeMaskFrames: 0,
  freqMasks: 0,
  freqMaskBands: 0,
  continuous: 0,
  call: 0,
  highPassProbability: 0,
  highPassHz: HIGH_PASS_HZ,
  channel: 0,
  channels: ['telephone', 'opus'],
  speedProbability: 0,
  speeds: SPEEDS,
};

/**
 * A recipe recorded before some augmentation kinds existed, with those kinds
 * off: it was trained without them, so it matches a recipe that has them off.
 */
export function withLaterAugmentOff<T>(recipe: T): T {
  const { augment } = recipe as { augment?: Record<string, unknown> };
  return augment ? { ...recipe, augment: { ...NO_AUGMENTATION, ...augment } } : recipe;
}

/** Whether a model trained with `augment` (aer.json's training.config.augment) is narrowband: it heard every window through a telephone line. */
export function trainedOnTelephoneOnly(augment: Partial<AugmentOptions> | undefined): boolean {
  return augment?.channel === 1 && augment.channels?.length === 1 && augment.channels[0] === 'telephone';
}

/** The defaults, chosen by measurement (models/default/README.md). */
export const DEFAULT_AUGMENTATION: AugmentOptions = {
  placement: true,
  shiftMs: 0,
  gainDb: 6,
  noiseProbability: 0.5,
  noiseSnrDb: [10, 40],
  noiseOverClip: false,
  floorProbability: 0,
  floorDb: FLOOR_DB,
  timeMasks: 2,
  timeMaskFrames: 10,
  freqMasks: 2,
  freqMaskBands: 8,
  continuous: 0,
  call: 0,
  highPassProbability: 0,
  highPassHz: HIGH_PASS_HZ,
  channel: 0,
  channels: ['telephone', 'opus'],
  speedProbability: 0,
  speeds: SPEEDS,
};

/** What `continuous`, `call` and `channel` switch on: half the windows each. */
const CONDITION_PROBABILITY = 0.5;

/**
 * What `opus` switches on: a quarter of the windows. An Opus link cuts the
 * band at 4-8 kHz, so each such window lacks the top of the Mel range the
 * clean rows still have.
 */
const CODEC_PROBABILITY = 0.25;

/** The names `--augment` takes, each switching one kind on with its default strength. */
export const AUGMENT_KINDS = [
  'placement',
  'shift',
  'gain',
  'noise',
  'clip-noise',
  'floor',
  'specaugment',
  'continuous',
  'call',
  'channel',
  'telephone',
  'opus',
  '16k',
  'highpass',
  'speed',
] as const;
export type AugmentKind = (typeof AUGMENT_KINDS)[number];

/** `--augment all|none|placement,noise,...` to options. */
export function parseAugment(spec: string): AugmentOptions {
  if (spec === 'all') {
    return { ...DEFAULT_AUGMENTATION, shiftMs: 100, continuous: CONDITION_PROBABILITY, call: CONDITION_PROBABILITY, channel: CONDITION_PROBABILITY };
  }
  if (spec === 'none') return { ...NO_AUGMENTATION };
  if (spec === 'default') return { ...DEFAULT_AUGMENTATION };
  const options = { ...NO_AUGMENTATION };
  const channelKinds = new Set<string>(['channel', 'telephone', 'opus', '16k']);
  const kinds = spec.split(',').map((s) => s.trim());
  // The channel kinds each set the one probability and list of channels a window is heard through.
  if (kinds.filter((k) => channelKinds.has(k)).length > 1) {
    throw new AerError('invalid_argument', `--augment takes one of ${[...channelKinds].join(', ')} at a time, not ${JSON.stringify(spec)}`);
  }
  for (const kind of kinds) {
    switch (kind as AugmentKind) {
      case 'placement':
        options.placement = true;
        break;
      case 'shift':
        options.shiftMs = 100;
        break;
      case 'gain':
        options.gainDb = DEFAULT_AUGMENTATION.gainDb;
        break;
      case 'noise':
        options.noiseProbability = DEFAULT_AUGMENTATION.noiseProbability;
        break;
      case 'clip-noise':
        Object.assign(options, { noiseProbability: DEFAULT_AUGMENTATION.noiseProbability, noiseOverClip: true });
        break;
      case 'floor':
        options.floorProbability = 1;
        break;
      case 'specaugment':
        Object.assign(options, { timeMasks: 2, timeMaskFrames: 10, freqMasks: 2, freqMaskBands: 8 });
        break;
      case 'continuous':
        options.continuous = CONDITION_PROBABILITY;
        break;
      case 'call':
        options.call = CONDITION_PROBABILITY;
        break;
      case 'channel':
        options.channel = CONDITION_PROBABILITY;
        break;
      case 'telephone':
        // A narrowband model: every window as a telephone line delivers it.
        Object.assign(options, { channel: 1, channels: ['telephone'] });
        break;
      case 'opus':
        Object.assign(options, { channel: CODEC_PROBABILITY, channels: ['opus'] });
        break;
      case 'highpass':
        options.highPassProbability = CONDITION_PROBABILITY;
        break;
      case 'speed':
        options.speedProbability = CONDITION_PROBABILITY;
        break;
      case '16k':
        // What every 16 kHz stream is: the band above 8 kHz empty, a clip's is not.
        Object.assign(options, { channel: CONDITION_PROBABILITY, channels: ['16k'] });
        break;
      default:
        throw new AerError(
          'invalid_argument',
          `unknown augmentation ${JSON.stringify(kind)}; use default, all, none, or a list of ${AUGMENT_KINDS.join(', ')}`,
        );
    }
  }
  return options;
}

/** The augmentations whose share of the windows a flag sets, and what each needs in `--augment`. */
const SHARES = {
  noiseProbability: { flag: '--noise-probability', what: 'noisy windows', kinds: 'noise or clip-noise' },
  highPassProbability: { flag: '--high-pass-probability', what: 'high-passed windows', kinds: 'highpass' },
} as const;

/**
 * `options` with an augmentation on a share `p` of the windows instead of
 * half: the white noise of `noise` or `clip-noise`, or `highpass`'s filter.
 * Each trades robustness to its channel for how closely the clean windows
 * are fitted, and this sets the trade.
 */
export function withShare(options: AugmentOptions, share: keyof typeof SHARES, p: number): AugmentOptions {
  if (options[share] === 0) {
    const { flag, what, kinds } = SHARES[share];
    throw new AerError('invalid_argument', `${flag} sets the share of ${what}: add ${kinds} to --augment`);
  }
  return { ...options, [share]: p };
}

/** `options` with `highpass`'s cutoff drawn from `hz` instead of 60-250 Hz: how far below the voice a path's filter reaches. */
export function withHighPassRange(options: AugmentOptions, hz: [number, number]): AugmentOptions {
  if (options.highPassProbability === 0) {
    throw new AerError('invalid_argument', '--high-pass-hz sets the cutoffs of the high-passed windows: add highpass to --augment');
  }
  return { ...options, highPassHz: hz };
}

/** Where a clip of `length` samples lies in the window at relative position `where`: window sample i holds clip sample i - offset, for i in [from, to). */
function placement(length: number, where: number, shiftSamples: number): { offset: number; from: number; to: number } {
  const slack = WINDOW_SAMPLES - length;
  const offset = (slack >= 0 ? Math.round(where * slack) : -Math.round(where * -slack)) + shiftSamples;
  return { offset, from: Math.max(0, offset), to: Math.min(WINDOW_SAMPLES, offset + length) };
}

/**
 * The 3 s window holding `signal` at relative position `where` (0: clip at
 * the window's start, as the recipe reads a clip; 1: at its end). A clip
 * longer than the window is cropped at the same relative position.
 */
export function placeInWindow(signal: Float32Array, where: number, shiftSamples = 0): Float32Array {
  const window = new Float32Array(WINDOW_SAMPLES);
  const { offset, from, to } = placement(signal.length, where, shiftSamples);
  if (to > from) window.set(signal.subarray(from - offset, to - offset), from);
  return window;
}

/**
 * White noise added to `window[from, to)`, its level drawn uniformly from
 * `belowDb` under the clip's RMS: the clip's level before any gain (not the
 * padded window's), so a gain moves the speech against the noise.
 */
function addNoiseBelow(window: Float32Array, signal: Float32Array, [lo, hi]: [number, number], random: Random, from = 0, to = window.length): void {
  const sigma = rms(signal) / 10 ** ((lo + (hi - lo) * random()) / 20);
  for (let i = from; i < to; i++) window[i] += sigma * gaussian(random);
}

/** `signal` as if played at `speed` times its rate, read back at the model's rate: shorter and higher above 1, longer and lower below. */
export function atSpeed(signal: Float32Array, speed: number): Float32Array {
  return resample(signal, Math.round(SAMPLE_RATE * speed), SAMPLE_RATE);
}

/** The model input (Mel bands from `fmin` Hz) of one augmented training window of clip `id`. */
export function augmentedFeatures(audio: TrainingAudio, id: number, options: AugmentOptions, random: Random, fmin = 0): Float32Array {
  // Each kind is drawn only when asked for, so recipes without it draw as before.
  const channel = channelDraw(audio, options, random);
  // One speed for every clip of the window, as one voice.
  const speed = options.speedProbability > 0 && random() < options.speedProbability ? options.speeds[Math.floor(random() * options.speeds.length)] : 1;
  const heard = speed === 1 ? channel : (clip: number) => atSpeed(channel(clip), speed);
  const signal = heard(id);
  const call = options.call > 0 && random() < options.call ? callWindow(audio, id, heard, random) : undefined;
  const continuous = !call && options.continuous > 0 && random() < options.continuous ? continuousWindow(audio, id, heard, random) : undefined;
  const shift = options.shiftMs > 0 ? Math.round(((2 * random() - 1) * options.shiftMs * SAMPLE_RATE) / 1000) : 0;
  // A clip alone in its window (not joined speech, not a call) has padding around it.
  const alone = !call && !continuous;
  const where = alone && options.placement ? random() : 0;
  const window = call ?? continuous ?? placeInWindow(signal, where, shift);
  if (options.gainDb > 0) {
    const gain = 10 ** (((2 * random() - 1) * options.gainDb) / 20);
    for (let i = 0; i < window.length; i++) window[i] *= gain;
  }
  if (options.noiseProbability > 0 && random() < options.noiseProbability) {
    const { from, to } = options.noiseOverClip && alone ? placement(signal.length, where, shift) : { from: 0, to: WINDOW_SAMPLES };
    addNoiseBelow(window, signal, options.noiseSnrDb, random, from, to);
  }
  // A call has a line's floor under everything, never digital silence.
  if (call || (options.floorProbability > 0 && random() < options.floorProbability)) addNoiseBelow(window, signal, options.floorDb, random);
  // Last, as the path's filter comes after the room's noise.
  const [lowest, highest] = options.highPassHz;
  const filtered =
    options.highPassProbability > 0 && random() < options.highPassProbability ? highPass(window, SAMPLE_RATE, lowest + (highest - lowest) * random()) : window;
  const features = windowFeatures(filtered, 0, 'whole', fmin);
  maskFeatures(features, options, random);
  return features;
}

/** SpecAugment-style masks: whole frames and whole bands set to 0, the window's mean after the z-score. */
export function maskFeatures(features: Float32Array, options: AugmentOptions, random: Random): void {
  for (let m = 0; m < options.timeMasks; m++) {
    const width = Math.floor(random() * (options.timeMaskFrames + 1));
    const start = Math.floor(random() * (WINDOW_FRAMES - width + 1));
    features.fill(0, start * N_MELS, (start + width) * N_MELS);
  }
  for (let m = 0; m < options.freqMasks; m++) {
    const width = Math.floor(random() * (options.freqMaskBands + 1));
    const start = Math.floor(random() * (N_MELS - width + 1));
    for (let t = 0; t < WINDOW_FRAMES; t++) features.fill(0, t * N_MELS + start, t * N_MELS + start + width);
  }
}
