/**
 * A run's initial weights, from a seeded build on the coordinator's backend
 * (the cpu backend's orthogonal initialiser takes 30 s; wasm's, 1 s). The
 * replicas only ever receive weights.
 */
import type { LayersModel } from '@tensorflow/tfjs';
import type { AerNetOptions } from '../model/aernet-options.ts';
import { buildAerNet } from '../model/aernet.ts';
import { type BackendChoice, selectBackend } from '../model/backend.ts';
import { packWeights, weightCount } from '../model/weights.ts';
import { seedMathRandom } from './random.ts';

export interface InitialWeights {
  model: LayersModel;
  weights: Float32Array;
  trainableCount: number;
}

export async function initialWeights(options: AerNetOptions, seed: number, backend: BackendChoice): Promise<InitialWeights> {
  await selectBackend(backend);
  seedMathRandom(seed);
  const model = buildAerNet(options);
  return { model, weights: packWeights(model), trainableCount: weightCount(model.trainableWeights) };
}
