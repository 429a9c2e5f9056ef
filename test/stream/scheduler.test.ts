/**
 * The scheduler on virtual time: its clock and its timers are the test's,
 * so waits, staleness and batch timing are exact whatever the machine's load.
 */
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import type { Engine, Prediction } from '../../src/engine/engine.ts';
import { WINDOW_VALUES } from '../../src/features/recipe.ts';
import { Scheduler, type SchedulerOptions, type WindowOutcome } from '../../src/stream/scheduler.ts';

/** An engine whose probabilities echo each window's first value (id / 100 and the rest), that can be held and made to fail. */
class FakeEngine implements Pick<Engine, 'predict'> {
  batches: number[][] = [];
  failNext = false;
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => {};

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open();
    this.gate = Promise.resolve();
  }
  async predict(windows: Float32Array, batch: number): Promise<Prediction> {
    const ids = Array.from({ length: batch }, (_, i) => windows[i * WINDOW_VALUES]);
    this.batches.push(ids);
    await this.gate;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('engine failed');
    }
    return { probabilities: Float32Array.from(ids.flatMap((id) => [id / 100, 1 - id / 100])), attention: Float32Array.from(ids.flatMap((id) => [id, id])) };
  }
}

const windowOf = (id: number) => {
  const w = new Float32Array(WINDOW_VALUES);
  w[0] = id;
  return w;
};

/** Virtual time: `now` is the scheduler's clock; `advance` moves it and fires the timers due, then lets promises settle. */
function virtualTime(t: TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let clock = 1000;
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  const advance = async (ms: number) => {
    for (let i = 0; i < ms; i++) {
      clock += 1;
      t.mock.timers.tick(1);
      await settle();
    }
  };
  return { now: () => clock, advance, settle };
}

/** Runs virtual time until the scheduler has nothing queued or running. */
async function finish(scheduler: Scheduler, time: ReturnType<typeof virtualTime>): Promise<void> {
  let idle = false;
  void scheduler.drain().then(() => (idle = true));
  for (let ms = 0; ms < 1000 && !idle; ms++) await time.advance(1);
  assert.ok(idle, 'the scheduler did not finish within 1 s of virtual time');
}

function setup(t: TestContext, options: Partial<SchedulerOptions>) {
  const time = virtualTime(t);
  const engine = new FakeEngine();
  const shed: string[] = [];
  const scheduler = new Scheduler(engine, { maxDelayMs: 5, ...options }, { shed: (n, reason) => shed.push(`${n} ${reason}`) }, time.now);
  const outcomes = new Map<number, WindowOutcome>();
  const submit = (stream: string, id: number) => scheduler.submit({ stream, features: windowOf(id), done: (o) => outcomes.set(id, o) });
  return { engine, scheduler, outcomes, submit, shed, time, finish: () => finish(scheduler, time) };
}

describe('scheduler', () => {
  test('a batch goes when maxBatch windows wait; each window gets its own row', async (t) => {
    const { engine, outcomes, submit, finish } = setup(t, { maxBatch: 4, maxDelayMs: 10_000, maxPerStream: 100 });
    for (let i = 1; i <= 8; i++) submit(`s${i}`, i);
    await finish();
    assert.deepEqual(engine.batches, [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    const o = outcomes.get(6)!;
    assert.equal(o.kind, 'result');
    if (o.kind === 'result') {
      assert.deepEqual([...o.probabilities], [...Float32Array.of(0.06, 0.94)]);
      assert.deepEqual([...o.attention], [6, 6]);
      assert.equal(o.batchSize, 4);
    }
  });

  test('a window served as two spans is two rows of the batch; its answer is their mean, and a window of three rows is refused', async (t) => {
    const { engine, scheduler, outcomes, submit, finish } = setup(t, { maxBatch: 2, maxDelayMs: 10_000 });
    const spans = new Float32Array(2 * WINDOW_VALUES);
    spans.set(windowOf(10));
    spans.set(windowOf(30), WINDOW_VALUES);
    scheduler.submit({ stream: 'spans', features: spans, done: (o) => outcomes.set(20, o) });
    submit('whole', 7);
    await finish();
    assert.deepEqual(engine.batches, [[10, 30, 7]]);
    const mean = outcomes.get(20)!;
    const alone = outcomes.get(7)!;
    assert.ok(mean.kind === 'result' && alone.kind === 'result');
    assert.ok(Math.abs(mean.probabilities[0] - 0.2) < 1e-6 && Math.abs(mean.probabilities[1] - 0.8) < 1e-6, `${mean.probabilities}`);
    assert.deepEqual([...mean.attention], [20, 20]);
    assert.equal(mean.batchSize, 3);
    assert.deepEqual([...alone.probabilities], [...Float32Array.of(0.07, 0.93)]);
    assert.throws(() => scheduler.submit({ stream: 'x', features: new Float32Array(3 * WINDOW_VALUES), done: () => {} }), /one or two rows/);
  });

  test('a lone window goes after maxDelayMs', async (t) => {
    const { engine, outcomes, submit, time, finish } = setup(t, { maxBatch: 32, maxDelayMs: 30 });
    submit('a', 1);
    await time.advance(29);
    assert.deepEqual(engine.batches, []);
    await time.advance(1);
    assert.deepEqual(engine.batches, [[1]]);
    await finish();
    assert.equal(outcomes.get(1)!.kind, 'result');
  });

  test('fair: streams take turns, so a busy stream does not starve a quiet one', async (t) => {
    const { engine, submit, time, finish } = setup(t, { maxBatch: 4, maxPerStream: 100 });
    engine.hold();
    submit('busy', 0);
    await time.advance(15);
    for (let i = 1; i <= 6; i++) submit('busy', i);
    submit('quiet', 100);
    submit('quiet', 101);
    engine.release();
    await finish();
    assert.deepEqual(engine.batches[1], [1, 100, 2, 101]);
  });

  test('overload: a stream is coalesced to its newest windows and told', async (t) => {
    const { engine, outcomes, submit, shed, time, finish } = setup(t, { maxBatch: 8, maxPerStream: 2 });
    engine.hold();
    submit('a', 0);
    await time.advance(15);
    for (let i = 1; i <= 5; i++) submit('a', i);
    engine.release();
    await finish();
    assert.deepEqual(engine.batches, [[0], [4, 5]]);
    for (const id of [1, 2, 3]) assert.deepEqual(outcomes.get(id), { kind: 'shed', reason: 'coalesced' });
    assert.deepEqual(shed, ['1 coalesced', '1 coalesced', '1 coalesced']);
  });

  test("windows that waited past staleMs are shed, except each stream's newest", async (t) => {
    const { engine, outcomes, submit, time, finish } = setup(t, { maxBatch: 8, maxPerStream: 10, staleMs: 20 });
    engine.hold();
    submit('a', 0);
    await time.advance(10);
    submit('a', 1);
    submit('a', 2);
    submit('b', 3);
    await time.advance(40);
    submit('a', 4);
    engine.release();
    await finish();
    assert.deepEqual(engine.batches, [[0], [3, 4]]);
    assert.deepEqual(outcomes.get(1), { kind: 'shed', reason: 'stale' });
    assert.equal(outcomes.get(3)!.kind, 'result');
  });

  test("staleness counts from the audio's arrival: a window delayed before the queue is shed, the newest kept", async (t) => {
    const { engine, scheduler, outcomes, time, finish } = setup(t, { maxBatch: 8, maxPerStream: 10, staleMs: 100 });
    const submit = (id: number, receivedAt: number) => scheduler.submit({ stream: 'a', features: windowOf(id), receivedAt, done: (o) => outcomes.set(id, o) });
    const now = time.now();
    submit(1, now - 300);
    submit(2, now - 250);
    submit(3, now);
    await finish();
    assert.deepEqual(engine.batches, [[3]]);
    assert.deepEqual(outcomes.get(1), { kind: 'shed', reason: 'stale' });
    assert.deepEqual(outcomes.get(2), { kind: 'shed', reason: 'stale' });
  });

  test('a full queue sheds the oldest window of the longest stream', async (t) => {
    const { engine, scheduler, outcomes, submit, time, finish } = setup(t, { maxBatch: 8, maxPerStream: 10, maxQueue: 3 });
    engine.hold();
    submit('x', 0);
    await time.advance(15);
    // b is queued first, so a choice by queue order would take b's window; a is the longest.
    submit('b', 1);
    submit('a', 2);
    submit('a', 3);
    submit('a', 4);
    engine.release();
    await finish();
    assert.deepEqual(outcomes.get(2), { kind: 'shed', reason: 'queue_full' });
    assert.deepEqual(
      [1, 3, 4].map((k) => outcomes.get(k)?.kind),
      ['result', 'result', 'result'],
    );
    assert.equal(scheduler.depth, 0);
  });

  test('an engine error fails that batch only; the next batch runs', async (t) => {
    const { engine, outcomes, submit, finish } = setup(t, { maxBatch: 2 });
    engine.failNext = true;
    submit('a', 1);
    submit('b', 2);
    await finish();
    submit('a', 3);
    await finish();
    assert.equal(outcomes.get(1)!.kind, 'error');
    assert.equal(outcomes.get(2)!.kind, 'error');
    assert.equal(outcomes.get(3)!.kind, 'result');
  });

  test("cancel drops a closed stream's queued windows", async (t) => {
    const { engine, scheduler, outcomes, submit, time, finish } = setup(t, { maxBatch: 8, maxPerStream: 10 });
    engine.hold();
    submit('a', 0);
    await time.advance(15);
    submit('a', 1);
    submit('b', 2);
    scheduler.cancel('a');
    engine.release();
    await finish();
    assert.deepEqual(engine.batches, [[0], [2]]);
    assert.equal(outcomes.get(1)!.kind, 'shed');
  });

  test("live windows go first: a file's (bulk) windows only fill what the live ones leave of a batch", async (t) => {
    const { engine, scheduler, outcomes, time, finish } = setup(t, { maxBatch: 4, maxPerStream: 100 });
    engine.hold();
    const submit = (stream: string, id: number, bulk: boolean) =>
      scheduler.submit({ stream, features: windowOf(id), sheddable: !bulk, bulk, done: (o) => outcomes.set(id, o) });
    submit('warm', 0, false);
    await time.advance(15);
    // The file's windows queue first, then two live streams' arrive.
    for (let id = 10; id < 16; id++) submit('file', id, true);
    submit('live-a', 1, false);
    submit('live-b', 2, false);
    submit('live-a', 3, false);
    engine.release();
    await finish();
    assert.deepEqual(engine.batches.slice(1), [[1, 2, 3, 10], [11, 12, 13, 14], [15]]);
  });

  test('a window whose scores are not probabilities fails alone, and the observer hears why', async () => {
    const problems: (string | undefined)[] = [];
    const engine = {
      predict: async (_w: Float32Array, n: number) => ({
        probabilities: Float32Array.from({ length: 2 * n }, (_, k) => (k < 2 ? NaN : 0.5)),
        attention: new Float32Array(2 * n),
      }),
    };
    const scheduler = new Scheduler(engine, { maxBatch: 2, maxDelayMs: 5 }, { outputs: (p) => problems.push(p) });
    const outcomes: WindowOutcome[] = [];
    for (const id of [1, 2]) scheduler.submit({ stream: `s${id}`, features: windowOf(id), done: (o) => outcomes.push(o) });
    await scheduler.drain();
    assert.deepEqual(
      outcomes.map((o) => o.kind),
      ['error', 'result'],
    );
    assert.match(problems[0]!, /NaN/);
  });
});
