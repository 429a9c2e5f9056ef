/** Small dataset trees made by tests: short WAV clips whose pitch and loudness depend on the label, so a model can learn them. */
import fs from 'node:fs';
import path from 'node:path';
import { writeWav } from '../../src/audio/wav-write.ts';
import { LABELS } from '../../src/train/labels.ts';
import { noise, tone } from './signals.ts';

/** A 16 kHz mono s16 WAV: a tone (higher for later labels) over a little noise. */
export function clipWav(label: string, seconds = 1, seed = 1): Uint8Array {
  const samples = Math.round(seconds * 16000);
  const k = Math.max(0, LABELS.indexOf(label as (typeof LABELS)[number]));
  const t = tone(200 + 150 * k, 16000, samples, 0.2 + 0.05 * k);
  const n = noise(samples, 0.02, seed);
  return writeWav({ sampleRate: 16000, channels: [t.map((v, i) => v + n[i])] });
}

/** Writes files under root: relative path -> contents (bytes, or text for non-audio files). */
export function writeTree(root: string, files: Record<string, Uint8Array | string>): string {
  for (const [name, contents] of Object.entries(files)) {
    const file = path.join(root, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, contents);
  }
  return root;
}

const EMODB_CODE: Record<string, string> = { angry: 'W', disgust: 'E', fear: 'A', happy: 'F', neutral: 'N', sad: 'T' };

/** An EmoDB-named tree: `perLabel` clips of each of the six labels for each speaker. */
export function emodbTree(root: string, speakers: string[], perLabel: number, seconds = 1): string {
  const files: Record<string, Uint8Array> = {};
  let seed = 1;
  for (const s of speakers) {
    for (const label of LABELS) {
      for (let i = 0; i < perLabel; i++) files[`${s}a0${i + 1}${EMODB_CODE[label]}a.wav`] = clipWav(label, seconds, seed++);
    }
  }
  return writeTree(root, files);
}
