/**
 * Several trained AER-Nets of one recipe as one model: a single graph in
 * which every member reads the same window and the class probabilities and
 * attention weights are averaged over them (a deep ensemble). One graph, so
 * every engine, the ONNX export and int8 serve it as they serve one network.
 * Member k's layers are named `m<k>_` + the network's own layer names.
 */
import { type LayersModel, layers, model as functionalModel, type SymbolicTensor } from '@tensorflow/tfjs';
import { AerError } from '../errors.ts';
import { aerNetOutputs, featuresInput } from './aernet.ts';
import type { AerNetOptions } from './aernet-options.ts';

const prefixOf = (member: number) => `m${member + 1}_`;

/** An untrained graph of `count` networks with these options. */
export function buildEnsemble(options: AerNetOptions, count: number): LayersModel {
  if (!Number.isInteger(count) || count < 2) throw new AerError('invalid_argument', `an ensemble needs 2 or more networks, not ${count}`);
  const features = featuresInput();
  const outputs = Array.from({ length: count }, (_, k) => aerNetOutputs(options, features, prefixOf(k)));
  const mean = (name: string, which: 0 | 1) => layers.average({ name }).apply(outputs.map((o) => o[which])) as SymbolicTensor;
  return functionalModel({
    inputs: features,
    outputs: [mean('probabilities_mean', 0), mean('attention_mean', 1)],
    name: `aernet_${options.variant}_x${count}`,
  });
}

/** The graph holding these trained networks (built with `options`), their weights copied in. */
export function joinEnsemble(members: readonly LayersModel[], options: AerNetOptions): LayersModel {
  const ensemble = buildEnsemble(options, members.length);
  members.forEach((member, k) => {
    for (const layer of member.layers) {
      if (layer.weights.length > 0) ensemble.getLayer(`${prefixOf(k)}${layer.name}`).setWeights(layer.getWeights());
    }
  });
  return ensemble;
}

/** How many networks a model holds: 1 for a plain AER-Net. */
export function memberCount(model: LayersModel): number {
  let count = 0;
  while (model.layers.some((l) => l.name.startsWith(prefixOf(count)))) count++;
  return Math.max(1, count);
}
