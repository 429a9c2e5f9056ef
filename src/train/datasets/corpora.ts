/**
 * File-name conventions of the emotional speech corpora the loader knows:
 * each maps a file name to one of the six labels and a speaker, or says why
 * the file is skipped.
 */
import type { Label } from '../labels.ts';
import type { NameReading } from './clip.ts';

export interface Corpus {
  name: string;
  description: string;
  /** Whether a file name looks like this corpus's (used to detect the corpus of a folder). */
  matches(fileName: string): boolean;
  read(fileName: string): NameReading;
  /** A speaker's gender where the corpus documents it (folds balance on it). */
  gender?(speaker: string): 'm' | 'f' | undefined;
}

const notOurs = (corpus: string): NameReading => ({ skip: `not a ${corpus} file name` });
const otherLabel = (what: string): NameReading => ({ skip: `${what} (not one of the six labels)` });

/** EmoDB: 03a01Fa.wav = speaker 03, text a01, emotion F, version a. */
const EMODB_CODES: Record<string, Label | string> = { W: 'angry', E: 'disgust', A: 'fear', F: 'happy', N: 'neutral', T: 'sad', L: 'boredom' };
const emodb: Corpus = {
  name: 'emodb',
  description: 'Berlin EmoDB: 03a01Fa.wav (speaker, text, emotion code, version)',
  matches: (f) => /^\d\d[a-z]\d\d[A-Z][a-z]?\.\w+$/.test(f),
  read(f) {
    const m = /^(\d\d)[a-z]\d\d([A-Z])[a-z]?\.\w+$/.exec(f);
    if (!m) return notOurs('EmoDB');
    const label = EMODB_CODES[m[2]];
    if (label === undefined) return { skip: `unknown EmoDB emotion code ${m[2]}` };
    return label === 'boredom' ? otherLabel('boredom') : { label: label as Label, speaker: m[1] };
  },
  // From the EmoDB documentation: five men (03, 10, 11, 12, 15) and five women.
  gender: (s) => (['03', '10', '11', '12', '15'].includes(s) ? 'm' : ['08', '09', '13', '14', '16'].includes(s) ? 'f' : undefined),
};

/** CREMA-D: 1001_DFA_ANG_XX.wav = actor, sentence, emotion, intensity. */
const CREMAD_CODES: Record<string, Label> = { ANG: 'angry', DIS: 'disgust', FEA: 'fear', HAP: 'happy', NEU: 'neutral', SAD: 'sad' };
const cremad: Corpus = {
  name: 'cremad',
  description: 'CREMA-D: 1001_DFA_ANG_XX.wav (actor, sentence, emotion, intensity)',
  matches: (f) => /^\d{4}_[A-Z]{3}_[A-Z]{3}_[A-Z]{1,2}\.\w+$/.test(f),
  read(f) {
    const m = /^(\d{4})_[A-Z]{3}_([A-Z]{3})_[A-Z]{1,2}\.\w+$/.exec(f);
    if (!m) return notOurs('CREMA-D');
    const label = CREMAD_CODES[m[2]];
    return label ? { label, speaker: m[1] } : { skip: `unknown CREMA-D emotion code ${m[2]}` };
  },
};

/** TESS: OAF_back_angry.wav = speaker (older/younger actress), word, emotion; "ps" (pleasant surprise) is skipped. */
const TESS_NAMES: Record<string, Label> = { angry: 'angry', disgust: 'disgust', fear: 'fear', happy: 'happy', neutral: 'neutral', sad: 'sad' };
const tess: Corpus = {
  name: 'tess',
  description: 'TESS: OAF_back_angry.wav (speaker OAF/YAF, word, emotion)',
  matches: (f) => /^(OAF|YAF)_[^_]+_[a-z]+\.\w+$/i.test(f),
  read(f) {
    const m = /^(OAF|YAF)_[^_]+_([a-z]+)\.\w+$/i.exec(f);
    if (!m) return notOurs('TESS');
    const emotion = m[2].toLowerCase();
    if (emotion === 'ps') return otherLabel('pleasant surprise');
    const label = TESS_NAMES[emotion];
    return label ? { label, speaker: m[1].toUpperCase() } : { skip: `unknown TESS emotion ${emotion}` };
  },
  gender: () => 'f',
};

/**
 * RAVDESS: 03-01-05-01-01-01-12.wav = modality, vocal channel, emotion,
 * intensity, statement, repetition, actor. Only audio-only speech is used.
 */
const RAVDESS_CODES: Record<string, Label | string> = {
  '01': 'neutral',
  '02': 'calm',
  '03': 'happy',
  '04': 'sad',
  '05': 'angry',
  '06': 'fear',
  '07': 'disgust',
  '08': 'surprise',
};
const ravdess: Corpus = {
  name: 'ravdess',
  description: 'RAVDESS: 03-01-05-01-01-01-12.wav (modality, channel, emotion, intensity, statement, repetition, actor)',
  matches: (f) => /^\d\d(-\d\d){6}\.\w+$/.test(f),
  read(f) {
    const m = /^(\d\d)-(\d\d)-(\d\d)-\d\d-\d\d-\d\d-(\d\d)\.\w+$/.exec(f);
    if (!m) return notOurs('RAVDESS');
    if (m[1] !== '03') return { skip: 'RAVDESS video modality (only audio-only files are used)' };
    if (m[2] !== '01') return { skip: 'RAVDESS song (only speech is used)' };
    const label = RAVDESS_CODES[m[3]];
    if (label === undefined) return { skip: `unknown RAVDESS emotion code ${m[3]}` };
    return label === 'calm' || label === 'surprise' ? otherLabel(label) : { label: label as Label, speaker: m[4] };
  },
  // Odd-numbered actors are men, even-numbered women.
  gender: (s) => (Number(s) % 2 === 1 ? 'm' : 'f'),
};

export const CORPORA: Corpus[] = [emodb, cremad, tess, ravdess];

/** Label folder names the generic layout accepts, beyond the six labels themselves. */
export const LABEL_SYNONYMS: Record<string, Label> = {
  anger: 'angry',
  disgusted: 'disgust',
  fearful: 'fear',
  scared: 'fear',
  happiness: 'happy',
  joy: 'happy',
  sadness: 'sad',
};
