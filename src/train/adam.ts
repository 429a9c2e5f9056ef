/**
 * Adam on flat Float32Arrays, as TF.js's tf.train.adam computes it
 * (epsilon 1e-7, the bias correction folded into the step size). The
 * coordinator keeps the weights this way, which makes every step and every
 * checkpoint a plain array operation.
 */
export class Adam {
  readonly m: Float32Array;
  readonly v: Float32Array;
  /** Steps taken. */
  t = 0;

  constructor(
    size: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = 1e-7,
  ) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  step(weights: Float32Array, gradients: Float32Array, learningRate: number): void {
    this.t++;
    const { m, v, beta1, beta2, epsilon } = this;
    const rate = (learningRate * Math.sqrt(1 - beta2 ** this.t)) / (1 - beta1 ** this.t);
    for (let i = 0; i < gradients.length; i++) {
      const g = gradients[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      weights[i] -= (rate * m[i]) / (Math.sqrt(v[i]) + epsilon);
    }
  }

  /** m, then v, then the step count: one array for a checkpoint. */
  save(): { values: Float32Array; layout: { name: string; shape: number[] }[] } {
    const values = new Float32Array(this.m.length * 2 + 1);
    values.set(this.m);
    values.set(this.v, this.m.length);
    values[values.length - 1] = this.t;
    return {
      values,
      layout: [
        { name: 'm', shape: [this.m.length] },
        { name: 'v', shape: [this.v.length] },
        { name: 't', shape: [1] },
      ],
    };
  }

  restore(values: Float32Array): void {
    const n = this.m.length;
    if (values.length !== 2 * n + 1) throw new Error(`optimizer state has ${values.length} values, expected ${2 * n + 1}`);
    this.m.set(values.subarray(0, n));
    this.v.set(values.subarray(n, 2 * n));
    this.t = values[2 * n];
  }
}
