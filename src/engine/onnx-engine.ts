/**
 * The onnx engine: onnxruntime-node on the model's model.onnx (CPU here;
 * CUDA where its provider binaries are installed, see the README). A missing
 * or stale model.onnx (exported from other weights) is exported again in
 * memory from model.json, and the engine says so.
 */
import { existsSync, readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { AerError } from '../errors.ts';
import { N_MELS, WINDOW_FRAMES } from '../features/recipe.ts';
import { type AerMetadata, type LoadedModel, weightsDigest } from '../model/model-dir.ts';
import type { Engine, Prediction } from './engine.ts';
import { exportOnnx, ONNX_FILE, onnxMetadata } from './onnx-export/export.ts';

/** Whether onnxruntime-node's CUDA provider library was installed (ONNXRUNTIME_NODE_INSTALL=cuda12, see the README). */
export function cudaProviderInstalled(): boolean {
  const root = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const bin = path.join(root, 'bin');
  const napi = existsSync(bin) ? readdirSync(bin).filter((d) => d.startsWith('napi-v')) : [];
  return napi.some((d) => existsSync(path.join(bin, d, process.platform, process.arch, 'libonnxruntime_providers_cuda.so')));
}

export interface OnnxEngineOptions {
  /** Threads for one inference (onnxruntime's intra-op pool); 0: onnxruntime's default, one per core. */
  threads?: number;
  /** Try the CUDA provider first when it is installed (falls back to the CPU when it cannot load). */
  cuda?: boolean;
  /** Told when model.onnx had to be exported again. */
  onNotice?: (message: string) => void;
}

/** model.onnx when it was exported from these weights, else a fresh export and why. */
async function onnxBytes(loaded: LoadedModel, digest: string): Promise<{ bytes: Uint8Array; notice?: string }> {
  const file = path.join(loaded.dir, ONNX_FILE);
  const onDisk = await fs.readFile(file).catch(() => undefined);
  let why = `${file} is missing`;
  if (onDisk) {
    try {
      const props = onnxProto.onnx.ModelProto.decode(onDisk).metadataProps ?? [];
      if (props.find((p) => p.key === 'weights_sha256')?.value === digest) return { bytes: onDisk };
      why = `${file} was exported from other weights`;
    } catch {
      why = `${file} is corrupt`;
    }
  }
  return { bytes: exportOnnx(loaded.model, onnxMetadata(loaded, digest)), notice: `${why}; exported it again in memory (run aer export-onnx --model ${loaded.dir} to save it)` };
}

export class OnnxEngine implements Engine {
  readonly name = 'onnx';

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly detail: string,
    readonly metadata: AerMetadata,
  ) {
    this.labels = metadata.labels;
    this.attentionSteps = metadata.attention_steps;
  }

  readonly labels: string[];
  readonly attentionSteps: number;

  static async load(loaded: LoadedModel, options: OnnxEngineOptions = {}): Promise<OnnxEngine> {
    const { bytes, notice } = await onnxBytes(loaded, await weightsDigest(loaded.dir));
    if (notice) options.onNotice?.(notice);
    const base: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'all', ...(options.threads ? { intraOpNumThreads: options.threads } : {}) };
    let provider = 'cpu';
    let session: ort.InferenceSession | undefined;
    if (options.cuda && cudaProviderInstalled()) {
      try {
        session = await ort.InferenceSession.create(bytes, { ...base, executionProviders: ['cuda', 'cpu'] });
        provider = 'cuda';
      } catch (error) {
        options.onNotice?.(`the CUDA provider could not load (${(error as Error).message.split('\n')[0]}); running on the CPU`);
      }
    }
    try {
      session ??= await ort.InferenceSession.create(bytes, { ...base, executionProviders: ['cpu'] });
    } catch (error) {
      throw new AerError('invalid_model', `onnxruntime cannot load the model of ${loaded.dir}: ${(error as Error).message}`, { hint: 'export it again with aer export-onnx, or serve with --engine tfjs' });
    }
    return new OnnxEngine(session, `onnxruntime-node ${ort.env.versions.node}, ${provider}`, loaded.metadata);
  }

  async predict(windows: Float32Array, batch: number): Promise<Prediction> {
    const out = await this.session.run({ features: new ort.Tensor('float32', windows, [batch, WINDOW_FRAMES, N_MELS, 1]) });
    return { probabilities: out.probabilities.data as Float32Array, attention: out.attention.data as Float32Array };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
