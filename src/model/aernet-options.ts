/**
 * AER-Net's options: its variants (the ablation's), sizes and
 * regularisation, and the defaults. Apart from the builder (aernet.ts), so
 * what reads or checks options (the CLI's flags, recipes) does not load TF.js.
 */
import { AerError } from '../errors.ts';

export const VARIANTS = ['cnn', 'cnn_res', 'full'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface AerNetOptions {
  variant: Variant;
  classes: number;
  /** Filters of the three conv blocks (the paper's 32, 64, 128). */
  filters: [number, number, number];
  /** Units of each direction of the BiLSTM. */
  lstmUnits: number;
  /** Width of the attention scoring layer. */
  attentionUnits: number;
  /** The two dense layers before the softmax (ReLU, then tanh). */
  denseUnits: [number, number];
  /** Dropout after each conv block. */
  convDropout: number;
  /** Dropout after the LSTM and between the dense layers. */
  denseDropout: number;
  /** L2 weight decay on conv, LSTM and dense kernels (0 for none). */
  l2: number;
  /**
   * Share of the batch-norm moving statistics kept at each step. Keras's 0.99
   * needs hundreds of steps to settle; a small corpus gives 8 a epoch, and
   * validation would read stale statistics for half the run.
   */
  batchNormMomentum: number;
}

/** Sizes the paper leaves open, chosen here; see models/default/README.md for how they were measured. */
export const DEFAULT_OPTIONS: AerNetOptions = {
  variant: 'full',
  classes: 6,
  filters: [32, 64, 128],
  lstmUnits: 128,
  attentionUnits: 128,
  denseUnits: [128, 64],
  convDropout: 0.2,
  denseDropout: 0.3,
  l2: 1e-4,
  batchNormMomentum: 0.9,
};

export function checkVariant(value: string): Variant {
  if (!(VARIANTS as readonly string[]).includes(value)) {
    throw new AerError('invalid_argument', `unknown variant ${JSON.stringify(value)}; use one of ${VARIANTS.join(', ')}`);
  }
  return value as Variant;
}
