import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ServerMessage } from '../../src/protocol/wire.ts';
import { StreamSummary } from '../../src/stream/summary.ts';
import { emotionEvent } from '../helpers/events.ts';

describe('a stream summary', () => {
  test('each speech window counts the audio it added, so the times tile the speech; silence, labels and changes per channel', () => {
    const summary = new StreamSummary(2);
    const messages: ServerMessage[] = [
      emotionEvent(0, 0, 'neutral'), // 3 s: the first window's whole span
      emotionEvent(0, 1, 'neutral'), // + 0.5
      emotionEvent(1, 0, null),
      emotionEvent(0, 2, 'angry'), // + 0.5
      { type: 'change', channel: 0, from: 'neutral', to: 'angry', at_s: 4, confidence: 0.8 },
      { type: 'change', channel: 1, from: null, to: 'sad', at_s: 3, confidence: 0.8 },
      emotionEvent(0, 3, null), // silence: its 0.5 s not speech
      emotionEvent(0, 4, 'angry'), // + 0.5
      emotionEvent(1, 1, 'sad'), // + 0.5 after a silent window
    ];
    for (const m of messages) summary.add(m);
    const [a, b] = summary.result();
    assert.deepEqual(a, { channel: 0, speech_s: 4.5, by_label: { neutral: 3.5, angry: 1 }, dominant: 'neutral', changes: 1, windows: 5, speech_windows: 4 });
    assert.deepEqual(b, { channel: 1, speech_s: 0.5, by_label: { sad: 0.5 }, dominant: 'sad', changes: 0, windows: 2, speech_windows: 1 });
    assert.deepEqual(new StreamSummary(1).result(), [{ channel: 0, speech_s: 0, by_label: {}, dominant: null, changes: 0, windows: 0, speech_windows: 0 }]);
  });
});
