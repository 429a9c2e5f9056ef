/**
 * Which TF.js backend runs the model: TensorFlow's native library when
 * @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node is installed (a GPU
 * host's image installs them; they cannot be installed here, as they
 * download libtensorflow), else the wasm backend (with the training kernels
 * when training), else the plain JavaScript cpu backend.
 */
import { AerError } from '../errors.ts';

export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export interface SelectedBackend {
  name: 'tensorflow' | 'wasm' | 'cpu';
  /** What was loaded, or why something else was not, for people. */
  detail: string;
}

async function loadNative(): Promise<string | undefined> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      return pkg;
    } catch {
      // Not installed, or installed without its native library: try the next.
    }
  }
  return undefined;
}

/** Select and initialise the backend in this thread. */
export async function selectBackend(choice: BackendChoice = 'auto', options: { training?: boolean } = {}): Promise<SelectedBackend> {
  // Loaded here, not at the top: the CLI reads BACKENDS for its flags without paying for TF.js.
  const tf = await import('@tensorflow/tfjs');
  // Production mode: no debug checks, and no console advice to install tfjs-node.
  tf.env().set('PROD', true);
  if (choice === 'auto' || choice === 'tensorflow') {
    const pkg = await loadNative();
    if (pkg && (await tf.setBackend('tensorflow'))) return { name: 'tensorflow', detail: `${pkg} (native TensorFlow)` };
    if (choice === 'tensorflow') {
      throw new AerError(
        'invalid_argument',
        'the tensorflow backend needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu, which is not installed or cannot load',
        {
          hint: 'on a host that can download libtensorflow: npm install @tensorflow/tfjs-node-gpu@4.22.0 (or tfjs-node); or use --backend wasm',
        },
      );
    }
  }
  if (choice === 'auto' || choice === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    const before = { exception: process.listeners('uncaughtException'), rejection: process.listeners('unhandledRejection') };
    const ok = await tf.setBackend('wasm');
    await tf.ready();
    // The wasm module's runtime rethrows every uncaught error from its own (minified, megabyte-long) source line; let Node report them.
    for (const l of process.listeners('uncaughtException')) if (!before.exception.includes(l)) process.removeListener('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection')) if (!before.rejection.includes(l)) process.removeListener('unhandledRejection', l);
    if (ok) {
      if (options.training) (await import('./wasm-kernels.ts')).installWasmTrainingKernels();
      return { name: 'wasm', detail: '@tensorflow/tfjs-backend-wasm (XNNPACK, SIMD)' };
    }
    if (choice === 'wasm') throw new AerError('invalid_argument', 'the wasm backend could not start in this runtime');
  }
  await tf.setBackend('cpu');
  return { name: 'cpu', detail: '@tensorflow/tfjs-backend-cpu (plain JavaScript, slow)' };
}
