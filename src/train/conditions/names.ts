/**
 * The conditions a model is measured under: what the service receives,
 * not only clean isolated clips. Each condition names one or more rows of
 * the report (its variants: codecs, bit rates, noises and levels).
 */
import { AerError } from '../../errors.ts';

export const CONDITIONS = ['clean', 'continuous', 'telephone', 'opus', 'noise', 'stream'] as const;
export type Condition = (typeof CONDITIONS)[number];

/** The report's rows per condition, in order. */
export const CONDITION_ROWS: Record<Condition, readonly string[]> = {
  clean: ['clean'],
  continuous: ['continuous'],
  telephone: ['telephone_mulaw', 'telephone_alaw'],
  opus: ['opus_8k', 'opus_16k'],
  noise: ['noise_white_20db', 'noise_white_10db', 'noise_babble_20db', 'noise_babble_10db'],
  stream: ['stream', 'stream_smoothed', 'stream_inside', 'stream_telephone', 'stream_telephone_smoothed', 'stream_telephone_inside'],
};

/**
 * Rows whose audio reaches the service at 8 kHz (G.711): the telephone-band
 * companion hears them when the server has one (served-models.ts).
 */
export const NARROWBAND_ROWS: readonly string[] = [
  'telephone_mulaw',
  'telephone_alaw',
  'stream_telephone',
  'stream_telephone_smoothed',
  'stream_telephone_inside',
];

/** What each row is, for reports. */
export const ROW_DESCRIPTIONS: Record<string, string> = {
  clean: 'each clip in a 3 s window (zero padding), averaged over window positions: how the model was trained',
  continuous: "one speaker's clips of one emotion joined (0-0.4 s gaps), every window on the service's 0.5 s hop grid scored",
  telephone_mulaw: '8 kHz, 300-3400 Hz band, G.711 mu-law, back up to 22050 Hz as the service resamples it',
  telephone_alaw: 'the same with G.711 A-law',
  opus_8k: "Opus at 8 kbit/s (16 kHz, 20 ms frames, libopus), decoded by the service's decoder",
  opus_16k: 'the same at 16 kbit/s',
  noise_white_20db: 'white noise at 20 dB SNR',
  noise_white_10db: 'white noise at 10 dB SNR',
  noise_babble_20db: "babble (four other speakers' clips mixed) at 20 dB SNR",
  noise_babble_10db: 'babble at 10 dB SNR',
  stream:
    'a two-channel call of the held-out speakers (turns of one speaker and emotion, 0.4 s gaps) streamed at 16 kHz PCM through the session pipeline with VAD: each window well inside a turn, its raw label',
  stream_smoothed: 'the same windows, the smoothed label (EMA, as in the events)',
  stream_inside: "the raw labels of the windows wholly inside a turn (no part in a gap or the other party's turn)",
  stream_telephone: 'the same call as telephone audio (8 kHz, band-passed, mu-law) streamed as mu-law',
  stream_telephone_smoothed: 'the same, smoothed',
  stream_telephone_inside: 'the same, the windows wholly inside a turn',
};

/** `--conditions all` or a comma list of condition names. */
export function parseConditions(spec: string): Condition[] {
  if (spec.trim() === 'all') return [...CONDITIONS];
  const names = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(CONDITIONS as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new AerError(
      'invalid_argument',
      `unknown condition${unknown.length === 1 ? '' : 's'} ${unknown.map((u) => JSON.stringify(u)).join(', ') || '(none given)'}; the conditions are ${CONDITIONS.join(', ')}, or all`,
    );
  }
  return CONDITIONS.filter((c) => names.includes(c));
}
