import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrackAligner } from '../../src/telephony/track-aligner.ts';

const SILENCE = 0xff;
/** 1 kHz so that 1 ms is one sample: the arithmetic reads plainly. */
const aligner = (tracks = 2, holdMs = 40) => new TrackAligner({ tracks, sampleRate: 1000, silence: SILENCE, holdMs, maxJumpMs: 10_000 });
const chunk = (value: number, n = 20) => new Uint8Array(n).fill(value);
/** Track t's samples of interleaved bytes. */
const track = (bytes: Uint8Array, t: number, tracks = 2) => [...bytes].filter((_, i) => i % tracks === t);

test('two tracks go out interleaved once both have the audio', () => {
  const a = aligner();
  assert.equal(a.push(0, 0, chunk(1)).length, 0, 'the agent track has nothing yet');
  const out = a.push(1, 0, chunk(2));
  assert.equal(out.length, 40);
  assert.deepEqual(track(out, 0), Array(20).fill(1));
  assert.deepEqual(track(out, 1), Array(20).fill(2));
  assert.equal(a.stats.concealedSamples, 0);
});

test('chunks out of order are put back in order', () => {
  const a = aligner(1);
  assert.equal(a.push(0, 20, chunk(2)).length, 0, 'waits for the chunk before it');
  const out = a.push(0, 0, chunk(1));
  assert.deepEqual([...out], [...Array(20).fill(1), ...Array(20).fill(2)]);
});

test('a chunk that never comes is concealed once later audio has waited the hold, and a late one is dropped', () => {
  const a = aligner(1, 40);
  assert.deepEqual([...a.push(0, 0, chunk(1))], Array(20).fill(1));
  // 20-40 is lost; once audio has come 40 ms (the hold) past the gap's end, the gap is concealed.
  assert.equal(a.push(0, 40, chunk(3)).length, 0);
  const out = a.push(0, 60, chunk(4, 40));
  assert.deepEqual([...out.subarray(0, 20)], Array(20).fill(SILENCE));
  assert.deepEqual([...out.subarray(20, 40)], Array(20).fill(3));
  assert.deepEqual([...out.subarray(40)], Array(40).fill(4), 'past the gap, the audio that is there goes on');
  assert.equal(a.stats.concealedSamples, 20);
  assert.equal(a.push(0, 20, chunk(2)).length, 0);
  assert.equal(a.stats.lateChunks, 1);
});

test('a silent track does not hold the other back beyond the hold, and finish sends the rest', () => {
  const a = aligner(2, 40);
  let sent = 0;
  for (let t = 0; t < 200; t += 20) sent += a.push(0, t, chunk(1)).length;
  assert.equal(sent / 2, 160, 'all but the hold went out, the silent track concealed');
  const rest = a.finish();
  assert.equal(rest.length / 2, 40);
  assert.deepEqual(track(rest, 1), Array(40).fill(SILENCE));
  assert.equal(a.sentS, 0.2);
});

test('a timestamp far past the audio received is refused, not concealed', () => {
  const a = aligner(1);
  a.push(0, 0, chunk(1));
  assert.throws(() => a.push(0, 1e9, chunk(1)), RangeError);
});

test('overlapping chunks (a resend) do not repeat audio', () => {
  const a = aligner(1, 0);
  const first = a.push(0, 0, chunk(1));
  const second = a.push(0, 10, chunk(2));
  assert.equal(first.length + second.length, 30);
  assert.deepEqual([...second], Array(10).fill(2));
});
