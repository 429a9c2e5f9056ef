import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { readAudioFile } from '../../src/audio/load.ts';
import { VadBatcher } from '../../src/stream/vad.ts';
import { EMODB_DIR, emodbFiles, needsEmodb } from '../helpers/shared.ts';
import { noise } from '../helpers/signals.ts';

const batcher = await VadBatcher.load();
after(() => batcher.dispose());

/** Pushes a signal in 20 ms pieces and waits for the decisions. */
async function speechShare(signal: Float32Array, rate: number, stream = batcher.stream(rate)): Promise<number> {
  const step = Math.round(rate * 0.02);
  for (let i = 0; i < signal.length; i += step) stream.push(signal.subarray(i, i + step));
  const seconds = signal.length / rate;
  await stream.until(seconds);
  return stream.speechSeconds(0, seconds) / seconds;
}

describe('voice activity (Silero VAD, batched)', () => {
  test('silence and loud white noise are not speech', async () => {
    assert.equal(await speechShare(new Float32Array(48000), 16000), 0);
    for (const amplitude of [0.01, 0.3]) assert.ok((await speechShare(noise(66150, amplitude, 5), 22050)) < 0.05, `white noise at ${amplitude}`);
  });

  test('EmoDB speech is, at any input rate, and in noise at 10 dB SNR', { skip: needsEmodb }, async () => {
    const audio = await readAudioFile(path.join(EMODB_DIR, emodbFiles()[0]));
    const speech = audio.channels[0];
    assert.ok((await speechShare(speech, audio.sampleRate)) > 0.6);
    const rms = Math.sqrt(speech.reduce((s, v) => s + v * v, 0) / speech.length);
    const noisy = noise(speech.length, rms * Math.sqrt(3) * 10 ** (-10 / 20), 3).map((v, i) => v + speech[i]);
    assert.ok((await speechShare(noisy, audio.sampleRate)) > 0.6);
  });

  test('batched with other streams, a stream gets the same decisions as alone', { skip: needsEmodb }, async () => {
    const clips = await Promise.all(
      emodbFiles()
        .slice(0, 6)
        .map((f) => readAudioFile(path.join(EMODB_DIR, f))),
    );
    const alone: number[] = [];
    for (const c of clips) alone.push(await speechShare(c.channels[0], c.sampleRate));
    const together = await Promise.all(clips.map((c) => speechShare(c.channels[0], c.sampleRate)));
    assert.deepEqual(together, alone);
  });

  test("a stream's decisions do not depend on how its audio arrives: all at once, or each chunk decided before the next", { skip: needsEmodb }, async () => {
    const audio = await readAudioFile(path.join(EMODB_DIR, emodbFiles()[1]));
    const decisions = async (piece: number) => {
      const stream = batcher.stream(audio.sampleRate);
      const signal = audio.channels[0];
      for (let i = 0; i < signal.length; i += piece) {
        stream.push(signal.subarray(i, i + piece));
        await stream.until(Math.min(signal.length, i + piece) / audio.sampleRate);
      }
      return Array.from({ length: Math.floor(signal.length / audio.sampleRate / 0.032) }, (_, k) => stream.speechSeconds(k * 0.032, (k + 1) * 0.032));
    };
    const whole = await decisions(audio.channels[0].length);
    assert.ok(whole.filter((s) => s > 0).length > whole.length / 2, 'most chunks of an EmoDB clip are speech');
    assert.deepEqual(whole, await decisions(Math.round(audio.sampleRate * 0.032)));
  });

  test('chunks below -60 dBFS are decided without Silero, in their turn; speech after them is found as without them', { skip: needsEmodb }, async () => {
    const audio = await readAudioFile(path.join(EMODB_DIR, emodbFiles()[0]));
    const rate = audio.sampleRate;
    const speech = audio.channels[0];
    const quiet = noise(rate, 10 ** (-75 / 20) * Math.sqrt(3), 9);
    const withSilence = new Float32Array(rate + speech.length);
    withSilence.set(quiet);
    withSilence.set(speech, rate);
    const gated = batcher.stats.gated;
    const stream = batcher.stream(rate);
    const step = Math.round(rate * 0.02);
    for (let i = 0; i < withSilence.length; i += step) stream.push(withSilence.subarray(i, i + step));
    await stream.until(withSilence.length / rate);
    assert.ok(batcher.stats.gated - gated >= 30, `${batcher.stats.gated - gated} chunks gated`);
    assert.equal(stream.speechSeconds(0, 0.96), 0);
    const alone = await speechShare(speech, rate);
    const after = stream.speechSeconds(1, withSilence.length / rate) / (speech.length / rate);
    assert.ok(alone > 0.6 && Math.abs(after - alone) < 0.05, `speech share ${after} after the silence, ${alone} alone`);
  });

  test("until() waits for decisions; a closed stream's chunks are dropped", async () => {
    // Noise above the gate, so every chunk goes to Silero.
    const hiss = () => noise(16000, 0.01, 2);
    const stream = batcher.stream(16000);
    stream.push(hiss());
    assert.equal(stream.speechSeconds(0, 1), 0);
    const before = batcher.stats.chunks;
    await stream.until(1);
    assert.equal(batcher.stats.chunks - before, 31);
    // A stream closed before its chunks ran: they leave the queue unrun, while an open stream's run.
    const closing = batcher.stream(16000);
    const open = batcher.stream(16000);
    closing.push(hiss());
    open.push(hiss());
    closing.close();
    const queued = batcher.stats.chunks;
    await closing.until(1);
    await open.until(1);
    assert.equal(batcher.stats.chunks - queued, 31, "only the open stream's 31 chunks ran");
    assert.equal(closing.speechSeconds(0, 1), 0);
  });
});
