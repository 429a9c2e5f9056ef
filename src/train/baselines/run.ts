/** Both baselines trained on one set of clips and measured on another, on the flattened spectrogram of each clip's recipe window. */
import type { LoadedClip } from '../clip-store.ts';
import { LABELS } from '../labels.ts';
import { argmaxRows, evaluate, type Evaluation } from '../metrics.ts';
import { DEFAULT_FOREST, type ForestOptions, forestProbabilities, trainForest } from './forest.ts';
import { DEFAULT_SVM, type SvmOptions, svmPredict } from './svm.ts';

export const BASELINES = ['svm', 'forest'] as const;
export type BaselineName = (typeof BASELINES)[number];

export interface BaselineOptions {
  svm: SvmOptions;
  forest: ForestOptions;
}

export const DEFAULT_BASELINES: BaselineOptions = { svm: DEFAULT_SVM, forest: DEFAULT_FOREST };

export interface BaselineResult {
  name: BaselineName;
  evaluation: Evaluation;
  seconds: number;
}

export async function runBaselines(train: LoadedClip[], test: LoadedClip[], options: BaselineOptions = DEFAULT_BASELINES): Promise<BaselineResult[]> {
  const labels = [...LABELS];
  const y = Int32Array.from(train, (c) => labels.indexOf(c.label));
  const truth = Int32Array.from(test, (c) => labels.indexOf(c.label));
  const rows = train.map((c) => c.features);
  const testRows = test.map((c) => c.features);
  const timed = async (name: BaselineName, predict: () => Promise<Int32Array> | Int32Array): Promise<BaselineResult> => {
    const started = performance.now();
    const predicted = await predict();
    return { name, evaluation: evaluate(labels, truth, predicted), seconds: (performance.now() - started) / 1000 };
  };
  return [
    await timed('svm', () => svmPredict(rows, y, testRows, options.svm)),
    await timed('forest', () => {
      const forest = trainForest(rows, y, labels.length, options.forest);
      const probabilities = new Float32Array(test.length * labels.length);
      testRows.forEach((r, i) => probabilities.set(forestProbabilities(forest, r), i * labels.length));
      return argmaxRows(probabilities, labels.length);
    }),
  ];
}
