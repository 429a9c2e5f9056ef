/**
 * The AER-Net builder (docs/architecture.md, "The model"): three conv blocks (32, 64,
 * 128 filters, 3x3, same padding) with batch norm, ReLU / ELU / GELU and 2x2
 * max pooling, a 1x1 residual shortcut in block 3, the feature maps read as
 * a sequence over time, a bidirectional LSTM, attention pooling, then dense
 * ReLU -> dense tanh -> softmax, with dropout between stages.
 *
 * The ablation variants are the same builder with parts switched off:
 * `cnn` (no shortcut, no LSTM, no attention), `cnn_res` (shortcut, no LSTM,
 * no attention) and `full`. Without attention the sequence is averaged over
 * time, and the model still returns (uniform) weights, so every variant has
 * the same two outputs: class probabilities and attention per time step.
 */
import { type LayersModel, layers, model as functionalModel, input, regularizers, type SymbolicTensor } from '@tensorflow/tfjs';
import { N_MELS, WINDOW_FRAMES } from '../features/recipe.ts';
import { AttentionPooling } from './attention.ts';
import { TemporalMean } from './temporal-mean.ts';

import { type AerNetOptions, checkVariant, DEFAULT_OPTIONS } from './aernet-options.ts';

/** tfjs-layers warns on every orthogonal initialisation above 2000 values (the LSTM's); it only announces a slow start. */
function quietly<T>(build: () => T): T {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!(typeof args[0] === 'string' && args[0].startsWith('Orthogonal initializer'))) warn(...args);
  };
  try {
    return build();
  } finally {
    console.warn = warn;
  }
}

/** The model's input: one window of Mel features (time, mel, 1). */
export function featuresInput(): SymbolicTensor {
  return input({ shape: [WINDOW_FRAMES, N_MELS, 1], name: 'features' });
}

export function buildAerNet(overrides: Partial<AerNetOptions> = {}): LayersModel {
  const o = { ...DEFAULT_OPTIONS, ...overrides };
  const features = featuresInput();
  return functionalModel({ inputs: features, outputs: aerNetOutputs(o, features), name: `aernet_${o.variant}` });
}

/**
 * AER-Net's layers on `features`: its two outputs, class probabilities and
 * attention per time step. Every layer is named `prefix` + its name, so
 * several networks can share one graph (ensemble.ts).
 */
export function aerNetOutputs(o: AerNetOptions, features: SymbolicTensor, prefix = ''): [SymbolicTensor, SymbolicTensor] {
  return quietly(() => build(o, features, prefix));
}

function build(o: AerNetOptions, features: SymbolicTensor, prefix: string): [SymbolicTensor, SymbolicTensor] {
  checkVariant(o.variant);
  const l2 = () => (o.l2 > 0 ? { kernelRegularizer: regularizers.l2({ l2: o.l2 }) } : {});
  const n = (name: string) => `${prefix}${name}`;

  const conv = (x: SymbolicTensor, filters: number, name: string) =>
    layers
      .batchNormalization({ name: n(`${name}_bn`), momentum: o.batchNormMomentum })
      .apply(
        layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, name: n(`${name}_conv`), ...l2() }).apply(x) as SymbolicTensor,
      ) as SymbolicTensor;
  const pool = (x: SymbolicTensor, name: string) =>
    layers
      .dropout({ rate: o.convDropout, name: n(`${name}_dropout`) })
      .apply(layers.maxPooling2d({ poolSize: 2, name: n(`${name}_pool`) }).apply(x) as SymbolicTensor) as SymbolicTensor;

  let x = pool(layers.activation({ activation: 'relu', name: n('block1_relu') }).apply(conv(features, o.filters[0], 'block1')) as SymbolicTensor, 'block1');
  x = pool(layers.activation({ activation: 'elu', name: n('block2_elu') }).apply(conv(x, o.filters[1], 'block2')) as SymbolicTensor, 'block2');
  let block3 = conv(x, o.filters[2], 'block3');
  if (o.variant !== 'cnn') {
    const shortcut = layers.conv2d({ filters: o.filters[2], kernelSize: 1, padding: 'same', name: n('block3_shortcut'), ...l2() }).apply(x) as SymbolicTensor;
    block3 = layers.add({ name: n('block3_residual') }).apply([block3, shortcut]) as SymbolicTensor;
  }
  x = pool(layers.activation({ activation: 'gelu', name: n('block3_gelu') }).apply(block3) as SymbolicTensor, 'block3');

  // (batch, time, mel, channels) -> (batch, time, mel * channels): one feature vector per time step.
  const [, steps, bands, channels] = x.shape as number[];
  let sequence = layers.reshape({ targetShape: [steps, bands * channels], name: n('to_sequence') }).apply(x) as SymbolicTensor;

  let pooled: SymbolicTensor;
  let attention: SymbolicTensor;
  if (o.variant === 'full') {
    // The standard LSTM's sigmoid gates (Keras, PyTorch); TF.js defaults to a hard sigmoid.
    sequence = layers
      .bidirectional({
        layer: layers.lstm({ units: o.lstmUnits, recurrentActivation: 'sigmoid', returnSequences: true, ...l2() }) as never,
        mergeMode: 'concat',
        name: n('bilstm'),
      })
      .apply(sequence) as SymbolicTensor;
    sequence = layers.dropout({ rate: o.denseDropout, name: n('bilstm_dropout') }).apply(sequence) as SymbolicTensor;
    [pooled, attention] = new AttentionPooling({ units: o.attentionUnits, name: n('attention') }).apply(sequence) as SymbolicTensor[];
  } else {
    [pooled, attention] = new TemporalMean({ name: n('temporal_mean') }).apply(sequence) as SymbolicTensor[];
  }

  let head = layers.dense({ units: o.denseUnits[0], activation: 'relu', name: n('dense_relu'), ...l2() }).apply(pooled) as SymbolicTensor;
  head = layers.dropout({ rate: o.denseDropout, name: n('dense_relu_dropout') }).apply(head) as SymbolicTensor;
  head = layers.dense({ units: o.denseUnits[1], activation: 'tanh', name: n('dense_tanh'), ...l2() }).apply(head) as SymbolicTensor;
  head = layers.dropout({ rate: o.denseDropout, name: n('dense_tanh_dropout') }).apply(head) as SymbolicTensor;
  const probabilities = layers.dense({ units: o.classes, activation: 'softmax', name: n('probabilities') }).apply(head) as SymbolicTensor;

  return [probabilities, attention];
}
