/**
 * A stand-in engine for capacity planning: it answers every batch with
 * uniform scores and attention after a fixed delay, never running the
 * model, so a load test measures what the rest of the service can carry
 * when inference costs what the delay says (a GPU's few milliseconds, say).
 * It takes the model directory's labels and attention steps, so its events
 * look like the model's; `auto` never picks it, and every place that names
 * the engine says it is simulated.
 */
import { readModelMetadata } from '../model/model-files.ts';
import type { Engine, Prediction } from './engine.ts';

export class SimulatedEngine implements Engine {
  readonly name = 'simulated';
  readonly detail: string;
  readonly labels: string[];
  readonly attentionSteps: number;

  private constructor(
    readonly metadata: Engine['metadata'],
    private readonly delayMs: number,
  ) {
    this.labels = metadata.labels;
    this.attentionSteps = metadata.attention_steps;
    this.detail = `simulated (uniform scores after ${delayMs} ms a batch; not the model)`;
  }

  static async load(modelDir: string, delayMs: number): Promise<SimulatedEngine> {
    return new SimulatedEngine(await readModelMetadata(modelDir), delayMs);
  }

  async predict(_windows: Float32Array, batch: number): Promise<Prediction> {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return {
      probabilities: new Float32Array(batch * this.labels.length).fill(1 / this.labels.length),
      attention: new Float32Array(batch * this.attentionSteps).fill(1 / this.attentionSteps),
    };
  }

  async dispose(): Promise<void> {}
}
