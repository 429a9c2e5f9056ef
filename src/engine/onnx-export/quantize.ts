/**
 * int8 quantization in ONNX's QDQ form: QuantizeLinear/DequantizeLinear pairs
 * around a convolution's input and output, int8 weights per output channel
 * and int32 biases. onnxruntime fuses each such unit into one integer
 * convolution (VNNI on x86); everything between (pooling, ELU, GELU, the
 * LSTM) stays float. Activations are uint8 with a zero point, from ranges
 * measured on real features (calibrate.ts).
 */
import type { OnnxGraph } from './graph.ts';

export interface Range {
  min: number;
  max: number;
}

/** Per quantized convolution (by layer name): the range of its input and of its output (after a folded batch norm). */
export type Calibration = Record<string, { input: Range; output: Range }>;

/** Convolutions with fewer input channels gain nothing from int8 (block 1 reads the one-channel spectrogram). */
export const MIN_QUANTIZED_CHANNELS = 8;

/** uint8 scale and zero point covering `range` (widened to hold 0, so zero padding stays exact). */
export function activationParameters({ min, max }: Range): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, min);
  const hi = Math.max(0, max, lo + 1e-6);
  const scale = (hi - lo) / 255;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-lo / scale))) };
}

/** DequantizeLinear(QuantizeLinear(x)) with uint8 parameters for `range`. */
export function fakeQuantize(g: OnnxGraph, x: string, range: Range, base: string): { value: string; scale: number } {
  const { scale, zeroPoint } = activationParameters(range);
  const s = g.scalar(`${base}/scale`, scale);
  const z = g.quantized(`${base}/zero_point`, [], Uint8Array.of(zeroPoint));
  return { value: g.op('DequantizeLinear', [g.op('QuantizeLinear', [x, s, z], {}, `${base}_quantize`), s, z], {}, `${base}_dequantize`), scale };
}

/** Symmetric int8 per output channel of an ONNX [out, ...] kernel: the dequantized weights, and each channel's scale. */
export function quantizedKernel(g: OnnxGraph, kernel: Float32Array, dims: number[], base: string): { value: string; scales: Float32Array } {
  const cout = dims[0];
  const per = kernel.length / cout;
  const scales = new Float32Array(cout);
  const q = new Int8Array(kernel.length);
  for (let o = 0; o < cout; o++) {
    let peak = 0;
    for (let k = 0; k < per; k++) peak = Math.max(peak, Math.abs(kernel[o * per + k]));
    scales[o] = peak > 0 ? peak / 127 : 1;
    for (let k = 0; k < per; k++) q[o * per + k] = Math.round(kernel[o * per + k] / scales[o]);
  }
  const value = g.op(
    'DequantizeLinear',
    [g.quantized(`${base}/quantized`, dims, q), g.floats(`${base}/scale`, [cout], scales), g.quantized(`${base}/zero_point`, [cout], new Int8Array(cout))],
    { axis: 0 },
    `${base}_dequantize`,
  );
  return { value, scales };
}

/** An int32 bias at scale input scale x weight scale per channel, as onnxruntime's integer convolution adds it. */
export function quantizedBias(g: OnnxGraph, bias: Float32Array, inputScale: number, weightScales: Float32Array, base: string): string {
  const scales = weightScales.map((w) => w * inputScale);
  const q = Int32Array.from(bias, (b, o) => Math.round(b / scales[o]));
  return g.op(
    'DequantizeLinear',
    [
      g.quantized(`${base}/quantized`, [bias.length], q),
      g.floats(`${base}/scale`, [bias.length], scales),
      g.quantized(`${base}/zero_point`, [bias.length], new Int32Array(bias.length)),
    ],
    { axis: 0 },
    `${base}_dequantize`,
  );
}
