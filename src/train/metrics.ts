/** Classification metrics: accuracy, per-class and macro precision/recall/F1, confusion matrix. */

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Evaluation {
  labels: string[];
  n: number;
  accuracy: number;
  macro_precision: number;
  macro_recall: number;
  macro_f1: number;
  per_class: Record<string, ClassMetrics>;
  /** confusion[true][predicted] */
  confusion: number[][];
  /** Samples that got no label at all (a stream window the VAD called silence), counted as wrong; absent when none. */
  unlabelled?: number;
}

/**
 * `truth` and `predicted` are class indices into `labels`; a predicted -1 is
 * no label (wrong, and in no column). Macro means are over the classes
 * present in the truth.
 */
export function evaluate(labels: string[], truth: ArrayLike<number>, predicted: ArrayLike<number>): Evaluation {
  const k = labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const missed = new Array<number>(k).fill(0);
  for (let i = 0; i < truth.length; i++) {
    if (predicted[i] < 0) missed[truth[i]]++;
    else confusion[truth[i]][predicted[i]]++;
  }
  const per_class: Record<string, ClassMetrics> = {};
  let correct = 0;
  const present: string[] = [];
  for (let c = 0; c < k; c++) {
    const tp = confusion[c][c];
    correct += tp;
    const support = confusion[c].reduce((a, b) => a + b, 0) + missed[c];
    const predictedAs = confusion.reduce((a, row) => a + row[c], 0);
    const precision = predictedAs === 0 ? 0 : tp / predictedAs;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    per_class[labels[c]] = { precision, recall, f1, support };
    if (support > 0) present.push(labels[c]);
  }
  const mean = (key: keyof ClassMetrics) => (present.length === 0 ? 0 : present.reduce((a, l) => a + per_class[l][key], 0) / present.length);
  return {
    labels,
    n: truth.length,
    accuracy: truth.length === 0 ? 0 : correct / truth.length,
    macro_precision: mean('precision'),
    macro_recall: mean('recall'),
    macro_f1: mean('f1'),
    per_class,
    confusion,
    ...(missed.some((m) => m > 0) ? { unlabelled: missed.reduce((a, b) => a + b, 0) } : {}),
  };
}

/** The index of the largest value in each row of a (rows x width) matrix. */
export function argmaxRows(values: Float32Array, width: number): Int32Array {
  const rows = values.length / width;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < width; c++) if (values[r * width + c] > values[r * width + best]) best = c;
    out[r] = best;
  }
  return out;
}
