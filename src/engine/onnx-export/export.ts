/**
 * The project's own TF.js -> ONNX exporter for AER-Net (and ensembles of
 * it, model/ensemble.ts): walks the Layers
 * model in topological order, converts each layer (layers.ts), folds batch
 * norm into the convolution before it, and names the graph's input
 * `features` (batch, 130, 128, 1) and outputs `probabilities` (batch,
 * classes) and `attention` (batch, steps), with a dynamic batch dimension.
 * Given a calibration, the wide convolutions are written in int8 (quantize.ts).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import pkg from '../../../package.json' with { type: 'json' };
import { AerError } from '../../errors.ts';
import type { LoadedModel } from '../../model/model-dir.ts';
import { ONNX_FILE, weightsDigest, writeAtomically } from '../../model/model-files.ts';
import { OnnxGraph } from './graph.ts';
import type { Calibration } from './quantize.ts';
import { activation, attentionPooling, batchNorm, bidirectionalLstm, conv2d, dense, maxPool, reshape, temporalMean, type Value } from './layers.ts';

type Layer = tf.layers.Layer;

/** Non-decreasing activations onnxruntime does not fuse into the convolution before them (it does ReLU). */
const POOL_FIRST = new Set(['elu', 'tanh', 'sigmoid']);

const inputsOf = (layer: Layer) => layer.inboundNodes[0].inputTensors;
const outputsOf = (layer: Layer) => layer.inboundNodes[0].outputTensors;

/** Layers that read a tensor, by its id. */
function consumers(model: tf.LayersModel): Map<number, Layer[]> {
  const map = new Map<number, Layer[]>();
  for (const layer of model.layers) for (const t of layer.inboundNodes[0]?.inputTensors ?? []) map.set(t.id, [...(map.get(t.id) ?? []), layer]);
  return map;
}

/** The layer of class `className` that alone reads `layer`'s output, if so: what the exporter may fold into it. */
function soleReader(layer: Layer, readers: Map<number, Layer[]>, className: string): Layer | undefined {
  const next = readers.get(outputsOf(layer)[0].id) ?? [];
  return next.length === 1 && next[0].getClassName() === className ? next[0] : undefined;
}

/** A batch norm that alone reads a linear convolution's output becomes part of its weights. */
function foldedBatchNorm(conv: Layer, readers: Map<number, Layer[]>): Layer | undefined {
  const activation = (conv.getConfig() as Record<string, unknown>).activation;
  return activation === 'linear' || activation === undefined ? soleReader(conv, readers, 'BatchNormalization') : undefined;
}

/** A layer that combines its inputs element-wise needs them in one layout (an image is NCHW, a sequence plain). */
function sharedLayout(layer: Layer, ins: Value[], mixing: string): void {
  if (new Set(ins.map((v) => v.layout)).size > 1) throw new AerError('unsupported_model', `layer ${layer.name} ${mixing}`);
}

export interface ExportOptions {
  /** Run the calibrated convolutions in int8 (quantize.ts). */
  quantize?: Calibration;
  /** Also output the input and output of each convolution int8 would cover, and tell their output names (for calibration). */
  probes?: (layer: string, input: string, output: string) => void;
}

export function exportOnnx(model: tf.LayersModel, metadata: Record<string, string> = {}, options: ExportOptions = {}): Uint8Array {
  const g = new OnnxGraph();
  const values = new Map<number, Value>();
  const readers = consumers(model);
  const folded = new Set<Layer>();
  const probes: [string, string, string][] = [];
  const quantizedInputs = new Map<string, { value: string; scale: number }>();
  const valueOfTensor = (t: tf.SymbolicTensor): Value => {
    const v = values.get(t.id);
    if (!v) throw new AerError('unsupported_model', `the exporter reached ${t.name} before the layer that makes it`);
    return v;
  };

  if (model.inputs.length !== 1 || model.inputs[0].rank !== 4)
    throw new AerError('unsupported_model', 'the exporter expects one image input (batch, time, mel, 1)');
  const input = model.inputs[0];
  const inputName = g.input('features', input.shape);
  // Declared first, so no converted layer (the dense 'probabilities') takes their names.
  const names = ['probabilities', 'attention'];
  if (model.outputs.length !== names.length)
    throw new AerError('unsupported_model', `the exporter expects two outputs (probabilities, attention), the model has ${model.outputs.length}`);
  model.outputs.forEach((t, i) => g.output(names[i], t.shape));
  values.set(input.id, { name: g.op('Transpose', [inputName], { perm: [0, 3, 1, 2] }, 'features_nchw'), layout: 'nchw' });

  for (const layer of model.layers) {
    const kind = layer.getClassName();
    if (kind === 'InputLayer' || folded.has(layer)) continue;
    const ins = inputsOf(layer).map(valueOfTensor);
    const outs = outputsOf(layer);
    const set = (...vs: Value[]) => vs.forEach((v, i) => values.set(outs[i].id, v));
    const config = layer.getConfig() as Record<string, unknown>;
    switch (kind) {
      case 'Conv2D': {
        const bn = foldedBatchNorm(layer, readers);
        const probe = options.probes ? (name: string, input: string, output: string) => probes.push([name, input, output]) : undefined;
        const y = conv2d(g, layer, ins[0], bn, { ranges: options.quantize?.[layer.name], probe, quantizedInputs });
        if (bn) {
          folded.add(bn);
          values.set(outputsOf(bn)[0].id, y);
        }
        set(y);
        break;
      }
      case 'BatchNormalization':
        set(batchNorm(g, layer, ins[0]));
        break;
      case 'Activation': {
        // max(f(a), f(b)) = f(max(a, b)) for a non-decreasing f: pooling first applies f to a quarter of the values.
        const pool = POOL_FIRST.has(String(config.activation)) ? soleReader(layer, readers, 'MaxPooling2D') : undefined;
        const x = pool ? maxPool(g, pool, ins[0]) : ins[0];
        const y = { name: activation(g, String(config.activation), x.name, layer.name), layout: x.layout };
        if (pool) {
          folded.add(pool);
          values.set(outputsOf(pool)[0].id, y);
        } else set(y);
        break;
      }
      case 'MaxPooling2D':
        set(maxPool(g, layer, ins[0]));
        break;
      case 'Dropout':
        set(ins[0]);
        break;
      case 'Add':
        sharedLayout(layer, ins, 'adds an image to a sequence');
        set({
          name: ins.slice(1).reduce((sum, v, i) => g.op('Add', [sum, v.name], {}, i === ins.length - 2 ? layer.name : `${layer.name}_${i}`), ins[0].name),
          layout: ins[0].layout,
        });
        break;
      case 'Average':
        // An ensemble's outputs (model/ensemble.ts): the members' probabilities or attention, averaged.
        sharedLayout(layer, ins, 'averages an image with a sequence');
        set({
          name: g.op(
            'Mean',
            ins.map((v) => v.name),
            {},
            layer.name,
          ),
          layout: ins[0].layout,
        });
        break;
      case 'Reshape':
        set(reshape(g, layer, ins[0]));
        break;
      case 'Bidirectional':
        set(bidirectionalLstm(g, layer, ins[0]));
        break;
      case 'Dense':
        set(dense(g, layer, ins[0]));
        break;
      case 'AerAttentionPooling':
        set(...attentionPooling(g, layer, ins[0]));
        break;
      case 'AerTemporalMean':
        set(...temporalMean(g, layer, ins[0]));
        break;
      default:
        throw new AerError('unsupported_model', `cannot export layer ${layer.name} (${kind}) to ONNX`, {
          hint: 'the exporter covers the layers aer train builds',
        });
    }
  }

  model.outputs.forEach((t, i) => g.rename(valueOfTensor(t).name, names[i]));
  const probed = new Set<string>();
  for (const [layer, ...ends] of probes) {
    for (const value of ends.filter((v) => !probed.has(v))) {
      probed.add(value);
      g.rename(value, `probe:${value}`);
      g.output(`probe:${value}`);
    }
    options.probes?.(layer, `probe:${ends[0]}`, `probe:${ends[1]}`);
  }
  return g.serialize(model.name, { name: 'aer-stream', version: pkg.version }, metadata);
}

/** What model.onnx records of its source: the labels, and a digest of weights.bin so an engine can tell a stale export. */
export function onnxMetadata(loaded: LoadedModel, weightsSha256: string): Record<string, string> {
  return { labels: loaded.metadata.labels.join(','), variant: loaded.metadata.variant, weights_sha256: weightsSha256 };
}

/** Writes model.onnx beside model.json. */
export async function exportModelDir(loaded: LoadedModel): Promise<{ file: string; bytes: Uint8Array }> {
  const file = path.join(loaded.dir, ONNX_FILE);
  const bytes = exportOnnx(loaded.model, onnxMetadata(loaded, await weightsDigest(loaded.dir)));
  await fs.mkdir(loaded.dir, { recursive: true });
  await writeAtomically(file, bytes);
  return { file, bytes };
}
