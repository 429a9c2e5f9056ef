import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isAerError } from '../../src/errors.ts';
import { resolveHop } from '../../src/features/hop.ts';
import { SAMPLE_RATE, WINDOW_SAMPLES, WINDOW_VALUES } from '../../src/features/recipe.ts';
import { clipFeatures } from '../../src/features/extract.ts';
import type { LoadedClip } from '../../src/train/clip-store.ts';
import { buildCalls, DEFAULT_CALL } from '../../src/train/conditions/call.ts';
import { telephoneBytes, viaOpus, viaTelephone } from '../../src/train/conditions/channel-sim.ts';
import { gridWindows, joinRuns, MAX_GAP_S } from '../../src/train/conditions/continuous.ts';
import { evaluateConditions, type Scorer } from '../../src/train/conditions/evaluate.ts';
import { CONDITION_ROWS, CONDITIONS, parseConditions } from '../../src/train/conditions/names.ts';
import { babble, mixAtSnr, rms, whiteNoise } from '../../src/train/conditions/noise-mix.ts';
import { scoreRow, type StreamRow, type UnitRow } from '../../src/train/conditions/rows.ts';
import { LABELS } from '../../src/train/labels.ts';
import { createRandom } from '../../src/train/random.ts';
import { positionedWindows } from '../../src/train/windows.ts';
import { maxAbsDiff, noise, tone } from '../helpers/signals.ts';

const labels = [...LABELS];

/** A 22050 Hz clip: a tone whose pitch depends on the label, over a little noise. */
function clip(speaker: string, label: string, seconds: number, seed = 1): LoadedClip {
  const n = Math.round(seconds * SAMPLE_RATE);
  const t = tone(200 + 150 * labels.indexOf(label as LoadedClip['label']), SAMPLE_RATE, n, 0.3);
  const e = noise(n, 0.01, seed);
  const signal = t.map((v, i) => v + e[i]);
  return {
    path: `/data/${speaker}-${label}-${seed}.wav`,
    label: label as LoadedClip['label'],
    speaker,
    corpus: 'test',
    signal,
    features: clipFeatures(signal),
  };
}

/** The power of `signal` at `frequency` (a single DFT bin), relative to its total power. */
function powerShare(signal: Float32Array, rate: number, frequency: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < signal.length; i++) {
    re += signal[i] * Math.cos((2 * Math.PI * frequency * i) / rate);
    im -= signal[i] * Math.sin((2 * Math.PI * frequency * i) / rate);
  }
  const total = signal.reduce((a, v) => a + v * v, 0);
  return total === 0 ? 0 : (2 * (re * re + im * im)) / signal.length / total;
}

describe('condition names', () => {
  test('all, a list, or a clear error naming what does not exist', () => {
    assert.deepEqual(parseConditions('all'), [...CONDITIONS]);
    assert.deepEqual(parseConditions('noise, clean'), ['clean', 'noise']);
    assert.throws(
      () => parseConditions('clean,phone'),
      (e) =>
        isAerError(e) &&
        e.code === 'invalid_argument' &&
        /unknown condition "phone"; the conditions are clean, continuous, telephone, opus, noise, stream, or all/.test(e.message),
    );
    assert.throws(() => parseConditions(','), /unknown condition/);
    for (const c of CONDITIONS) assert.ok(CONDITION_ROWS[c].length > 0);
  });
});

describe('channel simulation', () => {
  test('a telephone line keeps 300-3400 Hz and drops what is above it, and carries one byte per 8 kHz sample', () => {
    const second = SAMPLE_RATE;
    assert.equal(telephoneBytes(tone(1000, SAMPLE_RATE, second), 'mulaw').length, 8000);
    for (const law of ['mulaw', 'alaw'] as const) {
      const speech = viaTelephone(tone(1000, SAMPLE_RATE, second, 0.3), law);
      assert.equal(speech.length, second);
      assert.ok(Math.abs(rms(speech.subarray(2000)) / (0.3 / Math.SQRT2) - 1) < 0.05, `${law}: a 1 kHz tone keeps its level`);
      assert.ok(powerShare(speech.subarray(2000), SAMPLE_RATE, 1000) > 0.95, `${law}: and its frequency`);
      const high = viaTelephone(tone(6000, SAMPLE_RATE, second, 0.3), law);
      assert.ok(rms(high) < 0.3 * 0.01, `${law}: 6 kHz is gone (${rms(high)})`);
      const hum = viaTelephone(tone(60, SAMPLE_RATE, second, 0.3), law);
      assert.ok(rms(hum.subarray(4000)) < 0.3 * 0.01, `${law}: 60 Hz hum is gone`);
    }
  });

  test('an Opus round trip keeps a voice-band tone, its length and its timing', () => {
    const input = tone(440, SAMPLE_RATE, SAMPLE_RATE, 0.3);
    for (const kbps of [8, 16]) {
      const out = viaOpus(input, kbps);
      assert.equal(out.length, input.length);
      assert.ok(Math.abs(rms(out.subarray(4000)) / rms(input) - 1) < 0.25, `${kbps} kbit/s: level ${rms(out) / rms(input)}`);
      assert.ok(powerShare(out.subarray(4000), SAMPLE_RATE, 440) > 0.9, `${kbps} kbit/s keeps 440 Hz`);
    }
  });

  test('noise is mixed at the SNR asked for, whatever the speech level', () => {
    for (const level of [0.01, 0.5]) {
      const speech = tone(300, SAMPLE_RATE, 20000, level);
      for (const snr of [20, 10]) {
        const mixed = mixAtSnr(speech, whiteNoise(speech.length, createRandom(3)), snr);
        const added = mixed.map((v, i) => v - speech[i]);
        assert.ok(Math.abs(20 * Math.log10(rms(speech) / rms(added)) - snr) < 1e-3);
      }
    }
    // Babble is other talkers, each at the same level: a sum of the pool's clips, from random offsets.
    const pool = [tone(100, SAMPLE_RATE, 5000, 0.5), tone(700, SAMPLE_RATE, 7000, 0.01)];
    const b = babble(20000, pool, 4, createRandom(4));
    assert.equal(b.length, 20000);
    assert.ok(rms(b) > 1 && rms(b) < 4.01);
    assert.deepEqual(babble(10, [], 4, createRandom(4)), new Float32Array(10));
  });
});

describe('continuous speech', () => {
  test("a speaker's clips of one emotion joined with gaps of at most 0.4 s, groups never mixed", () => {
    const clips = [clip('a', 'sad', 1, 1), clip('a', 'sad', 1.5, 2), clip('a', 'angry', 2, 3), clip('b', 'sad', 1, 4)];
    const runs = joinRuns(clips, createRandom(5));
    assert.deepEqual(
      runs.map((r) => [r.speaker, r.label, r.clips]),
      [
        ['a', 'angry', 1],
        ['a', 'sad', 2],
        ['b', 'sad', 1],
      ],
    );
    const sad = runs[1].signal.length / SAMPLE_RATE;
    assert.ok(sad >= 2.5 && sad <= 2.5 + MAX_GAP_S + 1e-6, `${sad} s`);
  });

  test("windows on the service's hop grid: every whole 3 s window, a hop (0.5 s in whole STFT frames) apart", () => {
    const hop = resolveHop().samples;
    assert.equal(gridWindows(new Float32Array(WINDOW_SAMPLES - 1)).length, 0);
    assert.equal(gridWindows(tone(300, SAMPLE_RATE, WINDOW_SAMPLES + 4 * hop)).length, 5);
    assert.equal(gridWindows(tone(300, SAMPLE_RATE, WINDOW_SAMPLES + 4 * hop - 1)).length, 4);
  });
});

describe('a synthetic call', () => {
  test('two speakers take turns, one channel each, with a line noise floor and no digital silence', () => {
    const clips = ['x', 'y'].flatMap((s) => ['angry', 'sad', 'happy'].map((l, k) => clip(s, l, 1, k + (s === 'x' ? 0 : 10))));
    const [call] = buildCalls(clips, createRandom(6));
    assert.equal(call.turns.length, 6);
    call.turns.forEach((t, i) => {
      assert.equal(t.channel, i % 2, 'turns alternate');
      assert.equal(t.speaker, t.channel === 0 ? 'x' : 'y');
      assert.ok(Math.abs(t.endS - t.startS - 1) < 1e-3);
      if (i > 0) assert.ok(Math.abs(t.startS - call.turns[i - 1].endS - 0.4) < 1e-3);
      // Speech on this channel during the turn, only the floor on the other.
      const at = Math.round(((t.startS + t.endS) / 2) * SAMPLE_RATE);
      assert.ok(rms(call.channels[t.channel].subarray(at - 500, at + 500)) > 0.1);
      assert.ok(rms(call.channels[1 - t.channel].subarray(at - 500, at + 500)) < 1e-3);
    });
    const floor = rms(call.channels[0].subarray(0, Math.round(0.3 * SAMPLE_RATE)));
    assert.ok(floor > 0 && Math.abs(20 * Math.log10(floor) + 65) < 1, `floor ${20 * Math.log10(floor)} dBFS`);
    assert.throws(
      () =>
        buildCalls(
          clips.filter((c) => c.speaker === 'x'),
          createRandom(6),
        ),
      /a call needs clips of two speakers; these are all of x/,
    );
  });

  test("pauses between a turn's clips when asked; back to back, and the same call, by default", () => {
    const clips = ['x', 'y'].flatMap((s) => [0, 1, 2, 3].map((k) => clip(s, 'sad', 1, k + (s === 'x' ? 0 : 10))));
    const [plain] = buildCalls(clips, createRandom(7));
    assert.deepEqual(buildCalls(clips, createRandom(7), { ...DEFAULT_CALL, pauseS: 0 })[0].channels, plain.channels);
    for (const t of plain.turns) assert.ok(Math.abs(t.endS - t.startS - 2) < 1e-3, 'two 1 s clips back to back');
    const [paused] = buildCalls(clips, createRandom(7), { ...DEFAULT_CALL, pauseS: 0.4 });
    const lengths = paused.turns.map((t) => t.endS - t.startS);
    assert.ok(
      lengths.every((l) => l >= 2 - 1e-3 && l <= 2.4 + 1e-3),
      lengths.join(', '),
    );
    assert.ok(
      lengths.some((l) => l > 2.01),
      'some pause drawn',
    );
  });
});

describe('scoring a row', () => {
  test("a clip's label is the average of its windows' scores", () => {
    const row: UnitRow = {
      kind: 'units',
      row: 'clean',
      windows: new Float32Array(0),
      count: 3,
      unitOf: Int32Array.from([0, 0, 1]),
      truth: Int32Array.from([1, 2]),
    };
    // Clip 0: windows say 0 (0.6) and 1 (0.9): the average says 1. Clip 1: 2.
    const p = Float32Array.from([0.6, 0.4, 0, 0.1, 0.9, 0, 0, 0, 1]);
    const { clean } = scoreRow(row, p, ['a', 'b', 'c']);
    assert.equal(clean.accuracy, 1);
    assert.equal(clean.n, 2);
  });

  test('a stream row scores raw and smoothed labels, counts silence as wrong, and smooths each channel on its own', () => {
    const row: StreamRow = {
      kind: 'stream',
      row: 'stream',
      windows: new Float32Array(0),
      count: 4,
      entries: [
        { channel: 0, endS: 3, input: 0, rows: 1, truth: 0, inside: true },
        { channel: 0, endS: 3.5, input: 1, rows: 1, truth: 0, inside: false },
        { channel: 1, endS: 3, input: 2, rows: 1, truth: 1, inside: true },
        { channel: 1, endS: 3.5, input: -1, rows: 0, truth: 1, inside: true },
        { channel: 1, endS: 4, input: 3, rows: 1, truth: -1, inside: false },
      ],
    };
    // Channel 0: a confident 0, then a slight 1 that smoothing holds at 0.
    const p = Float32Array.from([0.9, 0.1, 0.45, 0.55, 0.2, 0.8, 0.5, 0.5]);
    const scores = scoreRow(row, p, ['a', 'b']);
    assert.equal(scores.stream.n, 4, 'the window outside any turn is not scored');
    assert.equal(scores.stream.accuracy, 2 / 4);
    assert.equal(scores.stream.unlabelled, 1);
    assert.equal(scores.stream_smoothed.accuracy, 3 / 4);
    assert.equal(scores.stream_inside.n, 3, 'the windows wholly inside their turn');
    assert.equal(scores.stream_inside.accuracy, 2 / 3);
  });
});

describe('evaluating under conditions', () => {
  const speakers = ['s1', 's2'];
  // One 1 s clip per speaker and emotion: too little for continuous speech.
  const test1 = speakers.flatMap((s, k) => labels.map((l, j) => clip(s, l, 1, 100 * k + j)));
  const chance: Scorer = { name: 'chance', predict: async (_, count) => new Float32Array(count * labels.length).fill(1 / labels.length) };

  test('a condition that cannot be built is reported with what is missing, and the others still run', async () => {
    const seen: string[] = [];
    const results = await evaluateConditions(
      ['clean', 'continuous', 'telephone'],
      { test: test1, others: [], labels, positions: 2, seed: 1 },
      [chance],
      (row) => seen.push(row),
    );
    assert.deepEqual(Object.keys(results.rows), ['clean', 'telephone_mulaw', 'telephone_alaw']);
    assert.deepEqual(seen, ['clean', 'telephone_mulaw', 'telephone_alaw']);
    assert.match(results.failed.continuous ?? '', /continuous needs 3 s of one speaker in one emotion.*\(measure on more clips per speaker and emotion\)/);
    assert.equal(results.rows.clean.chance.n, 12);
    const lonely = await evaluateConditions(['stream'], { test: test1.filter((c) => c.speaker === 's1'), others: [], labels, positions: 1, seed: 1 }, [chance]);
    assert.match(lonely.failed.stream ?? '', /a call needs clips of two speakers/);
  });

  test('every scorer sees the same windows of a row', async () => {
    const shapes: Record<string, number[]> = {};
    const recording = (name: string): Scorer => ({
      name,
      predict: async (windows, count) => {
        (shapes[name] ??= []).push(
          count,
          windows.reduce((a, v) => a + v, 0),
        );
        return new Float32Array(count * labels.length).fill(1 / labels.length);
      },
    });
    const results = await evaluateConditions(['noise'], { test: test1, others: [], labels, positions: 2, seed: 9 }, [recording('one'), recording('two')]);
    assert.deepEqual(Object.keys(results.rows), CONDITION_ROWS.noise);
    assert.deepEqual(shapes.one, shapes.two);
    assert.equal(shapes.one.length, 8);
  });

  test('for a model that takes windows as spans, the continuous row asks two rows a window and labels each window by their mean', async () => {
    const clips = [clip('a', 'sad', 2, 1), clip('a', 'sad', 2, 2), clip('a', 'sad', 2, 3)];
    const inputs = { test: clips, others: [], labels, positions: 1, seed: 3 };
    const counts: number[] = [];
    // Row by row: the first span of a window says angry, the second sad, a little surer: the mean says sad.
    const spanScorer: Scorer = {
      name: 'spans',
      predict: async (_, count) => {
        counts.push(count);
        return Float32Array.from({ length: count * labels.length }, (_, i) => {
          const [row, k] = [Math.floor(i / labels.length), i % labels.length];
          return row % 2 === 0 ? (k === 0 ? 0.5 : 0.1) : k === labels.indexOf('sad') ? 0.6 : 0.08;
        });
      },
    };
    const whole = await evaluateConditions(['continuous'], inputs, [spanScorer]);
    const spans = await evaluateConditions(['continuous'], inputs, [{ ...spanScorer, windowInput: 'spans' }]);
    const windows = whole.rows.continuous.spans.n;
    assert.ok(windows >= 3);
    assert.deepEqual(counts, [windows, 2 * windows]);
    assert.equal(spans.rows.continuous.spans.n, windows);
    assert.equal(spans.rows.continuous.spans.accuracy, 1);
  });

  test('scorers served whole and as spans: clip rows are built once and shared, the continuous row once for each', async () => {
    const clips = [clip('a', 'sad', 2, 1), clip('a', 'sad', 2, 2), clip('a', 'sad', 2, 3)];
    const seen: Record<string, Float32Array[]> = {};
    const recording = (name: string, windowInput?: 'spans'): Scorer => ({
      name,
      windowInput,
      predict: async (windows, count) => {
        (seen[name] ??= []).push(windows);
        return new Float32Array(count * labels.length).fill(1 / labels.length);
      },
    });
    let built = 0;
    await evaluateConditions(
      ['clean', 'continuous'],
      { test: clips, others: [], labels, positions: 1, seed: 3 },
      [recording('w'), recording('s', 'spans')],
      () => built++,
    );
    assert.equal(built, 3);
    // The clean row: the very same windows for both.
    assert.equal(seen.w[0], seen.s[0]);
    // The continuous row: a row of its own each, the spans one twice as long.
    assert.notEqual(seen.w[1], seen.s[1]);
    assert.equal(seen.s[1].length, 2 * seen.w[1].length);
  });

  test('scorers with other Mel bands (--mel-fmin) get rows of their own on every condition, each scorer its bands', async () => {
    const clips = [clip('a', 'sad', 2, 1), clip('a', 'sad', 2, 2), clip('a', 'sad', 2, 3)];
    const seen: Record<string, Float32Array[]> = {};
    const recording = (name: string, melFmin?: number): Scorer => ({
      name,
      melFmin,
      predict: async (windows, count) => {
        (seen[name] ??= []).push(windows);
        return new Float32Array(count * labels.length).fill(1 / labels.length);
      },
    });
    await evaluateConditions(['clean', 'continuous'], { test: clips, others: [], labels, positions: 1, seed: 3 }, [
      recording('recipe'),
      recording('also-recipe', 0),
      recording('from100', 100),
    ]);
    for (const row of [0, 1]) {
      assert.equal(seen.recipe[row], seen['also-recipe'][row]);
      assert.equal(seen.recipe[row].length, seen.from100[row].length);
      assert.ok(maxAbsDiff(seen.recipe[row], seen.from100[row]) > 0.1);
    }
    // The clean row as the model with bands from 100 Hz is trained on: its own windows of each clip.
    assert.deepEqual(seen.from100[0].subarray(0, WINDOW_VALUES), positionedWindows(clips[0].signal, 1, 100)[0]);
  });
});
