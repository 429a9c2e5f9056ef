/** `aer datasets prepare emodb`: the official download's layout (16 kHz WAVs of any length) into the subset training reads. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { readWav } from '../../src/audio/wav.ts';
import { fitLength } from '../../src/train/datasets/prepare-emodb.ts';
import { scanDataset } from '../../src/train/datasets/scan.ts';
import { aer } from '../helpers/cli.ts';
import { writeTree } from '../helpers/datasets.ts';
import { voiced } from '../helpers/service.ts';
import { tempDir } from '../helpers/tools.ts';
import { writeWav } from '../../src/audio/wav-write.ts';

/** An unzipped download: wav/ with 16 kHz recordings of several lengths, by speakers in and out of the subset, and the other folders EmoDB ships. */
function download(): string {
  const wav = (seconds: number) => writeWav({ sampleRate: 16000, channels: [voiced(seconds)] });
  return writeTree(tempDir(), {
    'wav/03a01Fa.wav': wav(1.5),
    'wav/03a02Wb.wav': wav(3.2),
    'wav/08b10Lc.wav': wav(2.5),
    'wav/15a01Na.wav': wav(2),
    'wav/16b02Td.wav': 'RIFF broken',
    'wav/readme.txt': 'not a recording',
    'lablaut/03a01Fa.lablaut': 'labels',
  });
}

describe('aer datasets prepare emodb', () => {
  test('the chosen speakers, each recording cut or padded to 2 s at 22050 Hz, names kept; what was left out is counted', async () => {
    const dest = path.join(tempDir(), 'emodb');
    const run = aer('datasets', 'prepare', 'emodb', download(), dest, '--json');
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { written: number; skipped: Record<string, number>; speakers: string[] };
    assert.deepEqual(report, {
      corpus: 'emodb',
      dest,
      written: 3,
      skipped: { 'not an EmoDB recording name': 1, 'speaker not chosen (15)': 1, 'speaker not chosen (16)': 1 },
      speakers: ['03', '08'],
    });
    assert.deepEqual(fs.readdirSync(path.join(dest, 'wav')), ['03a01Fa.wav', '03a02Wb.wav', '08b10Lc.wav']);
    for (const f of fs.readdirSync(path.join(dest, 'wav'))) {
      const audio = readWav(fs.readFileSync(path.join(dest, 'wav', f)));
      assert.deepEqual([audio.sampleRate, audio.channels[0].length], [22050, 44100], f);
    }
    assert.match(
      fs.readFileSync(path.join(dest, 'README.md'), 'utf8'),
      /speakers 03, 08, 3 recordings, mono 16-bit WAV at 22050 Hz, each cut or zero-padded to 2 s/,
    );
    // The loader reads it as EmoDB: happy and angry of speaker 03, boredom and the README skipped.
    const scan = await scanDataset(dest);
    assert.equal(scan.corpus, 'emodb');
    assert.deepEqual(
      scan.clips.map((c) => [c.speaker, c.label]),
      [
        ['emodb:03', 'happy'],
        ['emodb:03', 'angry'],
      ],
    );
    assert.deepEqual(scan.skipped, { 'not an audio file (.wav, .opus, .ogg)': 1, 'boredom (not one of the six labels)': 1 });
  });

  test('--speakers all --seconds 0 keeps every speaker and whole recordings; a broken one is counted as unreadable', () => {
    const dest = tempDir();
    const run = aer('datasets', 'prepare', 'emodb', path.join(download(), 'wav'), dest, '--speakers', 'all', '--seconds', '0', '--rate', '16000', '--json');
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { written: number; skipped: Record<string, number> };
    assert.equal(report.written, 4);
    assert.equal(report.skipped['unreadable (malformed_wav)'] ?? report.skipped['unreadable (truncated_audio)'], 1, JSON.stringify(report.skipped));
    assert.equal(readWav(fs.readFileSync(path.join(dest, 'wav', '03a02Wb.wav'))).channels[0].length, 3.2 * 16000);
  });

  test('bad input: no recordings, a destination in use, an unknown corpus', () => {
    const empty = aer('datasets', 'prepare', 'emodb', tempDir(), tempDir());
    assert.equal(empty.status, 1);
    assert.match(empty.stderr, /no EmoDB recordings \(files like 03a01Fa\.wav\)[\s\S]*hint: download EmoDB from http:\/\/emodb\.bilderbar\.info\/download\//);
    const dest = writeTree(tempDir(), { 'wav/x.wav': 'taken' });
    assert.match(aer('datasets', 'prepare', 'emodb', download(), dest).stderr, /wav is not empty/);
    const other = aer('datasets', 'prepare', 'iemocap', download(), tempDir());
    assert.equal(other.status, 2);
    assert.match(other.stderr, /prepare knows emodb, not "iemocap"/);
  });

  test('fitLength cuts long and pads short signals', () => {
    assert.deepEqual([...fitLength(Float32Array.from([1, 2, 3]), 2)], [1, 2]);
    assert.deepEqual([...fitLength(Float32Array.from([1]), 3)], [1, 0, 0]);
  });
});
