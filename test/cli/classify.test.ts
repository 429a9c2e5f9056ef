/** `aer classify`: files tagged on this machine, no server; per window or per channel, as text, JSON or CSV. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { writeWav } from '../../src/audio/wav-write.ts';
import type { EmotionMessage } from '../../src/protocol/wire.ts';
import type { ChannelSummary } from '../../src/stream/summary.ts';
import { aer } from '../helpers/cli.ts';
import { testModelDir, voiced } from '../helpers/service.ts';
import { tempDir } from '../helpers/tools.ts';

const dir = tempDir();
const stereo = path.join(dir, 'call.wav');
fs.writeFileSync(stereo, writeWav({ sampleRate: 16000, channels: [voiced(6), new Float32Array(6 * 16000)] }));
const mono = path.join(dir, 'mono.wav');
fs.writeFileSync(mono, writeWav({ sampleRate: 8000, channels: [voiced(4, 8000)] }));

describe('aer classify', () => {
  test('JSON: per file its format, a window every hop and a summary per channel that adds up; an unreadable file is named and the rest tagged', async () => {
    const model = await testModelDir();
    const run = aer('classify', stereo, path.join(dir, 'missing.wav'), mono, '--model', model, '--no-vad', '--json');
    assert.equal(run.status, 1, run.stderr);
    const out = JSON.parse(run.stdout) as {
      files: { file: string; format: string; duration_s: number; summary: ChannelSummary[]; windows: EmotionMessage[] }[];
      failed: { file: string; error: { code: string } }[];
    };
    assert.deepEqual(
      out.files.map((f) => [path.basename(f.file), f.format, f.duration_s]),
      [
        ['call.wav', 'WAV, 16-bit PCM', 6],
        ['mono.wav', 'WAV, 16-bit PCM', 4],
      ],
    );
    assert.deepEqual(
      out.failed.map((f) => path.basename(f.file)),
      ['missing.wav'],
    );
    assert.match(run.stderr, /missing\.wav: not tagged: .* is not a file/);
    const [call] = out.files;
    assert.deepEqual(
      call.summary.map((c) => c.channel),
      [0, 1],
    );
    for (const c of call.summary) {
      const own = call.windows.filter((w) => w.channel === c.channel);
      assert.equal(c.windows, own.length);
      // VAD off: every window is analysed, and the windows tile the whole 6 s.
      assert.equal(c.speech_windows, own.length);
      assert.ok(Math.abs(c.speech_s - 6) < 0.02, `${c.speech_s} s`);
      assert.ok(Math.abs(Object.values(c.by_label).reduce((a, b) => a + b, 0) - c.speech_s) < 0.05);
      assert.equal(c.dominant, Object.keys(c.by_label)[0]);
    }
  });

  test('text per window then the summary; --summary alone; CSV rows per window with every score, or per channel', async () => {
    const model = await testModelDir();
    const text = aer('classify', mono, '--model', model);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^.*mono\.wav: WAV, 16-bit PCM, 4\.0 s, 1 channel\(s\)$/m);
    assert.match(text.stdout, /^ {2}00:00\.0-00:03\.0 {2}ch0 {2}/m);
    assert.match(text.stdout, /^ {2}channel 0: /m);
    const summary = aer('classify', mono, '--model', model, '--summary');
    assert.doesNotMatch(summary.stdout, /ch0/);
    const csv = aer('classify', stereo, '--model', model, '--no-vad', '--csv').stdout.trim().split('\n');
    assert.equal(csv[0], 'file,channel,start_s,end_s,speech,label,confidence,angry,disgust,fear,happy,neutral,sad');
    assert.ok(csv.length > 10 && csv.slice(1).every((row) => row.split(',').length === 13));
    const perChannel = aer('classify', stereo, '--model', model, '--no-vad', '--csv', '--summary').stdout.trim().split('\n');
    assert.equal(perChannel[0], 'file,channel,speech_s,dominant,changes,angry_s,disgust_s,fear_s,happy_s,neutral_s,sad_s');
    assert.equal(perChannel.length, 3);
    const both = aer('classify', mono, '--json', '--csv', '--model', model);
    assert.equal(both.status, 2);
    // With --json, the error is JSON too.
    assert.match((JSON.parse(both.stdout) as { error: { message: string } }).error.message, /--json and --csv are two outputs; pick one/);
  });

  test('with a narrowband model, an 8 kHz file is heard by it and the output says so; --band narrow without one is refused', async () => {
    const model = await testModelDir();
    const run = aer('classify', stereo, mono, '--model', model, '--narrowband-model', model, '--json', '--summary');
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { files: { band: string }[] };
    assert.deepEqual(
      out.files.map((f) => f.band),
      ['wide', 'narrow'],
    );
    assert.match(aer('classify', mono, '--model', model, '--narrowband-model', model, '--summary').stdout, /4\.0 s, 1 channel\(s\), telephone-band model$/m);
    const missing = aer('classify', mono, '--model', model, '--narrowband-model', path.join(dir, 'no-such-model'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /error \[invalid_model\]: the narrowband \(telephone-band\) model: model directory .* does not exist/);
    assert.match(missing.stderr, /--narrowband-model none to do without one/);
    const refused = aer('classify', mono, '--model', model, '--band', 'narrow');
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /band=narrow, but no telephone-band model is loaded.*--narrowband-model DIR/s);
  });
});
