/** Made-up emotion events, for code that consumes a stream's events (segments, summaries). */
import type { EmotionMessage } from '../../clients/js/src/index.ts';

const LABELS = ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad'];

/** An event for window `seq` (3 s, a 0.5 s hop) with `label` at `score` (the rest shared out), or silence. */
export function emotionEvent(channel: number, seq: number, label: string | null, score = 0.8): EmotionMessage {
  const scores = label ? Object.fromEntries(LABELS.map((l) => [l, l === label ? score : (1 - score) / 5])) : null;
  return {
    type: 'emotion',
    channel,
    seq,
    start_s: seq * 0.5,
    end_s: seq * 0.5 + 3,
    speech: label !== null,
    label,
    confidence: label ? score : null,
    scores,
    smoothed: scores,
    latency_ms: 10,
  };
}
