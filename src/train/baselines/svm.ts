/**
 * The SVM baseline: standardised flattened spectrograms, PCA to 200
 * components, RBF kernel with C = 10 and scikit-learn's gamma = 'scale'
 * (1 / (components * variance)), one-vs-one multi-class, by libsvm (the
 * wasm build of libsvm-js).
 */
import { createRequire } from 'node:module';
import { fitPca, projectPca } from './pca.ts';

export interface SvmOptions {
  components: number;
  cost: number;
}

export const DEFAULT_SVM: SvmOptions = { components: 200, cost: 10 };

interface LibSvm {
  train(samples: number[][], labels: number[]): void;
  predict(samples: number[][]): number[];
  free(): void;
}
interface LibSvmClass {
  new (options: Record<string, unknown>): LibSvm;
  SVM_TYPES: { C_SVC: unknown };
  KERNEL_TYPES: { RBF: unknown };
}

let loading: Promise<LibSvmClass> | undefined;

/** libsvm-js, once. Its emscripten loader tries fetch() on a file path first and logs the failure; without fetch it reads the file. */
function loadLibSvm(): Promise<LibSvmClass> {
  loading ??= (async () => {
    const fetch = globalThis.fetch;
    (globalThis as { fetch?: unknown }).fetch = undefined;
    try {
      return await (createRequire(import.meta.url)('libsvm-js/wasm') as Promise<LibSvmClass>);
    } finally {
      globalThis.fetch = fetch;
    }
  })();
  return loading;
}

export interface SvmModel {
  /** The class of each row. */
  predict(rows: Float32Array[]): Int32Array;
  free(): void;
}

/** Trains on (rows, labels): PCA, then the SVM on the projections. */
export async function trainSvm(train: Float32Array[], labels: ArrayLike<number>, options: SvmOptions = DEFAULT_SVM): Promise<SvmModel> {
  const SVM = await loadLibSvm();
  const pca = fitPca(train, options.components);
  const project = (rows: Float32Array[]) => rows.map((r) => Array.from(projectPca(pca, r)));
  const meanVariance = pca.variances.reduce((a, b) => a + b, 0) / pca.variances.length;
  const svm = new SVM({
    type: SVM.SVM_TYPES.C_SVC,
    kernel: SVM.KERNEL_TYPES.RBF,
    gamma: 1 / (pca.axes.length * meanVariance),
    cost: options.cost,
    quiet: true,
  });
  try {
    svm.train(project(train), Array.from(labels));
  } catch (error) {
    svm.free();
    throw error;
  }
  return { predict: (rows) => Int32Array.from(svm.predict(project(rows))), free: () => svm.free() };
}

/** Trains on (rows, labels) and predicts the class of each test row. */
export async function svmPredict(
  train: Float32Array[],
  labels: ArrayLike<number>,
  test: Float32Array[],
  options: SvmOptions = DEFAULT_SVM,
): Promise<Int32Array> {
  const model = await trainSvm(train, labels, options);
  try {
    return model.predict(test);
  } finally {
    model.free();
  }
}
