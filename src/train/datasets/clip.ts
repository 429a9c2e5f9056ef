/** What a dataset loader finds: labelled clips, and what it skipped and why. */
import type { Label } from '../labels.ts';

export interface Clip {
  /** Absolute path of the audio file. */
  path: string;
  label: Label;
  /** Speaker id, prefixed with the corpus so ids from different corpora never collide. */
  speaker: string;
  corpus: string;
}

export interface DatasetScan {
  corpus: string;
  root: string;
  clips: Clip[];
  /** Files not used, by reason ("boredom (not one of the six labels)", "not a corpus file name", ...). */
  skipped: Record<string, number>;
}

/** A corpus's reading of one file name: a clip, or why the file is skipped. */
export type NameReading = { label: Label; speaker: string } | { skip: string };

/** The distinct speakers of some clips, sorted: how reports and aer.json list them. */
export function speakersOf(clips: readonly { speaker: string }[]): string[] {
  return [...new Set(clips.map((c) => c.speaker))].sort();
}

export function countSkip(skipped: Record<string, number>, reason: string): void {
  skipped[reason] = (skipped[reason] ?? 0) + 1;
}
