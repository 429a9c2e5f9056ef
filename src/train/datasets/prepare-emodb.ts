/**
 * The official EmoDB download turned into the layout training reads: the
 * wav/ folder of the unzipped download (16 kHz WAVs named 03a01Fa.wav),
 * the chosen speakers only, each utterance cut or padded to a fixed length
 * and resampled, written to DEST/wav with the same names. The defaults make
 * the subset this project's figures come from: 8 speakers (two are kept for
 * nothing: the shared copy left out 15 and 16), 2.0 s, 22050 Hz.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readWav, type WavAudio } from '../../audio/wav.ts';
import { writeWav } from '../../audio/wav-write.ts';
import { resample } from '../../audio/resample.ts';
import { AerError, isAerError } from '../../errors.ts';

export const EMODB_SUBSET_SPEAKERS = ['03', '08', '09', '10', '11', '12', '13', '14'];
const EMODB_NAME = /^(\d\d)[a-z]\d\d[WLEAFTN][a-z]\.wav$/;

export interface PrepareOptions {
  speakers: string[] | 'all';
  /** Each utterance cut or zero-padded to this length (0: kept whole). */
  seconds: number;
  rate: number;
}

export const DEFAULT_PREPARE: PrepareOptions = { speakers: EMODB_SUBSET_SPEAKERS, seconds: 2, rate: 22050 };

export interface PrepareReport {
  written: number;
  /** Files left out, by why. */
  skipped: Record<string, number>;
  speakers: string[];
}

/** `signal` cut to `length` samples, or padded with zeros to it. */
export function fitLength(signal: Float32Array, length: number): Float32Array {
  if (signal.length >= length) return signal.slice(0, length);
  const out = new Float32Array(length);
  out.set(signal);
  return out;
}

/** Where the download's WAVs are: SRC/wav, or SRC itself. */
function wavFolder(src: string): string {
  for (const dir of [path.join(src, 'wav'), src]) {
    if (fs.existsSync(dir) && fs.statSync(dir).isDirectory() && fs.readdirSync(dir).some((f) => EMODB_NAME.test(f))) return dir;
  }
  throw new AerError('invalid_dataset', `no EmoDB recordings (files like 03a01Fa.wav) in ${src} or ${path.join(src, 'wav')}`, {
    hint: 'download EmoDB from http://emodb.bilderbar.info/download/ and unzip it: unzip download.zip -d emodb-download, then pass that folder',
  });
}

export function prepareEmodb(src: string, dest: string, options: PrepareOptions = DEFAULT_PREPARE): PrepareReport {
  const from = wavFolder(src);
  const to = path.join(dest, 'wav');
  if (fs.existsSync(to) && fs.readdirSync(to).length > 0)
    throw new AerError('invalid_argument', `${to} is not empty`, { hint: 'pick another destination, or remove it first' });
  fs.mkdirSync(to, { recursive: true });
  const report: PrepareReport = { written: 0, skipped: {}, speakers: [] };
  const skip = (why: string) => (report.skipped[why] = (report.skipped[why] ?? 0) + 1);
  for (const name of fs.readdirSync(from).sort()) {
    const m = EMODB_NAME.exec(name);
    if (!m) {
      skip('not an EmoDB recording name');
      continue;
    }
    if (options.speakers !== 'all' && !options.speakers.includes(m[1])) {
      skip(`speaker not chosen (${m[1]})`);
      continue;
    }
    let audio: WavAudio;
    try {
      audio = readWav(fs.readFileSync(path.join(from, name)));
    } catch (error) {
      if (!isAerError(error)) throw error;
      skip(`unreadable (${error.code})`);
      continue;
    }
    const signal = resample(audio.channels[0], audio.sampleRate, options.rate);
    const fitted = options.seconds > 0 ? fitLength(signal, Math.round(options.seconds * options.rate)) : signal;
    fs.writeFileSync(path.join(to, name), writeWav({ sampleRate: options.rate, channels: [fitted] }));
    report.written++;
    if (!report.speakers.includes(m[1])) report.speakers.push(m[1]);
  }
  if (report.written === 0)
    throw new AerError(
      'invalid_dataset',
      `none of the recordings in ${from} could be used (${Object.entries(report.skipped)
        .map(([why, n]) => `${n} ${why}`)
        .join(', ')})`,
    );
  fs.writeFileSync(
    path.join(dest, 'README.md'),
    `# EmoDB, prepared by aer datasets prepare\n\nFrom ${path.resolve(src)}: speakers ${report.speakers.join(', ')}, ${report.written} recordings, mono 16-bit WAV at ${options.rate} Hz, ${options.seconds > 0 ? `each cut or zero-padded to ${options.seconds} s` : 'whole'}.\n\nEmoDB (Burkhardt et al., Interspeech 2005) is free for research; cite it when you publish, and do not redistribute it.\n`,
  );
  return report;
}
