/**
 * The onnx engine: onnxruntime-node on the model's model.int8.onnx on the
 * CPU when it is there (1.4x the throughput of fp32, the same label on 99 %+
 * of windows), else model.onnx (CPU here; CUDA where its provider binaries
 * are installed, see docs/serving.md). A missing or stale model.onnx (exported
 * from other weights) is exported again in memory from model.json, and the
 * engine says so; a stale model.int8.onnx cannot be (it needs calibration
 * data), so fp32 runs and the engine says so. TF.js is loaded only for that
 * export: serving a current graph reads aer.json and the graph alone.
 */
import { existsSync, readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { AerError } from '../errors.ts';
import { N_MELS, WINDOW_FRAMES } from '../features/recipe.ts';
import type { LoadedModel } from '../model/model-dir.ts';
import { type AerMetadata, ONNX_FILE, weightsDigest } from '../model/model-files.ts';
import type { Engine, Precision, Prediction } from './engine.ts';
import { INT8_FILE, INT8_SESSION_OPTIONS } from './int8-session.ts';

/** A model directory to serve: its checked aer.json, and the TF.js model when a graph must be exported from it (loaded on demand). */
export interface ModelSource {
  dir: string;
  metadata: AerMetadata;
  model(): Promise<LoadedModel>;
}

/** Whether onnxruntime-node's CUDA provider library was installed (ONNXRUNTIME_NODE_INSTALL=cuda12, see docs/serving.md). */
export function cudaProviderInstalled(): boolean {
  const root = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const bin = path.join(root, 'bin');
  const napi = existsSync(bin) ? readdirSync(bin).filter((d) => d.startsWith('napi-v')) : [];
  return napi.some((d) => existsSync(path.join(bin, d, process.platform, process.arch, 'libonnxruntime_providers_cuda.so')));
}

export interface OnnxEngineOptions {
  /** int8: model.int8.onnx (made by aer export-onnx --int8); auto: it when present and current, on the CPU; else fp32. */
  precision?: Precision;
  /** Threads for one inference (onnxruntime's intra-op pool); 0: onnxruntime's default, one per core. */
  threads?: number;
  /** Try the CUDA provider first when it is installed (falls back to the CPU when it cannot load). */
  cuda?: boolean;
  /** Told when model.onnx had to be exported again. */
  onNotice?: (message: string) => void;
}

/** An exported graph in the model directory when it was exported from these weights; else why not. */
async function currentGraph(file: string, digest: string): Promise<{ bytes?: Uint8Array; why: string; missing?: boolean }> {
  const onDisk = await fs.readFile(file).catch(() => undefined);
  if (!onDisk) return { why: `${file} is missing`, missing: true };
  try {
    const props = onnxProto.onnx.ModelProto.decode(onDisk).metadataProps ?? [];
    if (props.find((p) => p.key === 'weights_sha256')?.value === digest) return { bytes: onDisk, why: '' };
    return { why: `${file} was exported from other weights` };
  } catch {
    return { why: `${file} is corrupt` };
  }
}

/** model.onnx when current, else a fresh export and why. */
async function onnxBytes(source: ModelSource, digest: string): Promise<{ bytes: Uint8Array; notice?: string }> {
  const { bytes, why } = await currentGraph(path.join(source.dir, ONNX_FILE), digest);
  if (bytes) return { bytes };
  const loaded = await source.model();
  const { exportOnnx, onnxMetadata } = await import('./onnx-export/export.ts');
  return {
    bytes: exportOnnx(loaded.model, onnxMetadata(loaded, digest)),
    notice: `${why}; exported it again in memory (run aer export-onnx --model ${source.dir} to save it)`,
  };
}

/** The graph to run, by the precision asked for: int8 only from a current model.int8.onnx (it needs calibration data to make). */
export async function graphBytes(
  source: ModelSource,
  precision: Precision,
  onCpu: boolean,
  onNotice?: (message: string) => void,
): Promise<{ bytes: Uint8Array; int8: boolean }> {
  const digest = await weightsDigest(source.dir);
  if (precision === 'int8' || (precision === 'auto' && onCpu)) {
    const { bytes, why, missing } = await currentGraph(path.join(source.dir, INT8_FILE), digest);
    if (bytes) return { bytes, int8: true };
    if (precision === 'int8') {
      throw new AerError('invalid_model', `--precision int8: ${why}`, {
        hint: `run aer export-onnx --model ${source.dir} --int8 --calibration DATA, or serve with --precision fp32`,
      });
    }
    if (!missing) onNotice?.(`${why}; running fp32 (aer export-onnx --int8 makes it again)`);
  }
  const fp32 = await onnxBytes(source, digest);
  if (fp32.notice) onNotice?.(fp32.notice);
  return { bytes: fp32.bytes, int8: false };
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

  static async load(source: ModelSource, options: OnnxEngineOptions = {}): Promise<OnnxEngine> {
    const cuda = options.cuda === true && cudaProviderInstalled();
    const { bytes, int8 } = await graphBytes(source, options.precision ?? 'auto', !cuda, options.onNotice);
    const base: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
      // onnxruntime's threads spin between batches by default, on the cores the pipeline's main thread needs: without it the
      // server takes a quarter less CPU at the same load, and its p99 latency is no worse (bench/load, docs/performance.md).
      extra: { ...(int8 ? INT8_SESSION_OPTIONS.extra : {}), session: { intra_op: { allow_spinning: '0' } } },
    };
    let provider = 'cpu';
    let session: ort.InferenceSession | undefined;
    if (cuda) {
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
      throw new AerError('invalid_model', `onnxruntime cannot load the model of ${source.dir}: ${(error as Error).message}`, {
        hint: 'export it again with aer export-onnx, or serve with --engine tfjs',
      });
    }
    return new OnnxEngine(session, `onnxruntime-node ${ort.env.versions.node}, ${provider}, ${int8 ? 'int8' : 'fp32'}`, source.metadata);
  }

  async predict(windows: Float32Array, batch: number): Promise<Prediction> {
    const out = await this.session.run({ features: new ort.Tensor('float32', windows, [batch, WINDOW_FRAMES, N_MELS, 1]) });
    return { probabilities: out.probabilities.data as Float32Array, attention: out.attention.data as Float32Array };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
