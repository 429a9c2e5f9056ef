/**
 * Inference speed per engine and batch size: windows per second and
 * latency per batch, for the onnx engine in fp32 and in int8 (when the
 * model has model.int8.onnx), the tfjs engine (wasm here; tfjs-node when
 * installed), and the raw onnxruntime session on the same fp32 ONNX bytes
 * (the physical reference: what the engine interface costs on top of it,
 * and what int8 gains). The model is models/default (or --model DIR).
 *
 *   node --import tsx bench/inference/engines.ts [--model DIR] [--seconds S]
 */
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { Engine } from '../../src/engine/engine.ts';
import { loadEngine } from '../../src/engine/load-engine.ts';
import { exportOnnx } from '../../src/engine/onnx-export/export.ts';
import { N_MELS, WINDOW_FRAMES, WINDOW_VALUES } from '../../src/features/recipe.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { DEFAULT_MODEL_DIR } from '../../src/model/default-model.ts';
import { loadModelDir } from '../../src/model/model-dir.ts';
import { header, table } from '../lib/machine.ts';

const { values } = parseArgs({ options: { model: { type: 'string', default: DEFAULT_MODEL_DIR }, seconds: { type: 'string', default: '3' } } });
const seconds = Number(values.seconds);
const BATCHES = [1, 4, 8, 16, 32, 64];

type Predict = (windows: Float32Array, batch: number) => Promise<unknown>;

/** Runs batches for about `seconds` after a warm-up; median latency and throughput. */
async function measure(predict: Predict, batch: number, budget: number): Promise<{ perSecond: number; medianMs: number; p95Ms: number }> {
  const windows = Float32Array.from({ length: batch * WINDOW_VALUES }, (_, i) => Math.sin(i * 0.37));
  for (let i = 0; i < 3; i++) await predict(windows, batch);
  const times: number[] = [];
  const started = performance.now();
  while (performance.now() - started < budget * 1000 || times.length < 5) {
    const t = performance.now();
    await predict(windows, batch);
    times.push(performance.now() - t);
  }
  const total = times.reduce((a, b) => a + b, 0);
  times.sort((a, b) => a - b);
  return { perSecond: (times.length * batch) / (total / 1000), medianMs: times[Math.floor(times.length / 2)], p95Ms: times[Math.floor(times.length * 0.95)] };
}

header(`Inference: AER-Net (${values.model}), one 3 s window = 130 x 128`);
await selectBackend('auto');
const loaded = await loadModelDir(values.model);
const raw = await ort.InferenceSession.create(exportOnnx(loaded.model), { graphOptimizationLevel: 'all' });
const rawPredict: Predict = (w, b) => raw.run({ features: new ort.Tensor('float32', w, [b, WINDOW_FRAMES, N_MELS, 1]) });
const int8 = await loadEngine('onnx', values.model, { precision: 'int8' }).catch((error: Error) => {
  process.stdout.write(`no int8 row: ${error.message}\n`);
  return undefined;
});
const engines: [string, Engine][] = [
  ['onnx engine', await loadEngine('onnx', values.model, { precision: 'fp32' })],
  ...(int8 ? [['onnx engine', int8] as [string, Engine]] : []),
  ['tfjs engine', await loadEngine('tfjs', values.model)],
];

const rows: (string | number)[][] = [];
for (const batch of BATCHES) {
  const reference = await measure(rawPredict, batch, seconds);
  rows.push([
    `raw onnxruntime (${engines[0][1].detail})`,
    batch,
    reference.perSecond.toFixed(0),
    reference.medianMs.toFixed(1),
    reference.p95Ms.toFixed(1),
    '1.00',
  ]);
  for (const [name, engine] of engines) {
    // The wasm backend is slow: a shorter budget keeps the run in minutes.
    const m = await measure((w, b) => engine.predict(w, b), batch, engine.name === 'tfjs' ? Math.min(seconds, 2) : seconds);
    rows.push([
      `${name} (${engine.detail})`,
      batch,
      m.perSecond.toFixed(0),
      m.medianMs.toFixed(1),
      m.p95Ms.toFixed(1),
      (m.perSecond / reference.perSecond).toFixed(2),
    ]);
  }
}
table(rows, ['engine', 'batch', 'windows/s', 'median ms/batch', 'p95 ms/batch', 'vs raw onnxruntime']);
for (const [, engine] of engines) await engine.dispose();
await raw.release();
