import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { clipFeatures } from '../../src/features/extract.ts';
import { WINDOW_VALUES } from '../../src/features/recipe.ts';
import { VadBatcher } from '../../src/stream/vad.ts';
import type { LoadedClip } from '../../src/train/clip-store.ts';
import { buildCalls, SCORED_OVERLAP_S } from '../../src/train/conditions/call.ts';
import { evaluateConditions, type Scorer } from '../../src/train/conditions/evaluate.ts';
import { streamCall } from '../../src/train/conditions/stream-run.ts';
import { LABELS } from '../../src/train/labels.ts';
import { createRandom } from '../../src/train/random.ts';
import { maxAbsDiff } from '../helpers/signals.ts';
import { needsSpeech, speech } from '../helpers/speech.ts';

const labels = [...LABELS];

/** Two speakers (a low and a high voice), two emotions each, two sentences of each: real speech for the VAD. */
function spokenClips(): LoadedClip[] {
  const voices = { low: { pitch: 20, speed: 150 }, high: { pitch: 80, speed: 170 } };
  return Object.entries(voices).flatMap(([speaker, voice]) =>
    ['angry', 'sad'].flatMap((label, l) =>
      [0, 1].map((k) => {
        const signal = speech(2 * l + k, voice);
        return {
          path: `/tts/${speaker}-${label}-${k}.wav`,
          label: label as LoadedClip['label'],
          speaker,
          corpus: 'tts',
          signal,
          features: clipFeatures(signal),
        };
      }),
    ),
  );
}

describe('the stream condition: a call through the session pipeline', { skip: needsSpeech }, () => {
  let vad: VadBatcher;
  let clips: LoadedClip[];
  before(async () => {
    vad = await VadBatcher.load();
    clips = spokenClips();
  });
  after(() => vad.dispose());

  test("every window of both channels comes back, speech ones with their model input, on the service's grid", async () => {
    const [call] = buildCalls(clips, createRandom(2));
    const seconds = call.channels[0].length / 22050;
    for (const path of ['pcm16k', 'pcm', 'telephone'] as const) {
      const windows = await streamCall(call, path, vad, labels);
      for (const channel of [0, 1]) {
        const mine = windows.filter((w) => w.channel === channel);
        assert.deepEqual(
          mine.map((w) => w.seq),
          mine.map((_, i) => i),
          `${path}: channel ${channel} in order, none missing`,
        );
        assert.ok(mine.length >= Math.floor((seconds - 3) / 0.52), `${path}: ${mine.length} windows of a ${seconds.toFixed(1)} s call`);
        for (const [i, w] of mine.entries()) {
          // Whole 3 s windows, but for the close's partial last one.
          const length = w.endS - w.startS;
          assert.ok(Math.abs(length - 3) < 0.01 || (i === mine.length - 1 && length < 3), `window ${i}: ${length} s`);
          assert.equal(w.features !== undefined, w.speech);
          if (w.features) assert.equal(w.features.length, WINDOW_VALUES);
        }
        // Windows well inside a turn of this channel's speaker are speech; windows where only the other party talks are not.
        const inside = mine.filter((w) => call.turns.some((t) => t.channel === channel && t.startS <= w.startS + 0.25 && w.endS - 0.25 <= t.endS));
        const other = mine.filter((w) => call.turns.some((t) => t.channel !== channel && t.startS <= w.startS && w.endS <= t.endS));
        assert.ok(inside.length > 0 && inside.every((w) => w.speech), `${path}: windows inside ${channel}'s turns are speech`);
        assert.ok(
          other.every((w) => !w.speech),
          `${path}: windows inside the other party's turns are not`,
        );
      }
    }
  });

  test('without the speech gate every window goes to the model, silent ones too', async () => {
    const [call] = buildCalls(clips, createRandom(2));
    const gated = await streamCall(call, 'pcm16k', vad, labels);
    const all = await streamCall(call, 'pcm16k', vad, labels, false);
    assert.ok(
      gated.some((w) => !w.speech),
      'the gate hears silence in the call',
    );
    assert.deepEqual(
      all.map((w) => [w.channel, w.seq]),
      gated.map((w) => [w.channel, w.seq]),
    );
    assert.ok(all.every((w) => w.speech && w.features?.length === WINDOW_VALUES));
  });

  test("a model with Mel bands from 100 Hz is streamed its own bands: a 40 Hz hum on the line moves each window less than it moves the recipe's", async () => {
    const [call] = buildCalls(clips, createRandom(2));
    const hum = (x: Float32Array) => x.map((v, i) => v + 0.003 * Math.sin((2 * Math.PI * 40 * i) / 22050));
    const hummed = { ...call, channels: [hum(call.channels[0]), hum(call.channels[1])] as typeof call.channels };
    const moved = async (fmin: number) => {
      const [clean, noisy] = await Promise.all([call, hummed].map((c) => streamCall(c, 'pcm', vad, labels, false, 'whole', fmin)));
      assert.equal(clean.length, noisy.length);
      // Windows inside a turn: in a long pause the hum is all there is, and each window is normalized on its own.
      const speaking = clean.flatMap((w, i) => (call.turns.some((t) => t.channel === w.channel && t.startS <= w.startS && w.endS <= t.endS) ? [i] : []));
      assert.ok(speaking.length > 0);
      return speaking.map((i) => maxAbsDiff(clean[i].features!, noisy[i].features!)).sort((a, b) => a - b);
    };
    const [from100, recipe] = [await moved(100), await moved(0)];
    // Heard only as the Hann window's leakage into the lowest bands, in the pauses between words.
    assert.ok(from100[Math.floor(from100.length / 2)] < 0.5, `median ${from100[Math.floor(from100.length / 2)]}`);
    assert.ok(from100[from100.length - 1] < recipe[0], `${from100[from100.length - 1]} against ${recipe[0]}`);
  });

  test('stream rows score windows against the turn they lie in, raw and smoothed, the same windows for every scorer', async () => {
    const turns = buildCalls(clips, createRandom(1))[0].turns.filter((t) => t.endS - t.startS >= SCORED_OVERLAP_S).length;
    const seen: number[] = [];
    const chance: Scorer = {
      name: 'chance',
      predict: async (_, count) => {
        seen.push(count);
        return new Float32Array(count * labels.length).fill(1 / labels.length);
      },
    };
    const results = await evaluateConditions(['stream'], { test: clips, others: [], labels, positions: 1, seed: 1, vad }, [
      chance,
      { ...chance, name: 'again' },
    ]);
    assert.deepEqual(Object.keys(results.rows), [
      'stream',
      'stream_smoothed',
      'stream_inside',
      'stream_telephone',
      'stream_telephone_smoothed',
      'stream_telephone_inside',
    ]);
    assert.equal(seen[0], seen[1]);
    assert.ok(turns > 0);
    const raw = results.rows.stream.chance;
    assert.ok(raw.n >= turns, `${raw.n} windows scored`);
    // Uniform scores are argmax 'angry': every speech window is called angry, so the angry turns' windows are right and the sad ones wrong.
    const angry = labels.indexOf('angry');
    const sad = labels.indexOf('sad');
    assert.ok(raw.per_class.angry.support > 0 && raw.per_class.sad.support > 0);
    assert.equal(raw.per_class.sad.recall, 0);
    assert.equal(raw.confusion[sad][angry] + raw.confusion[angry][angry] + (raw.unlabelled ?? 0), raw.n);
    assert.equal(raw.accuracy, raw.confusion[angry][angry] / raw.n);
    const inside = results.rows.stream_inside.chance;
    assert.ok(inside.n > 0 && inside.n < raw.n, `${inside.n} of ${raw.n} scored windows wholly inside their turn`);
  });
});
