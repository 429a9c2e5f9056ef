/**
 * Kernels that training needs on TF.js's wasm backend (4.22), built from its
 * fast forward kernels (XNNPACK). Each replaces a gap or a slow or wrong path,
 * measured in bench/training and tested against the cpu backend:
 *
 * - Conv2DBackpropFilter (missing): one forward convolution with batch and
 *   channels swapped, the input as image and dy as filter;
 * - Conv2DBackpropInput (10x slower than forward): a forward convolution of
 *   dy with the kernel rotated 180 degrees and its channels swapped;
 * - MaxPoolGrad (wrong: it drops the gradient of any window whose values are
 *   all negative, which ELU and GELU outputs can be; and slow): dy upsampled
 *   onto the first position (row-major) of each window that equals its
 *   maximum, as TF does;
 * - Sum and Mean over batch, height and width (25x slower): a full-window
 *   average pool, then the small sum over the batch;
 * - BatchMatMul and _FusedMatMul with transposed operands (3x slower):
 *   explicit transposes, then the backend's own multiply;
 * - the FusedBatchNorm gradient, which tiled a per-channel factor to the
 *   input's full size: broadcasting instead;
 * - the Sum and Mean gradients, which spread dy over the input by
 *   multiplying with a tensor of ones filled in JavaScript (17 M values for
 *   a block-1 batch-norm statistic): the backend's Fill kernel instead;
 * - Identity, which copied the whole tensor (and the engine clones every
 *   tensor it keeps for backpropagation): a new reference to the same data,
 *   as the cpu backend does (TF.js never writes into a tensor's data);
 * - Slice and Unpack (the LSTM's time steps), which copied the whole input
 *   out of wasm memory for every slice: a copy between views of wasm memory,
 *   in runs as long as the slice's contiguous blocks.
 *
 * Registered for the wasm backend only; a native backend keeps its own.
 */
import * as tf from '@tensorflow/tfjs';

type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };
/** The parts of tfjs-backend-wasm's BackendWasm the heap-level kernels use. */
interface WasmBackend {
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}
type KernelArgs = { inputs: Record<string, TensorInfo>; attrs?: Record<string, unknown>; backend: unknown };
type KernelFunc = (args: KernelArgs) => TensorInfo | TensorInfo[];
interface RefCountedBackend {
  incRef(dataId: object): void;
}

/** The (before, after) amounts of 'same' padding for a kernel size. */
function samePadding(k: number): [number, number] {
  const before = Math.floor((k - 1) / 2);
  return [before, k - 1 - before];
}

/** dL/dx of a stride-1 'same' convolution: dy convolved with the flipped, channel-swapped kernel. */
export function conv2dInputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(dy, flipped, 1, 'same');
  });
}

/**
 * dL/dfilter of a stride-1 'same' convolution as one forward convolution:
 * dW[i, j, ci, co] = sum over b, y, x of xpad[b, y + i, x + j, ci] dy[b, y, x, co]
 * is a 'valid' convolution of xpad with batch and channels swapped
 * (ci, y, x, b) by dy read as a filter (y, x, b, co).
 */
export function conv2dFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number]): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw] = filterShape;
    const padded = kh === 1 && kw === 1 ? x : tf.pad(x, [[0, 0], samePadding(kh), samePadding(kw), [0, 0]]);
    const image = tf.transpose(padded, [3, 1, 2, 0]) as tf.Tensor4D;
    const filter = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    return tf.transpose(tf.conv2d(image, filter, 1, 'valid'), [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/**
 * dL/dx of non-overlapping max pooling (window = stride, 'valid'): dy lands
 * on every position of a window that equals the window's maximum. Ties share
 * the gradient where TF gives it to the first; the only exact ties in AER-Net
 * are ReLU's zeros, whose gradient ReLU then discards.
 */
/**
 * Of a 0/1 mask over whole pooling windows, only the first 1 of each window
 * in row-major order: the one position TF's MaxPoolGrad gives the gradient
 * to. Ties are everywhere in AER-Net's maps (the zero padding of a short
 * clip is a constant region, ReLU makes zeros), and giving every tied
 * position the gradient multiplies it by up to size^2 per pooling layer.
 */
function firstOfEachWindow(mask: tf.Tensor4D, size: number): tf.Tensor4D {
  const [batch, height, width, channels] = mask.shape;
  const [h, w] = [height / size, width / size];
  // (batch * h, window row, w, window column * channels) -> one row of size^2 window positions per window and channel.
  const windows = tf.reshape(tf.transpose(tf.reshape(mask, [batch * h, size, w, size * channels]), [0, 2, 1, 3]), [batch * h * w, size * size, channels]);
  const first = tf.mul(windows, tf.cast(tf.equal(tf.cumsum(windows, 1), 1), 'float32'));
  return tf.reshape(tf.transpose(tf.reshape(first, [batch * h, w, size, size * channels]), [0, 2, 1, 3]), [batch, height, width, channels]) as tf.Tensor4D;
}

export function maxPoolInputGradient(x: tf.Tensor4D, y: tf.Tensor4D, dy: tf.Tensor4D, size: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [batch, height, width, channels] = x.shape;
    const [, h, w] = y.shape;
    const coveredH = h * size;
    const coveredW = w * size;
    const whole = coveredH === height && coveredW === width;
    // Rows past the last window get no gradient; crop them through a 3D view, which the backend slices fast.
    const covered = whole
      ? x
      : coveredW === width
        ? (tf.reshape(tf.slice(tf.reshape(x, [batch, height, width * channels]), [0, 0, 0], [batch, coveredH, width * channels]), [
            batch,
            coveredH,
            width,
            channels,
          ]) as tf.Tensor4D)
        : tf.slice(x, [0, 0, 0, 0], [batch, coveredH, coveredW, channels]);
    const up = (t: tf.Tensor4D) => tf.image.resizeNearestNeighbor(t, [coveredH, coveredW]);
    const g = tf.mul(firstOfEachWindow(tf.cast(tf.equal(covered, up(y)), 'float32') as tf.Tensor4D, size), up(dy)) as tf.Tensor4D;
    return whole
      ? g
      : tf.pad(g, [
          [0, 0],
          [0, height - coveredH],
          [0, width - coveredW],
          [0, 0],
        ]);
  });
}

/**
 * A kernel function written with TF.js ops. The inputs are wrapped as tensors
 * without letting the wrappers free them, and the result's data is handed to
 * the engine alive after the temporary tensor that held it is disposed.
 */
function opsKernelFunc(compute: (inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>) => tf.Tensor): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const b = backend as RefCountedBackend;
    const wrapped: Record<string, tf.Tensor> = {};
    for (const [name, info] of Object.entries(inputs)) {
      b.incRef(info.dataId);
      wrapped[name] = tf.engine().makeTensorFromTensorInfo(info);
    }
    try {
      const out = compute(wrapped, attrs ?? {});
      b.incRef(out.dataId);
      const result: TensorInfo = { dataId: out.dataId, shape: out.shape, dtype: out.dtype };
      out.dispose();
      return result;
    } finally {
      for (const t of Object.values(wrapped)) t.dispose();
    }
  };
}

function swapLastAxes(t: tf.Tensor): tf.Tensor {
  const axes = t.shape.map((_, i) => i);
  [axes[axes.length - 2], axes[axes.length - 1]] = [axes[axes.length - 1], axes[axes.length - 2]];
  return tf.transpose(t, axes);
}

/** An input of this kernel call, transposed; the tensors made are pushed to `made` for disposal. */
function transposedInput(info: TensorInfo, backend: RefCountedBackend, made: tf.Tensor[]): TensorInfo {
  backend.incRef(info.dataId); // the wrapper's disposal releases this reference, not the caller's
  const wrapper = tf.engine().makeTensorFromTensorInfo(info);
  const transposed = swapLastAxes(wrapper);
  made.push(wrapper, transposed);
  return { dataId: transposed.dataId, shape: transposed.shape, dtype: transposed.dtype };
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * The backend's own multiply, fed untransposed operands. For BatchMatMul,
 * when a transposed operand is large (an LSTM kernel) and the others small,
 * A B^T is computed as (B A^T)^T, which transposes only small tensors.
 */
function untransposedMatMul(original: KernelFunc, mayTransposeOutput: boolean): KernelFunc {
  return (args) => {
    const attrs = args.attrs ?? {};
    if (!attrs.transposeA && !attrs.transposeB) return original(args);
    const made: tf.Tensor[] = [];
    const backend = args.backend as RefCountedBackend;
    const { a, b } = args.inputs;
    const plain = { ...attrs, transposeA: false, transposeB: false };
    try {
      const direct = (attrs.transposeA ? size(a.shape) : 0) + (attrs.transposeB ? size(b.shape) : 0);
      const rowsA = a.shape[a.shape.length - (attrs.transposeA ? 1 : 2)];
      const colsB = b.shape[b.shape.length - (attrs.transposeB ? 2 : 1)];
      const swapped = (attrs.transposeA ? 0 : size(a.shape)) + (attrs.transposeB ? 0 : size(b.shape)) + size(a.shape.slice(0, -2)) * rowsA * colsB;
      if (mayTransposeOutput && swapped < direct) {
        // (op(A) op(B))^T = op(B)^T op(A)^T: transpose the operands that were not, then the product.
        const bT = attrs.transposeB ? b : transposedInput(b, backend, made);
        const aT = attrs.transposeA ? a : transposedInput(a, backend, made);
        const product = original({ ...args, inputs: { a: bT, b: aT }, attrs: plain }) as TensorInfo;
        const owner = tf.engine().makeTensorFromTensorInfo(product); // its disposal frees the product
        const result = swapLastAxes(owner);
        made.push(owner, result);
        backend.incRef(result.dataId); // outlives `result`'s disposal: the engine wraps it as the output
        return { dataId: result.dataId, shape: result.shape, dtype: result.dtype };
      }
      const aIn = attrs.transposeA ? transposedInput(a, backend, made) : a;
      const bIn = attrs.transposeB ? transposedInput(b, backend, made) : b;
      return original({ ...args, inputs: { ...args.inputs, a: aIn, b: bIn }, attrs: plain });
    } finally {
      for (const t of made) t.dispose();
    }
  };
}

/**
 * Sum or mean over (batch, height, width) of a 4D tensor, as batch norm's
 * statistics and gradients take them: a full-window average pool per image,
 * then the small reduction over the batch.
 */
function reduceByPooling(original: KernelFunc, mean: boolean): KernelFunc {
  const viaPooling = opsKernelFunc(({ x }, attrs) => {
    const [batch, height, width, channels] = x.shape;
    const perImage = tf.reshape(tf.avgPool(x as tf.Tensor4D, [height, width], 1, 'valid'), [batch, channels]);
    const reduced = mean ? tf.mean(perImage, 0) : tf.mul(tf.sum(perImage, 0), height * width);
    return attrs.keepDims ? tf.reshape(reduced, [1, 1, 1, channels]) : reduced;
  });
  return (args) => {
    const x = args.inputs.x;
    const axes = normalizedAxes(args.attrs?.axis, x.shape.length);
    const spatial = x.shape.length === 4 && axes.length === 3 && axes.every((a, i) => a === i);
    return spatial && x.dtype === 'float32' ? viaPooling(args) : original(args);
  };
}

function normalizedAxes(axis: unknown, rank: number): number[] {
  const list = axis === undefined || axis === null ? [...Array(rank).keys()] : Array.isArray(axis) ? axis : [axis as number];
  return [...new Set(list.map((a: number) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
}

function isUnitStrideSame(attrs: Record<string, unknown>): boolean {
  const ones = (v: unknown) => (Array.isArray(v) ? v.every((s) => s === 1) : v === 1 || v === undefined);
  return ones(attrs.strides) && ones(attrs.dilations) && attrs.pad === 'same' && (attrs.dataFormat ?? 'NHWC') === 'NHWC';
}

/** Identity without a copy: one more reference to the same data. */
const identityByReference: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs;
  (backend as WasmBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

/** Copy x[begin .. begin + size) into a new tensor, view to view, one contiguous run at a time. */
function sliceOnHeap(backend: WasmBackend, x: TensorInfo, begin: number[], size: number[], outShape = size): TensorInfo {
  const out = backend.makeOutput(outShape, x.dtype);
  // Views after makeOutput: it may grow wasm memory and detach older ones.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  const strides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1] * x.shape[i + 1];
  // Dimensions after `d` are taken whole, so each step of the outer loop copies one run.
  let d = rank - 1;
  while (d > 0 && begin[d] === 0 && size[d] === x.shape[d]) d--;
  const run = size[d] * strides[d];
  const outer = size.slice(0, d);
  const count = outer.reduce((a, b) => a * b, 1);
  const index = new Array<number>(d).fill(0);
  for (let r = 0, o = 0; r < count; r++, o += run) {
    let from = begin[d] * strides[d];
    for (let j = 0; j < d; j++) from += (begin[j] + index[j]) * strides[j];
    dst.set(src.subarray(from, from + run), o);
    for (let j = d - 1; j >= 0; j--) {
      if (++index[j] < outer[j]) break;
      index[j] = 0;
    }
  }
  return out;
}

const sliceKernel: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x } = inputs;
  const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.TensorInfo, attrs!.begin as number[], attrs!.size as number[]);
  if (x.dtype === 'string' || size.some((s) => s === 0)) throw new Error('unreachable: replaced only for numeric, non-empty slices');
  return sliceOnHeap(backend as WasmBackend, x, begin, size);
};

const unpackKernel: KernelFunc = ({ inputs, attrs, backend }) => {
  const { value } = inputs;
  const rank = value.shape.length;
  const axis = ((attrs!.axis as number) + rank) % rank;
  const size = value.shape.slice();
  size[axis] = 1;
  const outShape = value.shape.filter((_, i) => i !== axis);
  return Array.from({ length: value.shape[axis] }, (_, i) => {
    const begin = new Array<number>(rank).fill(0);
    begin[axis] = i;
    return sliceOnHeap(backend as WasmBackend, value, begin, size, outShape);
  });
};

/** Replace (or add) a wasm kernel; `build` gets the backend's own one, if any. */
function replaceWasmKernel(kernelName: string, build: (original: KernelFunc | undefined) => KernelFunc): void {
  const existing = tf.getKernel(kernelName, 'wasm');
  const original = existing ? (existing.kernelFunc as unknown as KernelFunc) : undefined;
  if (existing) tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: build(original) } as unknown as tf.KernelConfig);
}

/**
 * tfjs-core's FusedBatchNorm gradient, but broadcasting the per-channel
 * factor instead of tiling it to the input's full size first: the tile alone
 * took 0.9 s per training step for block 1 on wasm.
 */
const batchNormGradient: tf.GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const { varianceEpsilon } = attrs as { varianceEpsilon: number };
    const [x, mean, variance, scale] = saved as tf.Tensor[];
    const g = dy as tf.Tensor;
    const scaleValue = scale ?? tf.scalar(1);
    const reductionAxes = mean.rank === 1 ? x.shape.map((_, i) => i).slice(0, -1) : [];
    const reduce = (t: tf.Tensor) => tf.reshape(reductionAxes.length > 0 ? tf.sum(t, reductionAxes) : t, mean.shape);
    const xMinusMean = tf.sub(x, mean);
    const dyTimesScale = tf.mul(g, scaleValue);
    const inverseStd = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    const minusHalfInverseCube = tf.mul(tf.mul(tf.mul(inverseStd, inverseStd), inverseStd), tf.scalar(-0.5));
    return {
      x: () => tf.reshape(tf.mul(tf.mul(g, inverseStd), scaleValue), x.shape),
      mean: () => reduce(tf.mul(tf.mul(inverseStd, tf.scalar(-1)), dyTimesScale)),
      variance: () => reduce(tf.mul(tf.mul(minusHalfInverseCube, xMinusMean), dyTimesScale)),
      scale: () => reduce(tf.mul(g, tf.mul(xMinusMean, inverseStd))),
      offset: () => reduce(g),
    };
  },
};

/** dy spread back over the reduced axes of x: dy (with the reduced axes kept) times ones the backend fills natively. */
function spreadGradient(kernelName: 'Sum' | 'Mean'): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as tf.Tensor[];
      const axes = normalizedAxes((attrs as { axis?: unknown }).axis, x.rank);
      const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      return {
        x: () => {
          const spread = tf.mul(tf.reshape(dy as tf.Tensor, kept), tf.fill(x.shape, 1));
          return kernelName === 'Sum'
            ? spread
            : tf.div(
                spread,
                axes.reduce((n, a) => n * x.shape[a], 1),
              );
        },
      };
    },
  };
}

let installed = false;

/** Make the wasm backend able to train AER-Net, and fast at it. Call once the backend is ready. */
export function installWasmTrainingKernels(): void {
  if (installed) return;
  installed = true;
  replaceWasmKernel('Conv2DBackpropFilter', () =>
    opsKernelFunc(({ x, dy }, attrs) => {
      if (!isUnitStrideSame(attrs)) throw new Error('Conv2DBackpropFilter on wasm supports stride 1, "same" padding and NHWC, which is what AER-Net uses');
      return conv2dFilterGradient(x as tf.Tensor4D, dy as tf.Tensor4D, attrs.filterShape as [number, number, number, number]);
    }),
  );
  replaceWasmKernel('Conv2DBackpropInput', (original) => {
    const fast = opsKernelFunc(({ dy, filter }) => conv2dInputGradient(dy as tf.Tensor4D, filter as tf.Tensor4D));
    return (args) => (isUnitStrideSame(args.attrs ?? {}) || !original ? fast(args) : original(args));
  });
  replaceWasmKernel('MaxPoolGrad', () =>
    opsKernelFunc(({ dy, input, output }, attrs) => {
      const window = attrs.filterSize as number | [number, number];
      const strides = attrs.strides as number | [number, number];
      const [kh, kw] = Array.isArray(window) ? window : [window, window];
      const [sh, sw] = Array.isArray(strides) ? strides : [strides, strides];
      if (kh !== kw || sh !== kh || sw !== kw || attrs.pad !== 'valid') {
        throw new Error('MaxPoolGrad on wasm supports square windows equal to their stride with "valid" padding, which is what AER-Net uses');
      }
      return maxPoolInputGradient(input as tf.Tensor4D, output as tf.Tensor4D, dy as tf.Tensor4D, kh);
    }),
  );
  replaceWasmKernel('Identity', () => identityByReference);
  replaceWasmKernel('Slice', (original) => (args) => {
    const { x } = args.inputs;
    const [, size] = tf.slice_util.parseSliceParams(x as unknown as tf.TensorInfo, args.attrs!.begin as number[], args.attrs!.size as number[]);
    return x.dtype === 'string' || size.some((s) => s === 0) ? original!(args) : sliceKernel(args);
  });
  replaceWasmKernel('Unpack', (original) => (args) => (args.inputs.value.dtype === 'string' ? original!(args) : unpackKernel(args)));
  replaceWasmKernel('Sum', (original) => reduceByPooling(original!, false));
  replaceWasmKernel('Mean', (original) => reduceByPooling(original!, true));
  replaceWasmKernel('BatchMatMul', (original) => untransposedMatMul(original!, true));
  // A fused bias or activation applies to the product as is, so it cannot be computed transposed.
  replaceWasmKernel('_FusedMatMul', (original) => untransposedMatMul(original!, false));
  tf.registerGradient(batchNormGradient);
  tf.registerGradient(spreadGradient('Sum'));
  tf.registerGradient(spreadGradient('Mean'));
}
