import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { oggCrc, OggReader } from '../../src/audio/ogg.ts';
import { OggOpusStreamDecoder, parseOpusHead, readOggOpus } from '../../src/audio/ogg-opus.ts';
import { readWav } from '../../src/audio/wav.ts';
import { writeWav } from '../../src/audio/wav-write.ts';
import { AerError } from '../../src/errors.ts';
import { concat, maxAbsDiff, noise, randomChunks, tone } from '../helpers/signals.ts';
import { needsTools, run, tempDir } from '../helpers/tools.ts';

/** Byte ranges of the pages of an Ogg file, read independently of the reader under test. */
function pages(bytes: Uint8Array): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let o = 0; o < bytes.length; ) {
    assert.equal(String.fromCharCode(...bytes.subarray(o, o + 4)), 'OggS');
    const segments = bytes[o + 26];
    let size = 27 + segments;
    for (let i = 0; i < segments; i++) size += bytes[o + 27 + i];
    out.push({ start: o, end: o + size });
    o += size;
  }
  return out;
}

function withoutPage(bytes: Uint8Array, index: number): Uint8Array {
  const p = pages(bytes)[index];
  return new Uint8Array(Buffer.concat([bytes.subarray(0, p.start), bytes.subarray(p.end)]));
}

/** Rewrite a page's CRC after editing it. */
function fixCrc(bytes: Uint8Array, page: { start: number; end: number }): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  view.setUint32(page.start + 22, oggCrc(bytes.subarray(page.start, page.end), 22, 26), true);
}

function decodeStream(bytes: Uint8Array, chunkMax: number, rate: 24000 | 48000 = 24000): { channels: Float32Array[]; problems: string[] } {
  const decoder = new OggOpusStreamDecoder(rate);
  const outputs = randomChunks(bytes, chunkMax).map((c) => decoder.push(c));
  outputs.push(decoder.end());
  const channels = outputs[0].channels.map((_, c) => concat(outputs.map((o) => o.channels[c] ?? new Float32Array(0))));
  return { channels, problems: outputs.flatMap((o) => o.problems) };
}

describe('Ogg Opus', { skip: needsTools('opusenc', 'opusdec', 'sox', 'ffmpeg') }, () => {
  const dir = tempDir();
  const speechish = concat([tone(180, 48000, 24000, 0.3), noise(12000, 0.1), tone(900, 48000, 60000, 0.2)]);
  const source = path.join(dir, 'source.wav');
  fs.writeFileSync(source, writeWav({ sampleRate: 48000, channels: [speechish] }));
  const file = path.join(dir, 'mono.opus');
  run('opusenc', ['--quiet', '--bitrate', '24', '--max-delay', '100', source, file]);
  const bytes = new Uint8Array(fs.readFileSync(file));

  for (const rate of [8000, 16000, 44100, 48000]) {
    test(`opusenc from ${rate} Hz: same length and samples as opusdec at 48 kHz`, () => {
      const input = path.join(dir, `in${rate}.wav`);
      run('sox', [source, '-r', String(rate), input]);
      const encoded = path.join(dir, `in${rate}.opus`);
      run('opusenc', ['--quiet', input, encoded]);
      const reference = path.join(dir, `ref${rate}.wav`);
      run('opusdec', ['--quiet', '--float', '--rate', '48000', encoded, reference]);
      const expected = readWav(fs.readFileSync(reference)).channels[0];
      const ours = readOggOpus(new Uint8Array(fs.readFileSync(encoded)), 48000);
      assert.equal(ours.head.inputSampleRate, rate);
      assert.equal(ours.channels[0].length, expected.length);
      // Ours decodes to 16-bit integers, opusdec to floats.
      assert.ok(maxAbsDiff(ours.channels[0], expected) < 1e-4, `max diff ${maxAbsDiff(ours.channels[0], expected)}`);
    });
  }

  test('decoding at 24 kHz gives half the samples: pre-skip and end trimming scale with the rate', () => {
    const at48 = readOggOpus(bytes, 48000);
    const at24 = readOggOpus(bytes, 24000);
    assert.equal(at48.channels[0].length, speechish.length);
    assert.equal(at24.channels[0].length, Math.floor(speechish.length / 2));
    assert.equal(at24.head.preSkip, 312);
  });

  test('streamed in random chunks, the output equals the whole-file decode', () => {
    const whole = readOggOpus(bytes).channels[0];
    for (const max of [1, 50, 4000]) {
      const streamed = decodeStream(bytes, max);
      assert.deepEqual(streamed.problems, []);
      assert.equal(maxAbsDiff(streamed.channels[0], whole), 0);
    }
  });

  test('stereo files keep both channels', () => {
    const stereo = path.join(dir, 'stereo.wav');
    fs.writeFileSync(stereo, writeWav({ sampleRate: 48000, channels: [tone(300, 48000, 24000), tone(1200, 48000, 24000)] }));
    run('opusenc', ['--quiet', stereo, path.join(dir, 'stereo.opus')]);
    const ours = readOggOpus(new Uint8Array(fs.readFileSync(path.join(dir, 'stereo.opus'))));
    assert.equal(ours.channels.length, 2);
    assert.equal(ours.channels[1].length, 12000);
  });

  test('a missing page in a stream is concealed for exactly the lost duration', () => {
    const total = pages(bytes).length;
    assert.ok(total > 6, `expected several pages, got ${total}`);
    const damaged = withoutPage(bytes, 4);
    const streamed = decodeStream(damaged, 3000);
    assert.equal(streamed.channels[0].length, Math.floor(speechish.length / 2));
    assert.ok(streamed.problems.some((p) => /missing/.test(p)));
    assert.ok(streamed.problems.some((p) => /ms of audio were lost.*concealed/.test(p)));
    assert.throws(
      () => readOggOpus(damaged),
      (e: unknown) => e instanceof AerError && e.code === 'malformed_ogg' && /missing/.test(e.message),
    );
  });

  test('a page that fails its CRC is skipped and concealed in a stream, refused in a file', () => {
    const damaged = bytes.slice();
    const page = pages(damaged)[5];
    damaged[page.end - 10] ^= 0x55;
    const streamed = decodeStream(damaged, 3000);
    assert.ok(streamed.problems.some((p) => /CRC/.test(p)));
    assert.equal(streamed.channels[0].length, Math.floor(speechish.length / 2));
    assert.throws(
      () => readOggOpus(damaged),
      (e: unknown) => e instanceof AerError && e.code === 'malformed_ogg' && /CRC/.test(e.message),
    );
  });

  test('garbage between pages is skipped in a stream', () => {
    const p = pages(bytes)[3];
    const withGarbage = new Uint8Array(Buffer.concat([bytes.subarray(0, p.start), Buffer.from('not ogg at all'), bytes.subarray(p.start)]));
    const streamed = decodeStream(withGarbage, 500);
    assert.ok(streamed.problems.some((x) => /not part of any Ogg page/.test(x)));
    assert.equal(streamed.channels[0].length, Math.floor(speechish.length / 2));
  });

  test('a truncated file is a typed error; a truncated stream reports it at the end', () => {
    const cut = bytes.subarray(0, Math.floor(bytes.length * 0.6));
    assert.throws(
      () => readOggOpus(cut),
      (e: unknown) => e instanceof AerError && e.code === 'truncated_audio' && /ends inside/.test(e.message),
    );
    const streamed = decodeStream(cut, 700);
    assert.ok(streamed.problems.some((p) => /ends inside/.test(p)));
    assert.ok(streamed.channels[0].length > 0);
  });

  test('chained streams (two files end to end) decode one after the other', () => {
    const chained = new Uint8Array(Buffer.concat([bytes, bytes]));
    assert.equal(readOggOpus(chained).channels[0].length, 2 * Math.floor(speechish.length / 2));
  });

  test('the OpusHead output gain is applied', () => {
    const gained = bytes.slice();
    const first = pages(gained)[0];
    const headAt = first.start + 27 + gained[first.start + 26];
    new DataView(gained.buffer).setInt16(headAt + 16, -6 * 256, true); // -6 dB in Q7.8
    fixCrc(gained, first);
    const plain = readOggOpus(bytes).channels[0];
    const quieter = readOggOpus(gained).channels[0];
    const ratio = quieter[5000] / plain[5000];
    assert.ok(Math.abs(ratio - 10 ** (-6 / 20)) < 1e-3, `gain ratio ${ratio}`);
  });

  test('multichannel (mapping family 1) files are refused with a downmix hint', () => {
    const six = path.join(dir, 'six.wav');
    run('sox', ['-n', '-r', '48000', '-c', '6', '-b', '16', six, 'synth', '0.2', 'sine', '440']);
    run('opusenc', ['--quiet', six, path.join(dir, 'six.opus')]);
    assert.throws(
      () => readOggOpus(new Uint8Array(fs.readFileSync(path.join(dir, 'six.opus')))),
      (e: unknown) => e instanceof AerError && e.code === 'unsupported_encoding' && /6 channels/.test(e.message) && /-ac 2/.test(e.hint ?? ''),
    );
  });

  test('Ogg FLAC is named and refused', () => {
    const flac = path.join(dir, 'x.oga');
    run('ffmpeg', ['-v', 'error', '-y', '-i', source, '-t', '0.2', '-c:a', 'flac', '-f', 'ogg', flac]);
    assert.throws(
      () => readOggOpus(new Uint8Array(fs.readFileSync(flac))),
      (e: unknown) => e instanceof AerError && e.code === 'unsupported_format' && /FLAC, not Opus/.test(e.message),
    );
  });
});

describe('Ogg Opus without tools', () => {
  test('an empty file', () => {
    assert.throws(
      () => readOggOpus(new Uint8Array(0)),
      (e: unknown) => e instanceof AerError && e.code === 'empty_file',
    );
  });

  test('bytes that hold no Ogg page', () => {
    assert.throws(
      () => readOggOpus(new TextEncoder().encode('OggS but nothing else of a page')),
      (e: unknown) => e instanceof AerError && e.code === 'unsupported_format',
    );
  });

  test('OpusHead validation', () => {
    const head = new Uint8Array(19);
    head.set(new TextEncoder().encode('OpusHead'));
    head[8] = 1;
    head[9] = 2;
    new DataView(head.buffer).setUint16(10, 312, true);
    new DataView(head.buffer).setUint32(12, 44100, true);
    assert.deepEqual(parseOpusHead(head), { version: 1, channels: 2, preSkip: 312, inputSampleRate: 44100, outputGainDb: 0, mappingFamily: 0 });
    assert.throws(
      () => parseOpusHead(head.subarray(0, 12)),
      (e: unknown) => e instanceof AerError && e.code === 'malformed_opus',
    );
    const v2 = head.slice();
    v2[8] = 0x10;
    assert.throws(
      () => parseOpusHead(v2),
      (e: unknown) => e instanceof AerError && e.code === 'unsupported_encoding',
    );
    const none = head.slice();
    none[9] = 0;
    assert.throws(
      () => parseOpusHead(none),
      (e: unknown) => e instanceof AerError && /0 channels/.test(e.message),
    );
  });

  test('the page reader rebuilds packets that span pages and flags missing ones', () => {
    // Two pages: a 300-byte packet split 255 + 45 across them, then a short one.
    const page = (sequence: number, flags: number, laces: number[], body: Uint8Array, granule: bigint) => {
      const header = new Uint8Array(27 + laces.length);
      header.set(new TextEncoder().encode('OggS'));
      header[5] = flags;
      const v = new DataView(header.buffer);
      v.setBigInt64(6, granule, true);
      v.setUint32(14, 77, true);
      v.setUint32(18, sequence, true);
      header[26] = laces.length;
      header.set(laces, 27);
      const out = new Uint8Array(Buffer.concat([header, body]));
      fixCrc(out, { start: 0, end: out.length });
      return out;
    };
    const packet = new Uint8Array(300).map((_, i) => i & 0xff);
    const p0 = page(0, 0x02, [255], packet.subarray(0, 255), -1n);
    const p1 = page(1, 0x01, [45, 3], new Uint8Array([...packet.subarray(255), 9, 9, 9]), 960n);
    const reader = new OggReader();
    const result = reader.push(new Uint8Array(Buffer.concat([p0, p1])));
    assert.deepEqual(result.problems, []);
    assert.equal(result.pages.length, 2);
    assert.deepEqual(result.pages[0].packets, []);
    assert.deepEqual(result.pages[1].packets, [packet, new Uint8Array([9, 9, 9])]);
    // Sequence 1 again then 5: four pages are missing, and a continued packet whose start was lost is dropped.
    const later = reader.push(page(5, 0x01, [10, 2], new Uint8Array(12), 1920n));
    assert.equal(later.problems[0].kind, 'gap');
    assert.match(later.problems[0].message, /3 Ogg page\(s\)/);
    assert.deepEqual(later.pages[0].packets, [new Uint8Array(2)]);
    assert.deepEqual(reader.end(), []);
  });
});
