import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clip } from '../../src/train/datasets/clip.ts';
import { overlapNote, trainedSpeakerOverlap } from '../../src/train/trained-speakers.ts';

const clip = (speaker: string): Clip => ({ path: `/d/${speaker}.wav`, label: 'angry', speaker, corpus: speaker.split(':')[0] });
const training = (speakers: unknown) => ({ split: { kind: 'speaker', train: { clips: 10, speakers }, validation: { clips: 2, speakers: ['emodb:09'] } } });

describe('clips from speakers a model trained on', () => {
  it('counts them and names their speakers; validation speakers are not training speakers', () => {
    const clips = ['emodb:03', 'emodb:03', 'emodb:09', 'emodb:14', 'cremad:03'].map(clip);
    assert.deepEqual(trainedSpeakerOverlap(clips, training(['emodb:03', 'emodb:14'])), { clips: 3, speakers: ['emodb:03', 'emodb:14'] });
    assert.match(
      overlapNote({ clips: 3, speakers: ['emodb:03', 'emodb:14'] }, 5) ?? '',
      /^3 of 5 clips are from speakers the model was trained on \(emodb:03, emodb:14\): .*not its accuracy on new speakers/,
    );
  });

  it('claims none for unknown speakers, new speakers, or a model without the record', () => {
    assert.deepEqual(trainedSpeakerOverlap([clip('folders:unknown')], training(['folders:unknown'])), { clips: 0, speakers: [] });
    assert.deepEqual(trainedSpeakerOverlap([clip('emodb:09')], training(['emodb:03'])), { clips: 0, speakers: [] });
    assert.deepEqual(trainedSpeakerOverlap([clip('emodb:03')], {}), { clips: 0, speakers: [] });
    assert.equal(overlapNote({ clips: 0, speakers: [] }, 1), undefined);
  });
});
