import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { AudioFileStream } from '../../src/audio/file-stream.ts';
import { decodeAudioFile } from '../../src/audio/load.ts';
import { writeWav } from '../../src/audio/wav-write.ts';
import { AerError } from '../../src/errors.ts';
import { noise, randomChunks, tone } from '../helpers/signals.ts';
import { needsTools, run, tempDir } from '../helpers/tools.ts';

/** The file fed in chunks of random sizes (1 byte up), joined back per channel. */
function streamed(bytes: Uint8Array, maxChunk: number, seed = 3): { channels: Float32Array[]; warnings: string[]; format: string } {
  const reader = new AudioFileStream();
  const pieces: Float32Array[][] = [];
  for (const chunk of randomChunks(bytes, maxChunk, seed)) pieces.push(reader.push(chunk));
  const end = reader.end();
  pieces.push(end.channels);
  const n = reader.format!.channels;
  const channels = Array.from({ length: n }, (_, c) => Float32Array.from(pieces.filter((p) => p.length > 0).flatMap((p) => [...p[c]])));
  return { channels, warnings: end.warnings, format: reader.format!.format };
}

function sameAsWholeFile(bytes: Uint8Array, maxChunk: number): void {
  const whole = decodeAudioFile(bytes);
  const got = streamed(bytes, maxChunk);
  assert.equal(got.format, whole.format);
  assert.equal(got.channels.length, whole.channels.length);
  got.channels.forEach((c, i) => assert.deepEqual(c, whole.channels[i]));
}

const stereo = () => [tone(300, 16000, 8000, 0.4), noise(8000, 0.2, 5)];

describe('audio files read as they arrive', () => {
  test('WAV written by the project, in chunks from 1 byte to 4 KiB: the same samples as the whole-file reader', () => {
    const wav = writeWav({ sampleRate: 16000, channels: stereo() });
    for (const max of [1, 7, 4096]) sameAsWholeFile(wav, max);
    sameAsWholeFile(writeWav({ sampleRate: 22050, channels: [tone(200, 22050, 5000)] }, 'f32'), 333);
  });

  test('a WAV with chunks before its data (odd-sized, padded) and after it', () => {
    const wav = writeWav({ sampleRate: 8000, channels: [tone(300, 8000, 4000)] });
    // RIFF header, fmt, then a 5-byte LIST chunk (with its pad byte) spliced before "data", and a trailing chunk.
    const fmtEnd = 12 + 8 + 16;
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([5, 0, 0, 0]), Buffer.from('abcde'), Buffer.from([0])]);
    const tail = Buffer.concat([Buffer.from('junk'), Buffer.from([2, 0, 0, 0]), Buffer.from('zz')]);
    const bytes = new Uint8Array(Buffer.concat([wav.subarray(0, fmtEnd), list, wav.subarray(fmtEnd), tail]));
    sameAsWholeFile(bytes, 50);
  });

  test('sox and ffmpeg WAVs: 8/24/32-bit (sox writes 24 and 32 as extensible), float 64, mu-law, A-law, RF64', { skip: needsTools('sox', 'ffmpeg') }, () => {
    const dir = tempDir();
    const source = path.join(dir, 'in.wav');
    fs.writeFileSync(source, writeWav({ sampleRate: 16000, channels: stereo() }));
    const variants: [string, string[]][] = [
      ['u8.wav', ['sox', source, '-e', 'unsigned', '-b', '8']],
      ['s24.wav', ['sox', source, '-b', '24']],
      ['s32.wav', ['sox', source, '-b', '32']],
      ['f64.wav', ['sox', source, '-e', 'floating-point', '-b', '64']],
      ['mulaw.wav', ['sox', source, '-e', 'mu-law']],
      ['alaw.wav', ['sox', source, '-e', 'a-law']],
      ['rf64.wav', ['ffmpeg', '-v', 'error', '-y', '-i', source, '-rf64', 'always']],
    ];
    for (const [name, command] of variants) {
      const out = path.join(dir, name);
      run(command[0], [...command.slice(1), out]);
      sameAsWholeFile(new Uint8Array(fs.readFileSync(out)), 997);
    }
  });

  test('Ogg Opus in chunks: the same samples as the whole-file reader', { skip: needsTools('opusenc') }, () => {
    const dir = tempDir();
    const source = path.join(dir, 'in.wav');
    fs.writeFileSync(source, writeWav({ sampleRate: 48000, channels: [tone(300, 48000, 48000, 0.4), tone(500, 48000, 48000, 0.3)] }));
    run('opusenc', ['--quiet', source, path.join(dir, 'out.opus')]);
    sameAsWholeFile(new Uint8Array(fs.readFileSync(path.join(dir, 'out.opus'))), 1500);
  });

  test('a truncated WAV is read as far as it goes, with a warning; a file that is not audio is refused as the whole-file reader refuses it', () => {
    const wav = writeWav({ sampleRate: 16000, channels: [tone(300, 16000, 16000)] });
    const cut = streamed(wav.subarray(0, 20_000), 4096);
    assert.equal(cut.channels[0].length, (20_000 - 44) / 2);
    assert.match(cut.warnings.join(), /truncated: 12044 bytes of its data chunk are missing/);
    for (const [bytes, code] of [
      [new TextEncoder().encode('ID3 not audio at all'), 'unsupported_format'],
      [new Uint8Array(0), 'empty_file'],
      [wav.subarray(0, 30), 'truncated_audio'],
    ] as const) {
      assert.throws(
        () => {
          const r = new AudioFileStream();
          r.push(bytes);
          r.end();
        },
        (e: unknown) => e instanceof AerError && e.code === code,
      );
    }
  });

  test('a WAV whose data comes before its fmt chunk is refused with a hint (it cannot be read as it arrives)', () => {
    const wav = writeWav({ sampleRate: 16000, channels: [tone(300, 16000, 1600)] });
    const fmt = wav.subarray(12, 12 + 24);
    const data = wav.subarray(36);
    const swapped = new Uint8Array(Buffer.concat([wav.subarray(0, 12), data, fmt]));
    assert.throws(
      () => new AudioFileStream().push(swapped),
      (e: unknown) => e instanceof AerError && e.code === 'malformed_wav' && /before its "fmt " chunk/.test(e.message) && e.hint !== undefined,
    );
  });
});
