/**
 * Training checkpoints: enough to resume an interrupted run exactly where it
 * stopped (weights, the best weights so far, Adam's moments and step count,
 * the loop's position and history). Written to a fresh folder and swapped in,
 * so an interruption while saving never leaves half a checkpoint.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { AerError } from '../errors.ts';
import type { PlateauState } from './callbacks.ts';
import type { TrainConfig } from './config.ts';

export const CHECKPOINT_FORMAT = 'aer-checkpoint-1';

export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
  learning_rate: number;
  seconds: number;
}

export interface TrainingState {
  format: typeof CHECKPOINT_FORMAT;
  config: TrainConfig;
  /** What the data was when the run started, to refuse resuming on other data. */
  dataFingerprint: string;
  /** The next epoch and step to run. */
  epoch: number;
  step: number;
  /** The current epoch's running totals, for a resume mid-epoch. */
  epochLoss: number;
  epochCorrect: number;
  epochSeen: number;
  learningRate: number;
  earlyStopping: PlateauState;
  lrPlateau: PlateauState;
  bestEpoch: number;
  history: EpochRecord[];
  elapsedSeconds: number;
  /** Adam's state: names and shapes of its tensors, values in optimizer.bin. */
  optimizer: { name: string; shape: number[] }[];
}

export interface Checkpoint {
  state: TrainingState;
  weights: Float32Array;
  best: Float32Array;
  optimizer: Float32Array;
}

const f32 = (bytes: Buffer) => new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));

export async function saveCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  const fresh = `${dir}.writing`;
  const old = `${dir}.old`;
  await fs.rm(fresh, { recursive: true, force: true });
  await fs.mkdir(fresh, { recursive: true });
  await fs.writeFile(path.join(fresh, 'weights.bin'), checkpoint.weights);
  await fs.writeFile(path.join(fresh, 'best.bin'), checkpoint.best);
  await fs.writeFile(path.join(fresh, 'optimizer.bin'), checkpoint.optimizer);
  await fs.writeFile(path.join(fresh, 'state.json'), `${JSON.stringify(checkpoint.state, null, 1)}\n`);
  await fs.rm(old, { recursive: true, force: true });
  await fs.rename(dir, old).catch(() => undefined);
  await fs.rename(fresh, dir);
  await fs.rm(old, { recursive: true, force: true });
}

export async function hasCheckpoint(dir: string): Promise<boolean> {
  return fs.access(path.join(dir, 'state.json')).then(
    () => true,
    () => false,
  );
}

export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const corrupt = (why: string) =>
    new AerError('invalid_checkpoint', `the checkpoint in ${dir} cannot be resumed: ${why}`, {
      hint: 'start the run again without --resume (the checkpoint is left as it is)',
    });
  let state: TrainingState;
  try {
    state = JSON.parse(await fs.readFile(path.join(dir, 'state.json'), 'utf8')) as TrainingState;
  } catch (error) {
    throw corrupt(`state.json is missing or not JSON (${(error as Error).message})`);
  }
  if (state.format !== CHECKPOINT_FORMAT) throw corrupt(`its format is ${JSON.stringify(state.format)}, not ${CHECKPOINT_FORMAT}`);
  // A plateau with no epoch seen yet has a best loss of Infinity, which JSON writes as null; read back as null it compares as 0 and never improves.
  for (const plateau of [state.earlyStopping, state.lrPlateau]) plateau.best ??= Number.POSITIVE_INFINITY;
  const read = async (name: string) => {
    try {
      return f32(await fs.readFile(path.join(dir, name)));
    } catch {
      throw corrupt(`${name} is missing`);
    }
  };
  const checkpoint = { state, weights: await read('weights.bin'), best: await read('best.bin'), optimizer: await read('optimizer.bin') };
  const optimizerValues = state.optimizer.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  if (checkpoint.weights.length !== checkpoint.best.length || checkpoint.optimizer.length !== optimizerValues) {
    throw corrupt('its weight files do not match each other or its state (truncated?)');
  }
  return checkpoint;
}
