/**
 * Picks and loads the engine. `auto` takes onnxruntime, measured the fastest
 * here by an order of magnitude (bench/inference), and falls back to TF.js
 * only when onnxruntime cannot run the model, saying why. TF.js is loaded
 * only when it is needed: for the tfjs engine, or to export a missing or
 * stale ONNX graph (it takes ~50 MiB and a second to load).
 */
import { AerError } from '../errors.ts';
import type { LoadedModel } from '../model/model-dir.ts';
import { readModelMetadata } from '../model/model-files.ts';
import { DEFAULT_SIMULATED_MS, type Engine, type EngineChoice } from './engine.ts';
import { type ModelSource, OnnxEngine, type OnnxEngineOptions } from './onnx-engine.ts';
import { SimulatedEngine } from './simulated-engine.ts';

/** A model directory whose aer.json is checked now, and whose TF.js model loads (once) when asked for. */
export async function modelSource(dir: string): Promise<ModelSource & { loaded(): Promise<LoadedModel> | undefined }> {
  const metadata = await readModelMetadata(dir);
  let loaded: Promise<LoadedModel> | undefined;
  return {
    dir,
    metadata,
    model: () =>
      (loaded ??= (async () => {
        const [{ selectBackend }, { loadModelDir }] = await Promise.all([import('../model/backend.ts'), import('../model/model-dir.ts')]);
        await selectBackend('auto');
        return loadModelDir(dir);
      })()),
    loaded: () => loaded,
  };
}

async function tfjsEngine(source: ModelSource): Promise<Engine> {
  const [{ selectBackend }, { TfjsEngine }] = await Promise.all([import('../model/backend.ts'), import('./tfjs-engine.ts')]);
  const backend = await selectBackend('auto');
  return new TfjsEngine(await source.model(), backend);
}

export async function loadEngine(choice: EngineChoice, modelDir: string, options: OnnxEngineOptions & { simulatedMs?: number } = {}): Promise<Engine> {
  if (choice === 'simulated') return SimulatedEngine.load(modelDir, options.simulatedMs ?? DEFAULT_SIMULATED_MS);
  if (choice === 'tfjs' && options.precision === 'int8')
    throw new AerError('invalid_argument', '--precision int8 runs on the onnx engine only', { hint: 'use --engine onnx (or auto), or --precision fp32' });
  const source = await modelSource(modelDir);
  if (choice === 'tfjs') return tfjsEngine(source);
  try {
    const engine = await OnnxEngine.load(source, options);
    // The TF.js model, if an export needed it, is not kept.
    (await source.loaded())?.model.dispose();
    return engine;
  } catch (error) {
    // int8 asked for by name is not replaced by a float engine behind the user's back.
    if (choice === 'onnx' || options.precision === 'int8') throw error;
    options.onNotice?.(`the onnx engine could not start (${error instanceof AerError ? error.message : String(error)}); using tfjs`);
    return tfjsEngine(source);
  }
}
