/**
 * ONNX for each TF.js layer AER-Net uses. TF.js keeps images as NHWC and
 * ONNX's Conv and MaxPool want NCHW, so 4-D values live in the graph as NCHW
 * (`layout: 'nchw'`) from the input's transpose until the reshape into a
 * sequence. Batch norm after a convolution is folded into its weights; the
 * LSTM's gates are reordered from Keras's (i, f, c, o) to ONNX's (i, o, f, c).
 */
import type * as tf from '@tensorflow/tfjs';
import { AerError } from '../../errors.ts';
import type { OnnxGraph } from './graph.ts';
import { type Calibration, fakeQuantize, MIN_QUANTIZED_CHANNELS, quantizedBias, quantizedKernel } from './quantize.ts';

export interface Value {
  name: string;
  /** 4-D values are stored NCHW; everything else as TF.js shapes it. */
  layout: 'nchw' | 'plain';
}

type Layer = tf.layers.Layer;
type Config = Record<string, unknown>;

const unsupported = (layer: Layer, what: string) =>
  new AerError('unsupported_model', `cannot export layer ${layer.name} (${layer.getClassName()}) to ONNX: ${what}`, {
    hint: 'the exporter covers the AER-Net layers as aer train builds them',
  });

function weights(layer: Layer): Float32Array[] {
  return layer.getWeights().map((w) => w.dataSync() as Float32Array);
}

/** An activation by its Keras name, applied to `x`. */
export function activation(g: OnnxGraph, name: string, x: string, base: string): string {
  switch (name) {
    case 'linear':
      return x;
    case 'relu':
      return g.op('Relu', [x], {}, base);
    case 'elu':
      return g.op('Elu', [x], { alpha: { float: 1 } }, base);
    case 'tanh':
      return g.op('Tanh', [x], {}, base);
    case 'sigmoid':
      return g.op('Sigmoid', [x], {}, base);
    case 'softmax':
      return g.op('Softmax', [x], { axis: -1 }, base);
    case 'gelu': {
      // The exact GELU TF.js computes, (x * (1 + erf(x / sqrt 2))) * 0.5, in the order onnxruntime fuses into one Gelu kernel.
      const erf = g.op('Erf', [g.op('Div', [x, g.scalar(`${base}_sqrt2`, Math.SQRT2)], {}, `${base}_scaled`)], {}, `${base}_erf`);
      const scaled = g.op('Mul', [x, g.op('Add', [erf, g.scalar(`${base}_one`, 1)], {}, `${base}_plus1`)], {}, `${base}_product`);
      return g.op('Mul', [scaled, g.scalar(`${base}_half`, 0.5)], {}, base);
    }
    default:
      throw new AerError('unsupported_model', `cannot export the activation ${JSON.stringify(name)} to ONNX`, {
        hint: 'use relu, elu, gelu, tanh, sigmoid, softmax or linear',
      });
  }
}

const activationName = (config: Config): string => {
  const a = config.activation;
  return typeof a === 'string' ? a : ((a as { className?: string } | undefined)?.className ?? 'linear');
};

/** TF.js [kh, kw, in, out] -> ONNX [out, in, kh, kw], each output channel scaled (the folded batch norm). */
function convKernel(kernel: Float32Array, [kh, kw, cin, cout]: number[], scale?: Float32Array): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) {
          out[((o * cin + i) * kh + y) * kw + x] = kernel[((y * kw + x) * cin + i) * cout + o] * (scale ? scale[o] : 1);
        }
  return out;
}

/** Batch norm as a per-channel scale and shift: gamma / sqrt(var + eps), beta - mean * scale. */
export function batchNormAffine(bn: Layer): { scale: Float32Array; shift: Float32Array } {
  const config = bn.getConfig() as Config;
  if (config.center === false || config.scale === false) throw unsupported(bn, 'batch norm without center or scale');
  const [gamma, beta, mean, variance] = weights(bn);
  const eps = Number(config.epsilon);
  const scale = gamma.map((g, c) => g / Math.sqrt(variance[c] + eps));
  return { scale, shift: beta.map((b, c) => b - mean[c] * scale[c]) };
}

export interface ConvQuantization {
  /** The measured ranges of this convolution's input and output, to run it in int8. */
  ranges?: Calibration[string];
  /** Told the names of the input and output values of a convolution int8 would cover, for calibration to read. */
  probe?: (layer: string, input: string, output: string) => void;
  /** Quantized inputs by value name, so convolutions reading one value (block 3 and its shortcut) share its quantization. */
  quantizedInputs?: Map<string, { value: string; scale: number }>;
}

export function conv2d(g: OnnxGraph, layer: Layer, x: Value, foldedBatchNorm?: Layer, quantization: ConvQuantization = {}): Value {
  const c = layer.getConfig() as Config;
  const [kh, kw] = c.kernelSize as number[];
  const strides = (c.strides as number[] | undefined) ?? [1, 1];
  const dilation = (c.dilationRate as number[] | undefined) ?? [1, 1];
  if (x.layout !== 'nchw') throw unsupported(layer, 'its input is not an image');
  if (strides.some((s) => s !== 1) || dilation.some((d) => d !== 1)) throw unsupported(layer, 'strides or dilation other than 1');
  const [kernel, bias] = weights(layer);
  const shape = layer.getWeights()[0].shape as [number, number, number, number];
  const cout = shape[3];
  const affine = foldedBatchNorm ? batchNormAffine(foldedBatchNorm) : undefined;
  const b = new Float32Array(cout);
  for (let o = 0; o < cout; o++) b[o] = (c.useBias === false ? 0 : bias[o]) * (affine ? affine.scale[o] : 1) + (affine ? affine.shift[o] : 0);
  // 'same' with an odd kernel pads (k - 1) / 2 on each side, as TF does; 'valid' pads nothing.
  const pads = c.padding === 'same' ? [(kh - 1) >> 1, (kw - 1) >> 1, kh - 1 - ((kh - 1) >> 1), kw - 1 - ((kw - 1) >> 1)] : [0, 0, 0, 0];
  const dims = [cout, shape[2], kh, kw];
  const w = convKernel(kernel, shape, affine?.scale);
  const attributes = { kernel_shape: [kh, kw], pads, strides: [1, 1] };
  const { ranges, probe, quantizedInputs = new Map() } = shape[2] >= MIN_QUANTIZED_CHANNELS ? quantization : {};
  let y: string;
  if (ranges) {
    const input = quantizedInputs.get(x.name) ?? fakeQuantize(g, x.name, ranges.input, `${layer.name}/input`);
    quantizedInputs.set(x.name, input);
    const q = quantizedKernel(g, w, dims, `${layer.name}/kernel`);
    const conv = g.op('Conv', [input.value, q.value, quantizedBias(g, b, input.scale, q.scales, `${layer.name}/bias`)], attributes, layer.name);
    y = fakeQuantize(g, conv, ranges.output, `${layer.name}/output`).value;
  } else {
    y = g.op('Conv', [x.name, g.floats(`${layer.name}/kernel`, dims, w), g.floats(`${layer.name}/bias`, [cout], b)], attributes, layer.name);
    probe?.(layer.name, x.name, y);
  }
  return { name: activation(g, activationName(c), y, `${layer.name}_activation`), layout: 'nchw' };
}

export function batchNorm(g: OnnxGraph, layer: Layer, x: Value): Value {
  const { scale, shift } = batchNormAffine(layer);
  const channels = scale.length;
  // Broadcast over NCHW's channel axis, or a plain tensor's last axis.
  const dims = x.layout === 'nchw' ? [channels, 1, 1] : [channels];
  const scaled = g.op('Mul', [x.name, g.floats(`${layer.name}/scale`, dims, scale)], {}, `${layer.name}_scale`);
  return { name: g.op('Add', [scaled, g.floats(`${layer.name}/shift`, dims, shift)], {}, layer.name), layout: x.layout };
}

export function maxPool(g: OnnxGraph, layer: Layer, x: Value): Value {
  const c = layer.getConfig() as Config;
  const size = c.poolSize as number[];
  const strides = (c.strides as number[] | undefined) ?? size;
  if (c.padding !== 'valid') throw unsupported(layer, `padding ${String(c.padding)}`);
  return { name: g.op('MaxPool', [x.name], { kernel_shape: size, strides }, layer.name), layout: x.layout };
}

export function dense(g: OnnxGraph, layer: Layer, x: Value): Value {
  const c = layer.getConfig() as Config;
  const [kernel, bias] = weights(layer);
  const [fin, units] = layer.getWeights()[0].shape;
  const w = g.floats(`${layer.name}/kernel`, [fin, units], kernel);
  const b = g.floats(`${layer.name}/bias`, [units], c.useBias === false ? new Float32Array(units) : bias);
  const rank = layer.inboundNodes[0].inputTensors[0].rank;
  const y =
    rank === 2 ? g.op('Gemm', [x.name, w, b], {}, layer.name) : g.op('Add', [g.op('MatMul', [x.name, w], {}, `${layer.name}_matmul`), b], {}, layer.name);
  return { name: activation(g, activationName(c), y, `${layer.name}_activation`), layout: 'plain' };
}

/** Keras's Reshape of an NHWC image to (batch, ...target): back to NHWC order first, then reshape keeping the batch. */
export function reshape(g: OnnxGraph, layer: Layer, x: Value): Value {
  const target = (layer.getConfig() as Config).targetShape as number[];
  const nhwc = x.layout === 'nchw' ? g.op('Transpose', [x.name], { perm: [0, 2, 3, 1] }, `${layer.name}_nhwc`) : x.name;
  return { name: g.op('Reshape', [nhwc, g.int64s(`${layer.name}/shape`, [0, ...target])], {}, layer.name), layout: 'plain' };
}

/** Keras gate blocks (i, f, c, o) of a [rows, 4H] matrix -> ONNX's [4H, rows] in (i, o, f, c). */
function lstmGates(m: Float32Array, rows: number, units: number): Float32Array {
  const order = [0, 3, 1, 2];
  const out = new Float32Array(m.length);
  order.forEach((from, to) => {
    for (let u = 0; u < units; u++) for (let r = 0; r < rows; r++) out[(to * units + u) * rows + r] = m[r * 4 * units + from * units + u];
  });
  return out;
}

/** A Bidirectional(LSTM, concat, return sequences) over (batch, time, features) as one ONNX LSTM. */
export function bidirectionalLstm(g: OnnxGraph, layer: Layer, x: Value): Value {
  const c = layer.getConfig() as Config;
  const inner = c.layer as { className: string; config: Config };
  if (inner.className !== 'LSTM') throw unsupported(layer, `a bidirectional ${inner.className}`);
  if (c.mergeMode !== 'concat' || inner.config.returnSequences !== true) throw unsupported(layer, 'only merge mode concat with return sequences');
  const units = inner.config.units as number;
  if (activationName({ activation: inner.config.recurrentActivation }) !== 'sigmoid' || activationName(inner.config) !== 'tanh') {
    throw unsupported(layer, "LSTM activations other than sigmoid gates and tanh (ONNX LSTM's own)");
  }
  const all = weights(layer);
  const features = layer.getWeights()[0].shape[0];
  // getWeights(): the forward LSTM's kernel, recurrent kernel and bias, then the backward one's.
  const W = new Float32Array(2 * 4 * units * features);
  const R = new Float32Array(2 * 4 * units * units);
  const B = new Float32Array(2 * 8 * units);
  for (let d = 0; d < 2; d++) {
    const [kernel, recurrent, bias] = all.slice(d * 3, d * 3 + 3);
    W.set(lstmGates(kernel, features, units), d * 4 * units * features);
    R.set(lstmGates(recurrent, units, units), d * 4 * units * units);
    if (inner.config.useBias !== false) B.set(lstmGates(bias, 1, units), d * 8 * units);
  }
  const timeMajor = g.op('Transpose', [x.name], { perm: [1, 0, 2] }, `${layer.name}_time_major`);
  const [y] = g.node(
    'LSTM',
    [
      timeMajor,
      g.floats(`${layer.name}/W`, [2, 4 * units, features], W),
      g.floats(`${layer.name}/R`, [2, 4 * units, units], R),
      g.floats(`${layer.name}/B`, [2, 8 * units], B),
    ],
    { direction: 'bidirectional', hidden_size: units },
    layer.name,
  );
  // Y is (time, direction, batch, units): to (batch, time, direction * units), forward first as Keras concatenates.
  const batchMajor = g.op('Transpose', [y], { perm: [2, 0, 1, 3] }, `${layer.name}_batch_major`);
  return { name: g.op('Reshape', [batchMajor, g.int64s(`${layer.name}/shape`, [0, 0, 2 * units])], {}, `${layer.name}_concat`), layout: 'plain' };
}

/** AER-Net's attention: weights = softmax_t(v . tanh(W h_t + b)), pooled = sum_t weights_t h_t. */
export function attentionPooling(g: OnnxGraph, layer: Layer, x: Value): [Value, Value] {
  const [w, b, v] = weights(layer);
  const [features, units] = layer.getWeights()[0].shape;
  const hidden = g.op(
    'Tanh',
    [
      g.op(
        'Add',
        [g.op('MatMul', [x.name, g.floats(`${layer.name}/w`, [features, units], w)], {}, `${layer.name}_project`), g.floats(`${layer.name}/b`, [units], b)],
        {},
        `${layer.name}_biased`,
      ),
    ],
    {},
    `${layer.name}_hidden`,
  );
  const scores = g.op(
    'Squeeze',
    [g.op('MatMul', [hidden, g.floats(`${layer.name}/v`, [units, 1], v)], {}, `${layer.name}_score`), g.int64s(`${layer.name}/axis2`, [2])],
    {},
    `${layer.name}_scores`,
  );
  const attention = g.op('Softmax', [scores], { axis: -1 }, `${layer.name}_weights`);
  // (batch, 1, time) x (batch, time, features) -> (batch, 1, features).
  const pooled = g.op(
    'MatMul',
    [g.op('Unsqueeze', [attention, g.int64s(`${layer.name}/axis1`, [1])], {}, `${layer.name}_row`), x.name],
    {},
    `${layer.name}_weighted`,
  );
  return [
    { name: g.op('Squeeze', [pooled, g.int64s(`${layer.name}/axis1b`, [1])], {}, `${layer.name}_pooled`), layout: 'plain' },
    { name: attention, layout: 'plain' },
  ];
}

/** The ablation variants' mean over time, with its uniform weights (batch, time). */
export function temporalMean(g: OnnxGraph, layer: Layer, x: Value): [Value, Value] {
  const steps = layer.inboundNodes[0].inputTensors[0].shape[1] as number;
  const mean = g.op('ReduceMean', [x.name], { axes: [1], keepdims: 0 }, `${layer.name}_mean`);
  const batchAndSteps = g.op('Shape', [x.name], { start: 0, end: 2 }, `${layer.name}_shape`);
  const uniform = g.op('Expand', [g.floats(`${layer.name}/weight`, [1, 1], [1 / steps]), batchAndSteps], {}, `${layer.name}_weights`);
  return [
    { name: mean, layout: 'plain' },
    { name: uniform, layout: 'plain' },
  ];
}
