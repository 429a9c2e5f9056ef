/** Synthetic speech from espeak-ng (Debian; .ci/run installs it): real voiced speech for the VAD, made on the spot. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readWav } from '../../src/audio/wav.ts';
import { needsTools, tempDir } from './tools.ts';

export const needsSpeech = needsTools('espeak-ng');

const SENTENCES = [
  'Ich habe das Buch gestern auf den Tisch gelegt.',
  'Morgen fahren wir mit dem Zug in die Stadt.',
  'Der Hund hat die ganze Nacht im Garten gebellt.',
  'Sie hat mir den Brief vor einer Woche geschickt.',
];

/** Sentence `k` (of four, cycled) in German at 22050 Hz, mono; pitch and speed 0-99 and words a minute, as espeak-ng takes them. */
export function speech(k: number, voice: { pitch: number; speed: number }): Float32Array {
  // To a file: on stdout espeak-ng cannot go back to write the WAV's sizes.
  const file = path.join(tempDir(), 'speech.wav');
  execFileSync('espeak-ng', ['-v', 'de', '-p', String(voice.pitch), '-s', String(voice.speed), '-w', file, SENTENCES[k % SENTENCES.length]], {
    stdio: 'ignore',
  });
  return readWav(fs.readFileSync(file)).channels[0];
}
