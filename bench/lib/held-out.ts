/**
 * What the accuracy benches start from: a model and clips of speakers it
 * never heard. A folder that cannot be read, or test speakers the model was
 * trained on, end the bench with one line and exit 2.
 */
import { isAerError } from '../../src/errors.ts';
import { selectBackend } from '../../src/model/backend.ts';
import { loadModelDir } from '../../src/model/model-dir.ts';
import type { LoadedClip } from '../../src/train/clip-store.ts';
import { prepareData } from '../../src/train/data.ts';
import { trainedSpeakerOverlap } from '../../src/train/trained-speakers.ts';

function refuse(error: unknown): never {
  if (!isAerError(error)) throw error;
  process.stderr.write(`${error.describe()}\n`);
  process.exit(2);
}

export async function heldOut(
  modelDir: string,
  dataDir: string,
): Promise<{ loaded: Awaited<ReturnType<typeof loadModelDir>>; labels: string[]; test: LoadedClip[] }> {
  await selectBackend('auto');
  const loaded = await loadModelDir(modelDir).catch(refuse);
  const labels = loaded.metadata.labels;
  const test = (await prepareData([dataDir], undefined, {}).catch(refuse)).clips.filter((c) => labels.includes(c.label));
  const overlap = trainedSpeakerOverlap(test, loaded.metadata.training);
  if (overlap.clips > 0) {
    process.stderr.write(`the model was trained on ${overlap.speakers.join(', ')}: measure it on speakers it has not heard\n`);
    process.exit(2);
  }
  return { loaded, labels, test };
}
