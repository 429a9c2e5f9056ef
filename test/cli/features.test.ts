import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { readWav } from '../../src/audio/wav.ts';
import { writeWav } from '../../src/audio/wav-write.ts';
import { clipFeatures } from '../../src/features/extract.ts';
import { modelSignal } from '../../src/features/signal.ts';
import { signalWindows } from '../../src/features/windows.ts';
import { aer } from '../helpers/cli.ts';
import { maxAbsDiff, noise, tone } from '../helpers/signals.ts';
import { tempDir } from '../helpers/tools.ts';

function readF32(file: string): Float32Array {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

describe('aer CLI', () => {
  const dir = tempDir();
  const left = tone(220, 16000, 70000, 0.4);
  const right = noise(70000, 0.2);
  const stereo = path.join(dir, 'call.wav');
  fs.writeFileSync(stereo, writeWav({ sampleRate: 16000, channels: [left, right] }));

  test('--help lists the commands and exits 0; every command has help with its options, also as aer help COMMAND', () => {
    const commands = ['info', 'features', 'classify', 'datasets', 'train', 'eval', 'baselines', 'ablation', 'crossval', 'export-onnx', 'serve'];
    const help = aer('--help');
    assert.equal(help.status, 0);
    for (const command of commands) assert.match(help.stdout, new RegExp(`^  ${command} +\\S`, 'm'), command);
    for (const command of commands) {
      const sub = aer(command, '--help');
      assert.equal(sub.status, 0, sub.stderr);
      assert.match(sub.stdout, new RegExp(`Usage: aer ${command} \\[options\\]`));
      // Its module defined its flags (a command's module loads only when it is invoked).
      assert.match(sub.stdout, command === 'datasets' ? /prepare/ : /^ {2}--?[a-z]/m, command);
    }
    assert.match(aer('help', 'serve').stdout, /--narrowband-model <dir>/);
  });

  test('info describes a file, as text and as JSON', () => {
    const text = aer('info', stereo);
    assert.equal(text.status, 0);
    assert.match(text.stdout, /16000 Hz/);
    const json = JSON.parse(aer('info', stereo, '--json').stdout);
    assert.deepEqual([json.format, json.sample_rate, json.channels, json.samples], ['WAV, 16-bit PCM', 16000, 2, 70000]);
  });

  test('features writes the first 3 s as 130 x 128 float32, equal to the library', () => {
    const out = path.join(dir, 'one.f32');
    const result = aer('features', stereo, '--out', out, '--channel', '1');
    assert.equal(result.status, 0, result.stderr);
    const written = readF32(out);
    assert.equal(written.length, 130 * 128);
    const expected = clipFeatures(modelSignal(readWav(fs.readFileSync(stereo)), 1));
    assert.equal(maxAbsDiff(written, expected), 0);
  });

  test('features --windows writes every window and prints their start times', () => {
    const out = path.join(dir, 'all.f32');
    const result = aer('features', stereo, '--out', out, '--windows', '--hop-ms', '1000', '--json');
    assert.equal(result.status, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    const expected = signalWindows(modelSignal(readWav(fs.readFileSync(stereo))), 1000);
    assert.equal(summary.hop_ms, Number(expected.hopMs.toFixed(3)));
    assert.deepEqual(summary.shape, [expected.windows.length, 130, 128]);
    assert.deepEqual(
      summary.windows.map((w: { start_s: number }) => w.start_s),
      expected.windows.map((w) => Number((w.start / 22050).toFixed(4))),
    );
    const written = readF32(out);
    assert.equal(written.length, expected.windows.length * 130 * 128);
    assert.equal(maxAbsDiff(written.subarray(written.length - 130 * 128), expected.windows.at(-1)!.features), 0);
    const text = aer('features', stereo, '--out', out, '--windows');
    assert.match(text.stdout, /window\s+start_s\s+end_s/);
    assert.match(text.stdout, /partial: zero-padded/);
  });

  test('a missing file: exit 1, the error code and what was wrong', () => {
    const result = aer('features', path.join(dir, 'nope.wav'), '--out', path.join(dir, 'x.f32'));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^error \[io_error\]: cannot read .*nope\.wav: no such file/m);
  });

  test('an unsupported file: exit 1 with the ffmpeg hint; --json gives the error as JSON', () => {
    const mp3 = path.join(dir, 'song.mp3');
    fs.writeFileSync(mp3, Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00more bytes', 'latin1'));
    const text = aer('info', mp3);
    assert.equal(text.status, 1);
    assert.match(text.stderr, /error \[unsupported_format\]: MP3 files are not read directly/);
    assert.match(text.stderr, /hint: convert it with ffmpeg/);
    const json = aer('info', mp3, '--json');
    assert.equal(json.status, 1);
    assert.equal(JSON.parse(json.stdout).error.code, 'unsupported_format');
  });

  test('usage mistakes exit 2 and say what to fix', () => {
    const badHop = aer('features', stereo, '--out', path.join(dir, 'x.f32'), '--hop-ms', '10');
    assert.equal(badHop.status, 2);
    assert.match(badHop.stderr, /--hop-ms must be a number from 100 to 3000/);
    assert.equal(aer('features', stereo).status, 2);
    assert.equal(aer('no-such-command').status, 2);
    const badChannel = aer('features', stereo, '--out', path.join(dir, 'x.f32'), '--channel', '5');
    assert.equal(badChannel.status, 2);
    assert.match(badChannel.stderr, /channel 5 does not exist; the audio has 2 channel/);
  });

  test('a sample rate outside 8-48 kHz and an empty WAV are refused', () => {
    const high = path.join(dir, 'high.wav');
    fs.writeFileSync(high, writeWav({ sampleRate: 96000, channels: [noise(960, 0.1)] }));
    const result = aer('features', high, '--out', path.join(dir, 'x.f32'));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /unsupported_sample_rate.*96000 Hz/);
    const empty = path.join(dir, 'empty.wav');
    fs.writeFileSync(empty, writeWav({ sampleRate: 16000, channels: [new Float32Array(0)] }));
    assert.match(aer('features', empty, '--out', path.join(dir, 'x.f32')).stderr, /error \[empty_audio\]/);
  });
});
