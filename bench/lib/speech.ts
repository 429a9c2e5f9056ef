/** Real speech for benchmarks: the shared EmoDB clips back to back, else the shared fixture, looped. */
import fs from 'node:fs';
import path from 'node:path';
import { readWav } from '../../src/audio/wav.ts';
import { missingData, SHARED_DIR as shared } from './data.ts';

/** `seconds` of mono speech at 22050 Hz, and where it came from. */
export function speech(seconds: number): { samples: Float32Array; source: string } {
  const emodb = path.join(shared, 'datasets/emodb/wav');
  const fixture = path.join(shared, 'fixtures/librosa/speech_22050.wav');
  let clips: Float32Array[];
  let source: string;
  if (fs.existsSync(emodb)) {
    clips = fs
      .readdirSync(emodb)
      .filter((f) => f.endsWith('.wav'))
      .sort()
      .slice(0, 40)
      .map((f) => readWav(fs.readFileSync(path.join(emodb, f))).channels[0]);
    source = 'EmoDB clips (shared/datasets/emodb)';
  } else if (fs.existsSync(fixture)) {
    clips = [readWav(fs.readFileSync(fixture)).channels[0]];
    source = 'speech_22050.wav (shared fixture)';
  } else {
    missingData('datasets/emodb');
  }
  const out = new Float32Array(Math.round(seconds * 22050));
  for (let o = 0, i = 0; o < out.length; i++) {
    const clip = clips[i % clips.length];
    out.set(clip.subarray(0, out.length - o), o);
    o += clip.length;
  }
  return { samples: out, source };
}
