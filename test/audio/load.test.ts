import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { decodeAudioFile, readAudioFile } from '../../src/audio/load.ts';
import { mixToMono, selectChannel } from '../../src/audio/mix.ts';
import { PcmStreamDecoder } from '../../src/audio/pcm.ts';
import { writeWav } from '../../src/audio/wav-write.ts';
import { AerError } from '../../src/errors.ts';
import { concat, noise, randomChunks } from '../helpers/signals.ts';
import { tempDir } from '../helpers/tools.ts';

function expectCode(fn: () => unknown, code: string, pattern?: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof AerError && e.code === code && (!pattern || pattern.test(`${e.message} ${e.hint ?? ''}`)));
}

describe('loading audio files', () => {
  test('tells WAV from other formats by their first bytes, and names what it refuses with the ffmpeg fix', () => {
    const text = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
    expectCode(() => decodeAudioFile(text('fLaC\0\0\0\x22')), 'unsupported_format', /FLAC files are not read directly.*ffmpeg -i/);
    expectCode(() => decodeAudioFile(text('ID3\x04\0\0\0\0\0\0')), 'unsupported_format', /MP3/);
    expectCode(() => decodeAudioFile(new Uint8Array([0xff, 0xfb, 0x90, 0x64, 0, 0])), 'unsupported_format', /MP3/);
    expectCode(() => decodeAudioFile(text('\0\0\0\x20ftypM4A ')), 'unsupported_format', /MP4\/M4A/);
    expectCode(() => decodeAudioFile(new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 1, 2])), 'unsupported_format', /Matroska\/WebM/);
    expectCode(() => decodeAudioFile(text('FORM\0\0\0\0AIFF')), 'unsupported_format', /AIFF/);
    expectCode(() => decodeAudioFile(text('hello world')), 'unsupported_format', /not a WAV or Ogg Opus file \(it starts with "hello wo"\)/);
    expectCode(() => decodeAudioFile(new Uint8Array(0)), 'empty_file');
  });

  test('describes what it read', () => {
    const audio = decodeAudioFile(writeWav({ sampleRate: 8000, channels: [noise(80, 0.1)] }));
    assert.equal(audio.format, 'WAV, 16-bit PCM');
    assert.equal(audio.sampleRate, 8000);
  });

  test('a missing file or a directory is an io_error', async () => {
    const dir = tempDir();
    await assert.rejects(
      readAudioFile(path.join(dir, 'absent.wav')),
      (e: unknown) => e instanceof AerError && e.code === 'io_error' && /no such file/.test(e.message),
    );
    await assert.rejects(readAudioFile(dir), (e: unknown) => e instanceof AerError && /directory/.test(e.message));
    fs.writeFileSync(path.join(dir, 'x.wav'), writeWav({ sampleRate: 16000, channels: [noise(160, 0.1)] }));
    assert.equal((await readAudioFile(path.join(dir, 'x.wav'))).channels[0].length, 160);
  });
});

describe('channels', () => {
  test('mix is the mean of the channels (librosa to_mono); a number picks one', () => {
    const a = new Float32Array([1, 0.5, -1]);
    const b = new Float32Array([0, 0.5, 1]);
    assert.deepEqual(Array.from(mixToMono([a, b])), [0.5, 0.5, 0]);
    assert.equal(selectChannel([a, b], 1), b);
    expectCode(() => selectChannel([a, b], 2), 'invalid_argument', /has 2 channel/);
  });
});

describe('PCM stream decoder', () => {
  test('frames split across messages are reassembled', () => {
    const left = noise(1000, 0.5, 1);
    const right = noise(1000, 0.5, 2);
    for (const encoding of ['pcm_s16le', 'pcm_f32le'] as const) {
      const bytes = new Uint8Array(1000 * 2 * (encoding === 'pcm_s16le' ? 2 : 4));
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < 1000; i++) {
        if (encoding === 'pcm_s16le') {
          view.setInt16(4 * i, Math.round(left[i] * 32767), true);
          view.setInt16(4 * i + 2, Math.round(right[i] * 32767), true);
        } else {
          view.setFloat32(8 * i, left[i], true);
          view.setFloat32(8 * i + 4, right[i], true);
        }
      }
      const decoder = new PcmStreamDecoder(encoding, 2);
      const out = randomChunks(bytes, 13).map((c) => decoder.decode(c));
      assert.equal(decoder.pendingBytes, 0);
      const l = concat(out.map((o) => o[0]));
      assert.equal(l.length, 1000);
      for (let i = 0; i < 1000; i++) assert.ok(Math.abs(l[i] - left[i]) <= (encoding === 'pcm_s16le' ? 1 / 32767 : 0));
    }
  });

  test('a message with NaN is rejected whole and leaves the decoder as it was', () => {
    const decoder = new PcmStreamDecoder('pcm_f32le', 1);
    const good = new Uint8Array(new Float32Array([0.1, 0.2]).buffer);
    decoder.decode(good.subarray(0, 5)); // one sample and one byte of the next
    assert.equal(decoder.pendingBytes, 1);
    // The rest of 0.2, then a NaN: the message is dropped, 0.2 included.
    const bad = new Uint8Array([...good.subarray(5), ...new Uint8Array(new Float32Array([Number.NaN]).buffer)]);
    expectCode(() => decoder.decode(bad), 'invalid_samples', /NaN \(frame 1, channel 0\)/);
    assert.equal(decoder.pendingBytes, 1);
    assert.deepEqual(Array.from(decoder.decode(good.subarray(5))[0]), [Math.fround(0.2)]);
  });

  test('bad encodings and channel counts', () => {
    expectCode(() => new PcmStreamDecoder('pcm_s24le' as never, 1), 'invalid_argument', /pcm_s16le or pcm_f32le/);
    expectCode(() => new PcmStreamDecoder('pcm_s16le', 0), 'invalid_argument');
    expectCode(() => new PcmStreamDecoder('pcm_s16le', 9), 'too_many_channels');
  });
});
