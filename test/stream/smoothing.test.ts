import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChannelSmoother, DEFAULT_SMOOTHING } from '../../src/stream/smoothing.ts';

const labels = ['angry', 'neutral', 'sad'];
const scores = (a: number, n: number, s: number) => Float32Array.from([a, n, s]);

/** Feeds windows every `hop` seconds; returns the changes as "from>to@t". */
function run(smoother: ChannelSmoother, windows: Float32Array[], hop = 0.5): string[] {
  return windows.flatMap((w, i) => {
    const { change } = smoother.update(w, 3 + i * hop, hop);
    return change ? [`${change.from}>${change.to}@${change.atS}`] : [];
  });
}

describe('smoothing and change detection', () => {
  test('the EMA weight follows from the time constant and the hop', () => {
    const smoother = new ChannelSmoother(labels, { ...DEFAULT_SMOOTHING, tauS: 1 });
    smoother.update(scores(1, 0, 0), 3, 0.5);
    const { smoothed } = smoother.update(scores(0, 1, 0), 3.5, 0.5);
    const alpha = 1 - Math.exp(-0.5);
    assert.ok(Math.abs(smoothed[0] - (1 - alpha)) < 1e-6);
    assert.ok(Math.abs(smoothed[1] - alpha) < 1e-6);
  });

  test('the first speech sets the label; a one-window flicker is not a change; a held lead is', () => {
    const smoother = new ChannelSmoother(labels, { kind: 'none', tauS: 1, margin: 0.1, holdS: 1 });
    const neutral = scores(0.1, 0.8, 0.1);
    const angry = scores(0.8, 0.1, 0.1);
    assert.deepEqual(run(smoother, [neutral, angry, neutral, neutral, angry, angry, angry, neutral]), ['null>neutral@3', 'neutral>angry@5.5']);
    assert.equal(smoother.label, 'angry');
  });

  test('a lead smaller than the margin never changes the label', () => {
    const smoother = new ChannelSmoother(labels, { kind: 'none', tauS: 1, margin: 0.2, holdS: 0.5 });
    assert.deepEqual(run(smoother, [scores(0.2, 0.5, 0.3), ...Array.from({ length: 10 }, () => scores(0.2, 0.35, 0.45))]), ['null>neutral@3']);
  });

  test('with EMA, a sustained new emotion takes over after the scores cross and the hold passes', () => {
    const smoother = new ChannelSmoother(labels, DEFAULT_SMOOTHING);
    const changes = run(smoother, [...Array.from({ length: 6 }, () => scores(0.1, 0.1, 0.8)), ...Array.from({ length: 12 }, () => scores(0.85, 0.1, 0.05))]);
    assert.equal(changes.length, 2);
    assert.match(changes[1], /^sad>angry@/);
    const at = Number(changes[1].split('@')[1]);
    assert.ok(at >= 6 + 1 && at <= 8, `changed at ${at}`);
  });
});
