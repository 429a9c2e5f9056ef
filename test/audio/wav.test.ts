import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { readWav } from '../../src/audio/wav.ts';
import { writeWav } from '../../src/audio/wav-write.ts';
import { AerError } from '../../src/errors.ts';
import { fixturePath, needsFixtures } from '../helpers/shared.ts';
import { maxAbsDiff, noise, tone } from '../helpers/signals.ts';
import { ffmpegDecodeF32, needsTools, run, tempDir } from '../helpers/tools.ts';

/** Assemble a RIFF file from raw chunks, with the padding byte after odd-sized ones. */
function riff(chunks: { id: string; data: Uint8Array; size?: number }[], magic = 'RIFF'): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const c of chunks) {
    const header = new Uint8Array(8);
    header.set(Buffer.from(c.id, 'latin1'));
    new DataView(header.buffer).setUint32(4, c.size ?? c.data.length, true);
    parts.push(header, c.data);
    if (c.data.length % 2 === 1) parts.push(new Uint8Array(1));
  }
  const body = Buffer.concat(parts);
  const head = new Uint8Array(12);
  head.set(Buffer.from(magic, 'latin1'));
  new DataView(head.buffer).setUint32(4, 4 + body.length, true);
  head.set(Buffer.from('WAVE', 'latin1'), 8);
  return new Uint8Array(Buffer.concat([head, body]));
}

function fmt(tag: number, channels: number, rate: number, bits: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint16(0, tag, true);
  v.setUint16(2, channels, true);
  v.setUint32(4, rate, true);
  v.setUint32(8, (rate * channels * bits) / 8, true);
  v.setUint16(12, (channels * bits) / 8, true);
  v.setUint16(14, bits, true);
  return b;
}

function s16(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 2);
  values.forEach((x, i) => new DataView(b.buffer).setInt16(i * 2, x, true));
  return b;
}

function expectError(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AerError, `expected an AerError, got ${e}`);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('WAV reader', () => {
  test('16-bit PCM written by the project round-trips', () => {
    const left = tone(440, 16000, 1600);
    const right = noise(1600, 0.3);
    const wav = readWav(writeWav({ sampleRate: 16000, channels: [left, right] }));
    assert.equal(wav.sampleRate, 16000);
    assert.equal(wav.channels.length, 2);
    assert.ok(maxAbsDiff(wav.channels[0], left) <= 1 / 32768);
    assert.ok(maxAbsDiff(wav.channels[1], right) <= 1 / 32768);
    assert.deepEqual(wav.warnings, []);
  });

  test('32-bit float round-trips exactly', () => {
    const x = noise(999, 0.9);
    const wav = readWav(writeWav({ sampleRate: 44100, channels: [x] }, 'f32'));
    assert.deepEqual(wav.channels[0], x);
    assert.equal(wav.format.encoding, 'pcm_float');
  });

  test('skips LIST and fact chunks, honours padding bytes, and takes fmt after an odd chunk', () => {
    const bytes = riff([
      { id: 'LIST', data: new Uint8Array([1, 2, 3, 4, 5]) }, // odd: one padding byte follows
      { id: 'fmt ', data: fmt(1, 1, 8000, 16) },
      { id: 'fact', data: new Uint8Array([3, 0, 0, 0]) },
      { id: 'data', data: s16([0, 16384, -32768]) },
      { id: 'LIST', data: new Uint8Array(7) },
    ]);
    const wav = readWav(bytes);
    assert.deepEqual(Array.from(wav.channels[0]), [0, 0.5, -1]);
    assert.deepEqual(wav.warnings, []);
  });

  test('reads 8-bit unsigned, 24-bit and 32-bit integer and 64-bit float samples', () => {
    const u8 = riff([
      { id: 'fmt ', data: fmt(1, 1, 8000, 8) },
      { id: 'data', data: new Uint8Array([128, 255, 0]) },
    ]);
    assert.deepEqual(Array.from(readWav(u8).channels[0]), [0, 127 / 128, -1]);
    const i24 = riff([
      { id: 'fmt ', data: fmt(1, 1, 8000, 24) },
      { id: 'data', data: new Uint8Array([0, 0, 0x40, 0xff, 0xff, 0xff, 0, 0, 0x80]) },
    ]);
    assert.deepEqual(Array.from(readWav(i24).channels[0]), [0.5, -1 / 8388608, -1]);
    const i32 = new Uint8Array(8);
    new DataView(i32.buffer).setInt32(0, 0x40000000, true);
    new DataView(i32.buffer).setInt32(4, -0x80000000, true);
    assert.deepEqual(
      Array.from(
        readWav(
          riff([
            { id: 'fmt ', data: fmt(1, 1, 8000, 32) },
            { id: 'data', data: i32 },
          ]),
        ).channels[0],
      ),
      [0.5, -1],
    );
    const f64 = new Uint8Array(16);
    new DataView(f64.buffer).setFloat64(0, 0.25, true);
    new DataView(f64.buffer).setFloat64(8, -0.125, true);
    assert.deepEqual(
      Array.from(
        readWav(
          riff([
            { id: 'fmt ', data: fmt(3, 1, 8000, 64) },
            { id: 'data', data: f64 },
          ]),
        ).channels[0],
      ),
      [0.25, -0.125],
    );
  });

  test('reads an unset (streamed) data size to the end of the file, with a warning', () => {
    const bytes = riff([
      { id: 'fmt ', data: fmt(1, 1, 8000, 16) },
      { id: 'data', data: s16([1, 2, 3, 4]), size: 0xffffffff },
    ]);
    const wav = readWav(bytes);
    assert.equal(wav.channels[0].length, 4);
    assert.match(wav.warnings.join(), /unset/);
  });

  test('ignores an incomplete last frame, with a warning', () => {
    const data = new Uint8Array([...s16([100, 200, 300, 400]), 7, 7]);
    const wav = readWav(
      riff([
        { id: 'fmt ', data: fmt(1, 2, 8000, 16) },
        { id: 'data', data },
      ]),
    );
    assert.equal(wav.channels[0].length, 2);
    assert.match(wav.warnings.join(), /incomplete sample frame/);
  });

  describe('bad input gets a typed error', () => {
    const good = riff([
      { id: 'fmt ', data: fmt(1, 1, 8000, 16) },
      { id: 'data', data: s16([1, 2, 3, 4]) },
    ]);

    test('empty file', () => expectError(() => readWav(new Uint8Array(0)), 'empty_file', /empty/));
    test('shorter than a header', () => expectError(() => readWav(good.subarray(0, 10)), 'truncated_audio', /10 bytes/));
    test('wrong magic', () => expectError(() => readWav(new TextEncoder().encode('ID3\x04 not a wave file at all')), 'malformed_wav', /not a WAV file/));
    test('big-endian RIFX', () => expectError(() => readWav(riff([{ id: 'fmt ', data: fmt(1, 1, 8000, 16) }], 'RIFX')), 'unsupported_encoding', /RIFX/));
    test('truncated data chunk says how much is missing', () => {
      expectError(() => readWav(good.subarray(0, good.length - 3)), 'truncated_audio', /declares 8 bytes but only 5 follow/);
    });
    test('no fmt chunk', () => expectError(() => readWav(riff([{ id: 'data', data: s16([1]) }])), 'malformed_wav', /no "fmt " chunk/));
    test('no data chunk', () => expectError(() => readWav(riff([{ id: 'fmt ', data: fmt(1, 1, 8000, 16) }])), 'malformed_wav', /no "data" chunk/));
    test('truncated inside a chunk before the data', () => {
      const bytes = riff([
        { id: 'LIST', data: new Uint8Array(100) },
        { id: 'fmt ', data: fmt(1, 1, 8000, 16) },
      ]);
      expectError(() => readWav(bytes.subarray(0, 60)), 'truncated_audio', /inside its "LIST" chunk/);
    });
    test('zero channels', () =>
      expectError(
        () =>
          readWav(
            riff([
              { id: 'fmt ', data: fmt(1, 0, 8000, 16) },
              { id: 'data', data: s16([]) },
            ]),
          ),
        'malformed_wav',
        /0 channels/,
      ));
    test('more than 8 channels', () => {
      expectError(
        () =>
          readWav(
            riff([
              { id: 'fmt ', data: fmt(1, 9, 8000, 16) },
              { id: 'data', data: new Uint8Array(18) },
            ]),
          ),
        'too_many_channels',
        /9 channels; at most 8/,
      );
    });
    test('zero sample rate', () =>
      expectError(
        () =>
          readWav(
            riff([
              { id: 'fmt ', data: fmt(1, 1, 0, 16) },
              { id: 'data', data: s16([1]) },
            ]),
          ),
        'malformed_wav',
        /0 Hz/,
      ));
    test('block alignment that does not match the sample size', () => {
      const f = fmt(1, 2, 8000, 16);
      new DataView(f.buffer).setUint16(12, 3, true);
      expectError(
        () =>
          readWav(
            riff([
              { id: 'fmt ', data: f },
              { id: 'data', data: s16([1, 2]) },
            ]),
          ),
        'malformed_wav',
        /block alignment/,
      );
    });
    test('an unsupported codec is named', () => {
      expectError(
        () =>
          readWav(
            riff([
              { id: 'fmt ', data: fmt(0x11, 1, 8000, 4) },
              { id: 'data', data: new Uint8Array(4) },
            ]),
          ),
        'unsupported_encoding',
        /IMA ADPCM/,
      );
    });
    test('an unsupported bit depth', () =>
      expectError(
        () =>
          readWav(
            riff([
              { id: 'fmt ', data: fmt(1, 1, 8000, 12) },
              { id: 'data', data: new Uint8Array(4) },
            ]),
          ),
        'unsupported_encoding',
        /12-bit/,
      ));
    test('NaN and infinite float samples say where they are', () => {
      const data = new Uint8Array(12);
      const v = new DataView(data.buffer);
      v.setFloat32(0, 0.5, true);
      v.setFloat32(4, Number.NaN, true);
      expectError(
        () =>
          readWav(
            riff([
              { id: 'fmt ', data: fmt(3, 1, 8000, 32) },
              { id: 'data', data },
            ]),
          ),
        'invalid_samples',
        /sample 1 of channel 0 is NaN/,
      );
      v.setFloat32(4, 0, true);
      v.setFloat32(8, Number.NEGATIVE_INFINITY, true);
      expectError(
        () =>
          readWav(
            riff([
              { id: 'fmt ', data: fmt(3, 1, 8000, 32) },
              { id: 'data', data },
            ]),
          ),
        'invalid_samples',
        /sample 2 of channel 0 is -Infinity/,
      );
    });
    test('every error carries a hint or a clear message and never returns garbage', () => {
      // Random corruption of a valid file's header bytes either reads cleanly or fails with an AerError.
      for (let seed = 0; seed < 300; seed++) {
        const bytes = good.slice();
        bytes[12 + (seed % 32)] ^= 1 + ((seed * 37) % 255);
        try {
          const wav = readWav(bytes);
          for (const c of wav.channels) for (const x of c) assert.ok(Number.isFinite(x));
        } catch (e) {
          assert.ok(e instanceof AerError, `seed ${seed}: ${e}`);
        }
      }
    });
  });

  describe('files written by other tools', { skip: needsTools('ffmpeg', 'sox') }, () => {
    const dir = tempDir();
    const source = path.join(dir, 'source.wav');
    fs.writeFileSync(source, writeWav({ sampleRate: 44100, channels: [tone(440, 44100, 4410, 0.7), noise(4410, 0.4)] }, 'f32'));

    for (const [codec, extra] of [
      ['pcm_u8', []],
      ['pcm_s16le', []],
      ['pcm_s24le', []],
      ['pcm_s32le', []],
      ['pcm_f32le', []],
      ['pcm_f64le', []],
      ['pcm_mulaw', []],
      ['pcm_alaw', []],
      ['pcm_s16le', ['-rf64', 'always']],
    ] as const) {
      test(`ffmpeg ${codec} ${extra.join(' ')}: same samples as ffmpeg decodes`, () => {
        const file = path.join(dir, `${codec}${extra.length ? '-rf64' : ''}.wav`);
        run('ffmpeg', ['-v', 'error', '-y', '-i', source, '-c:a', codec, ...extra, file]);
        const wav = readWav(fs.readFileSync(file));
        const reference = ffmpegDecodeF32(file);
        assert.equal(wav.channels.length, 2);
        assert.equal(wav.channels[0].length * 2, reference.length);
        const interleaved = new Float32Array(reference.length);
        for (let i = 0; i < wav.channels[0].length; i++) {
          interleaved[2 * i] = wav.channels[0][i];
          interleaved[2 * i + 1] = wav.channels[1][i];
        }
        assert.ok(maxAbsDiff(interleaved, reference) <= 1e-7, `max diff ${maxAbsDiff(interleaved, reference)}`);
      });
    }

    test('sox: 3-channel 24-bit WAVE_FORMAT_EXTENSIBLE with a fact chunk', () => {
      const file = path.join(dir, 'three.wav');
      run('sox', ['-n', '-r', '16000', '-c', '3', '-b', '24', '-e', 'signed', file, 'synth', '0.2', 'sine', '440', 'sine', '880', 'sine', '1200']);
      const wav = readWav(fs.readFileSync(file));
      assert.equal(wav.format.extensible, true);
      assert.equal(wav.channels.length, 3);
      assert.equal(wav.channels[0].length, 3200);
      const reference = ffmpegDecodeF32(file);
      for (let c = 0; c < 3; c++) for (let i = 0; i < 3200; i += 97) assert.ok(Math.abs(wav.channels[c][i] - reference[3 * i + c]) <= 1e-7);
    });

    test('ffmpeg writing to a pipe (unset sizes)', () => {
      const bytes = run('sh', ['-c', `ffmpeg -v error -i ${source} -c:a pcm_s16le -f wav - | cat`]);
      const wav = readWav(new Uint8Array(bytes));
      assert.equal(wav.channels[0].length, 4410);
      assert.equal(wav.warnings.length, 1);
    });
  });

  test('the shared speech fixture', { skip: needsFixtures }, () => {
    const wav = readWav(fs.readFileSync(fixturePath('speech_48000.wav')));
    assert.equal(wav.sampleRate, 48000);
    assert.equal(wav.channels[0].length, 197153);
  });
});
