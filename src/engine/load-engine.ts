/**
 * Picks and loads the engine. `auto` takes onnxruntime, measured the fastest
 * here by an order of magnitude (bench/inference), and falls back to TF.js
 * only when onnxruntime cannot run the model, saying why.
 */
import { AerError } from '../errors.ts';
import { selectBackend } from '../model/backend.ts';
import { loadModelDir } from '../model/model-dir.ts';
import { DEFAULT_SIMULATED_MS, type Engine, type EngineChoice } from './engine.ts';
import { OnnxEngine, type OnnxEngineOptions } from './onnx-engine.ts';
import { SimulatedEngine } from './simulated-engine.ts';
import { TfjsEngine } from './tfjs-engine.ts';

export async function loadEngine(choice: EngineChoice, modelDir: string, options: OnnxEngineOptions & { simulatedMs?: number } = {}): Promise<Engine> {
  if (choice === 'simulated') return SimulatedEngine.load(modelDir, options.simulatedMs ?? DEFAULT_SIMULATED_MS);
  // TF.js loads the model in every case: it is the source the ONNX graph is checked against or exported from.
  const backend = await selectBackend('auto');
  const loaded = await loadModelDir(modelDir);
  if (choice === 'tfjs') {
    if (options.precision === 'int8')
      throw new AerError('invalid_argument', '--precision int8 runs on the onnx engine only', { hint: 'use --engine onnx (or auto), or --precision fp32' });
    return new TfjsEngine(loaded, backend);
  }
  try {
    const engine = await OnnxEngine.load(loaded, options);
    loaded.model.dispose();
    return engine;
  } catch (error) {
    // int8 asked for by name is not replaced by a float engine behind the user's back.
    if (choice === 'onnx' || options.precision === 'int8') throw error;
    options.onNotice?.(`the onnx engine could not start (${error instanceof AerError ? error.message : String(error)}); using tfjs`);
    return new TfjsEngine(loaded, backend);
  }
}
