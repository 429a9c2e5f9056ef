/**
 * The project's own TF.js -> ONNX exporter for AER-Net: walks the Layers
 * model in topological order, converts each layer (layers.ts), folds batch
 * norm into the convolution before it, and names the graph's input
 * `features` (batch, 130, 128, 1) and outputs `probabilities` (batch,
 * classes) and `attention` (batch, steps), with a dynamic batch dimension.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import pkg from '../../../package.json' with { type: 'json' };
import { AerError } from '../../errors.ts';
import { type LoadedModel, weightsDigest, writeAtomically } from '../../model/model-dir.ts';
import { OnnxGraph } from './graph.ts';
import { activation, attentionPooling, batchNorm, bidirectionalLstm, conv2d, dense, maxPool, reshape, temporalMean, type Value } from './layers.ts';

export const ONNX_FILE = 'model.onnx';

type Layer = tf.layers.Layer;

const inputsOf = (layer: Layer) => layer.inboundNodes[0].inputTensors;
const outputsOf = (layer: Layer) => layer.inboundNodes[0].outputTensors;

/** Layers that read a tensor, by its id. */
function consumers(model: tf.LayersModel): Map<number, Layer[]> {
  const map = new Map<number, Layer[]>();
  for (const layer of model.layers) for (const t of layer.inboundNodes[0]?.inputTensors ?? []) map.set(t.id, [...(map.get(t.id) ?? []), layer]);
  return map;
}

export function exportOnnx(model: tf.LayersModel, metadata: Record<string, string> = {}): Uint8Array {
  const g = new OnnxGraph();
  const values = new Map<number, Value>();
  const readers = consumers(model);
  const folded = new Set<Layer>();
  const valueOf = (t: tf.SymbolicTensor): Value => {
    const v = values.get(t.id);
    if (!v) throw new AerError('unsupported_model', `the exporter reached ${t.name} before the layer that makes it`);
    return v;
  };

  if (model.inputs.length !== 1 || model.inputs[0].rank !== 4) throw new AerError('unsupported_model', 'the exporter expects one image input (batch, time, mel, 1)');
  const input = model.inputs[0];
  const inputName = g.input('features', input.shape);
  // Declared first, so no converted layer (the dense 'probabilities') takes their names.
  const names = ['probabilities', 'attention'];
  if (model.outputs.length !== names.length) throw new AerError('unsupported_model', `the exporter expects two outputs (probabilities, attention), the model has ${model.outputs.length}`);
  model.outputs.forEach((t, i) => g.output(names[i], t.shape));
  values.set(input.id, { name: g.op('Transpose', [inputName], { perm: [0, 3, 1, 2] }, 'features_nchw'), layout: 'nchw' });

  for (const layer of model.layers) {
    const kind = layer.getClassName();
    if (kind === 'InputLayer' || folded.has(layer)) continue;
    const ins = inputsOf(layer).map(valueOf);
    const outs = outputsOf(layer);
    const set = (...vs: Value[]) => vs.forEach((v, i) => values.set(outs[i].id, v));
    const config = layer.getConfig() as Record<string, unknown>;
    switch (kind) {
      case 'Conv2D': {
        // A batch norm that alone reads a linear convolution's output becomes part of its weights.
        const next = readers.get(outs[0].id) ?? [];
        const bn = next.length === 1 && next[0].getClassName() === 'BatchNormalization' && (config.activation === 'linear' || config.activation === undefined) ? next[0] : undefined;
        const y = conv2d(g, layer, ins[0], bn);
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
      case 'Activation':
        set({ name: activation(g, String(config.activation), ins[0].name, layer.name), layout: ins[0].layout });
        break;
      case 'MaxPooling2D':
        set(maxPool(g, layer, ins[0]));
        break;
      case 'Dropout':
        set(ins[0]);
        break;
      case 'Add':
        if (new Set(ins.map((v) => v.layout)).size > 1) throw new AerError('unsupported_model', `layer ${layer.name} adds an image to a sequence`);
        set({ name: ins.slice(1).reduce((sum, v, i) => g.op('Add', [sum, v.name], {}, i === ins.length - 2 ? layer.name : `${layer.name}_${i}`), ins[0].name), layout: ins[0].layout });
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
        throw new AerError('unsupported_model', `cannot export layer ${layer.name} (${kind}) to ONNX`, { hint: 'the exporter covers the layers aer train builds' });
    }
  }

  model.outputs.forEach((t, i) => g.rename(valueOf(t).name, names[i]));
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
