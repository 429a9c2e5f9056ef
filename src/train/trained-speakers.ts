/**
 * Which clips of an evaluation come from speakers a model was trained on.
 * Their score measures how well it fits voices it has heard, not how it
 * does on new ones (the service's case), so `aer eval` says so rather than
 * let, say, the default model's 100 % on its own EmoDB pass for accuracy.
 */
import { type Clip, speakersOf } from './datasets/clip.ts';

export interface TrainedSpeakerOverlap {
  /** Evaluated clips whose speaker was in the model's training side. */
  clips: number;
  /** Those speakers, sorted. */
  speakers: string[];
}

/** Speakers of the training side as `aer.json` records them (`training.split.train.speakers`); none for a model without that record. */
function trainedSpeakers(training: Record<string, unknown>): Set<string> {
  const split = training.split as { train?: { speakers?: unknown } } | undefined;
  const speakers = split?.train?.speakers;
  if (!Array.isArray(speakers)) return new Set();
  // A label folder without speaker folders reads as speaker "unknown": matching it would claim an overlap nobody knows.
  return new Set(speakers.filter((s): s is string => typeof s === 'string' && !s.endsWith(':unknown')));
}

export function trainedSpeakerOverlap(clips: readonly Clip[], training: Record<string, unknown>): TrainedSpeakerOverlap {
  const trained = trainedSpeakers(training);
  const seen = clips.filter((c) => trained.has(c.speaker));
  return { clips: seen.length, speakers: speakersOf(seen) };
}

/** The sentence for the text summary and the report, or none when every clip is from a new speaker. */
export function overlapNote(overlap: TrainedSpeakerOverlap, total: number): string | undefined {
  if (overlap.clips === 0) return undefined;
  return `${overlap.clips} of ${total} clips are from speakers the model was trained on (${overlap.speakers.join(', ')}): on them this measures its fit, not its accuracy on new speakers; aer.json's metrics and the model's README give held-out figures`;
}
