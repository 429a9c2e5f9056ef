/**
 * A voice assistant's hook on the smoothed emotion stream:
 *
 *   onEmotion(session, { label: 'angry', minConfidence: 0.6, forMs: 2000 }, (e) => assistant.softenTone());
 *
 * fires once when a channel's smoothed score for the label (or any of the
 * labels) has stayed at or above minConfidence for forMs of audio, and
 * arms again only after the score has fallen below it (so one angry
 * stretch is one callback). Time is the audio's, not the wall clock's:
 * a file streamed fast fires at the same moments as one streamed live.
 */
import type { Observable } from 'rxjs';
import type { EmotionMessage } from '../../js/src/index.ts';

export interface EmotionCondition {
  label: string | string[];
  minConfidence: number;
  forMs: number;
  /** One channel only (default: every channel, each on its own). */
  channel?: number;
}

export interface EmotionFired {
  label: string;
  channel: number;
  /** The smoothed score at the moment it fired. */
  confidence: number;
  /** When the score first reached minConfidence, and when it had held for forMs (seconds of audio). */
  since_s: number;
  at_s: number;
}

/** Returns the function that removes the hook. */
export function onEmotion(source: { emotions$: Observable<EmotionMessage> }, condition: EmotionCondition, callback: (fired: EmotionFired) => void): () => void {
  const labels = Array.isArray(condition.label) ? condition.label : [condition.label];
  /** Per channel and label: when the score reached the threshold, and whether it already fired in this stretch. */
  const state = new Map<string, { since: number; fired: boolean }>();
  const subscription = source.emotions$.subscribe((e) => {
    if (condition.channel !== undefined && e.channel !== condition.channel) return;
    const scores = e.smoothed ?? e.scores;
    for (const label of labels) {
      const key = `${e.channel}:${label}`;
      const score = e.speech && scores ? (scores[label] ?? 0) : 0;
      if (score < condition.minConfidence) {
        state.delete(key);
        continue;
      }
      // A stretch starts at the end of the first window at or over the threshold: when that level was first heard.
      const current = state.get(key) ?? { since: e.end_s, fired: false };
      state.set(key, current);
      if (!current.fired && (e.end_s - current.since) * 1000 >= condition.forMs) {
        current.fired = true;
        callback({ label, channel: e.channel, confidence: score, since_s: current.since, at_s: e.end_s });
      }
    }
  });
  return () => subscription.unsubscribe();
}
