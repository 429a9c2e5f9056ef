/**
 * Where the streamed call loses accuracy against continuous speech. The
 * `stream` condition differs from `continuous` in several ways at once: short
 * turns with the other party's turn between them, a line noise instead of
 * digital silence, 16 kHz on the wire, the session's speech gate. This
 * bench scores one model on the same held-out clips built each way, one
 * difference at a time, so each row can be read against its neighbour:
 *
 *   continuous                 the `continuous` row (runs of one speaker and emotion, 0-0.4 s between clips)
 *   continuous, back to back   the same runs with no pause between clips
 *   call, model's grid         the call's channels cut on the hop grid directly (22.05 kHz, no session)
 *   call, no line noise        the same with digital silence between turns
 *   call, pauses in turns      0-0.4 s between a turn's clips, as between a run's
 *   call, 6 clips a turn       the same with turns three times longer
 *   session at 22.05 kHz       the call through the service's session, no resampling, speech gate on
 *   session at 16 kHz          the `stream` row (as `aer crossval` measures it, at the recipe's seed 42)
 *   session at 16 kHz, no gate every window to the model (a stream opened with vad=false)
 *   session at 16 kHz, spans   the stream row with the windows shown as spans (window_input: spans)
 *
 * The model must not have heard the test speakers:
 *
 *   node --import tsx bench/accuracy/stream-variants.ts --model DIR --data DIR [--seed 42]
 *
 * (bench/accuracy/README.md says how its figures were made.)
 */
import { parseArgs } from 'node:util';
import { IncrementalMelExtractor } from '../../src/features/incremental.ts';
import { SAMPLE_RATE } from '../../src/features/recipe.ts';
import type { WindowInput } from '../../src/features/window-input.ts';
import { DEFAULT_HOP_MS } from '../../src/features/hop.ts';
import { melFminOf } from '../../src/model/model-files.ts';
import { packWeights } from '../../src/model/weights.ts';
import { VadBatcher } from '../../src/stream/vad.ts';
import { buildCalls, type Call, type CallOptions, DEFAULT_CALL } from '../../src/train/conditions/call.ts';
import { joinRuns, type SpeechRun } from '../../src/train/conditions/continuous.ts';
import { networkScorer } from '../../src/train/conditions/evaluate.ts';
import { CALLS_STREAM, CONTINUOUS_STREAM, type ConditionRow, callRow, conditionRows, type RowInputs, scoreRow } from '../../src/train/conditions/rows.ts';
import { type CallPath, type StreamWindow, streamCall } from '../../src/train/conditions/stream-run.ts';
import { ReplicaPool } from '../../src/train/parallel/pool.ts';
import { deriveRandom } from '../../src/train/random.ts';
import { heldOut } from '../lib/held-out.ts';
import { header } from '../lib/machine.ts';

const { values } = parseArgs({ options: { model: { type: 'string' }, data: { type: 'string' }, seed: { type: 'string', default: '42' } } });
if (!values.model || !values.data) {
  process.stderr.write('usage: stream-variants.ts --model DIR --data DIR [--seed N] (a model and clips of speakers it was not trained on)\n');
  process.exit(2);
}

const { loaded, labels, test } = await heldOut(values.model, values.data);
const seed = Number(values.seed);
const vad = await VadBatcher.load();
const pool = await ReplicaPool.start(2, loaded.metadata.options, 'auto');
const melFmin = melFminOf(loaded.metadata);
const scorer = networkScorer(pool, packWeights(loaded.model), 'aernet', 'whole', melFmin);
const inputs: RowInputs = { test, others: [], labels, positions: 3, seed, vad, melFmin };

/** Each channel of a call cut on the hop grid by the model's own extractor, every window scored. */
async function gridOf(call: Call): Promise<StreamWindow[]> {
  return call.channels.flatMap((signal, channel) =>
    new IncrementalMelExtractor(DEFAULT_HOP_MS, 'whole', melFmin).push(signal).map((w) => ({
      channel,
      seq: w.index,
      startS: w.start / SAMPLE_RATE,
      endS: (w.start + w.samples) / SAMPLE_RATE,
      speech: true,
      features: w.features,
    })),
  );
}

/** A run of one speaker and emotion as a call of one turn, so the call's scoring reads it. */
const asCall = (run: SpeechRun): Call => ({
  channels: [run.signal, new Float32Array(0)],
  turns: [{ channel: 0, speaker: run.speaker, label: run.label, startS: 0, endS: run.signal.length / SAMPLE_RATE }],
});

const calls = (options: Partial<CallOptions> = {}) => buildCalls(test, deriveRandom(seed, CALLS_STREAM), { ...DEFAULT_CALL, ...options });
const session =
  (path: CallPath, gate: boolean, input: WindowInput = 'whole') =>
  (call: Call) =>
    streamCall(call, path, vad, [...labels], gate, input, melFmin);

const variants: [string, () => Promise<ConditionRow>][] = [
  [
    'continuous',
    async () => {
      for await (const row of conditionRows('continuous', inputs)) return row;
      throw new Error('no continuous row');
    },
  ],
  [
    'continuous, clips back to back',
    async () => {
      const runs = joinRuns(test, deriveRandom(seed, CONTINUOUS_STREAM), 0);
      return callRow('stream', runs.map(asCall), labels, gridOf);
    },
  ],
  ["call, model's grid", () => callRow('stream', calls(), labels, gridOf)],
  ['call, no line noise', () => callRow('stream', calls({ floorDb: -Infinity }), labels, gridOf)],
  ['call, pauses of 0-0.4 s in turns', () => callRow('stream', calls({ pauseS: 0.4 }), labels, gridOf)],
  ['call, 6 clips a turn', () => callRow('stream', calls({ clipsPerTurn: 6 }), labels, gridOf)],
  ['session at 22.05 kHz', () => callRow('stream', calls(), labels, session('pcm', true))],
  ['session at 16 kHz (stream row)', () => callRow('stream', calls(), labels, session('pcm16k', true))],
  ['session at 16 kHz, no gate', () => callRow('stream', calls(), labels, session('pcm16k', false))],
  ['session at 16 kHz, spans', () => callRow('stream', calls(), labels, session('pcm16k', true, 'spans'))],
];

header(`Where the stream loses: ${values.model} on ${test.length} clips of ${[...new Set(test.map((c) => c.speaker))].join(', ')}, seed ${seed}`);
const percent = (x: number | undefined) => (x === undefined ? '' : `${(100 * x).toFixed(1)} %`);
process.stdout.write('| variant | windows scored | raw | smoothed | wholly inside a turn |\n|---|---:|---:|---:|---:|\n');
try {
  for (const [name, build] of variants) {
    const row = await build();
    const scored = scoreRow(row, await scorer.predict(row.windows, row.count), labels);
    const raw = scored[row.row];
    process.stdout.write(
      `| ${name} | ${raw.n} | ${percent(raw.accuracy)} | ${percent(scored[`${row.row}_smoothed`]?.accuracy)} | ${percent(scored[`${row.row}_inside`]?.accuracy)} |\n`,
    );
  }
} finally {
  await pool.close();
  await vad.dispose();
}
