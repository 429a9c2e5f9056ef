/** The connection's own rules, with a fake socket and session: slow consumers, repeated errors, the shutdown drain. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Subject } from 'rxjs';
import { ServiceMetrics } from '../../src/metrics/metrics.ts';
import type { ClosedMessage, ServerMessage } from '../../src/protocol/wire.ts';
import { RepeatCoalescer } from '../../src/server/repeat-coalescer.ts';
import { StreamConnection } from '../../src/server/stream-connection.ts';
import type { StreamSocket } from '../../src/server/transport/transport.ts';
import { parseStreamQuery, type StreamConfig } from '../../src/protocol/stream-config.ts';
import type { SessionHandle } from '../../src/stream/session-handle.ts';

class FakeSocket implements StreamSocket {
  sent: ServerMessage[] = [];
  closed: { code: number; reason: string } | undefined;
  buffered = 0;
  paused = false;
  stopped = false;
  send(text: string): void {
    this.sent.push(JSON.parse(text) as ServerMessage);
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  async stopReading(): Promise<void> {
    this.stopped = true;
  }
}

class FakeSession implements SessionHandle {
  readonly id = 'fake';
  readonly events = new Subject<ServerMessage>();
  readonly events$ = this.events.asObservable();
  readonly config: StreamConfig = parseStreamQuery(new URLSearchParams('encoding=pcm_s16le'));
  audioMessages = 0;
  closing: string | undefined;
  pendingWindows = 0;
  backlogBytes = 0;
  readonly progress = new Subject<void>();
  readonly progress$ = this.progress.asObservable();
  closedReason = 'close_stream';
  audio(): void {
    if (this.closing) throw new Error('audio after close_stream');
    this.audioMessages++;
  }
  closeStream(reason = 'close_stream'): void {
    this.closing = reason;
    this.closedReason = reason;
  }
  closedMessage(reason: string): ClosedMessage {
    return {
      type: 'closed',
      reason,
      stats: { audio_s: 10, unanalysed_s: 4, windows: 0, speech_windows: 0, shed_windows: 0, events: 0, bytes: 0, decode_errors: 0 },
    };
  }
  flush(): void {}
  configure(): void {}
}

const emotion = (seq: number): ServerMessage => ({
  type: 'emotion',
  channel: 0,
  seq,
  start_s: seq / 2,
  end_s: seq / 2 + 3,
  speech: true,
  label: 'neutral',
  confidence: 0.5,
  scores: null,
  smoothed: null,
  latency_ms: 1,
});

function connect(limits = { dropAboveBytes: 1000, closeAboveBytes: 5000, closeAfterDroppingMs: 60_000 }) {
  const socket = new FakeSocket();
  const session = new FakeSession();
  const ends: string[] = [];
  const connection = new StreamConnection(socket, session, {
    idleTimeoutMs: 0,
    metrics: new ServiceMetrics('onnx'),
    outgoing: limits,
    onEnd: (r) => ends.push(r),
  });
  return { socket, session, connection, ends };
}

describe('a stream connection', () => {
  test('a client whose audio waits for its worker is paused past 256 KiB of it, and resumed once the worker has taken it in, before any event', () => {
    const { socket, session, connection } = connect();
    session.backlogBytes = 300 * 1024;
    connection.message(new Uint8Array(640), true);
    assert.equal(socket.paused, true);
    session.backlogBytes = 100 * 1024;
    session.progress.next();
    assert.equal(socket.paused, true, 'still over the resume mark');
    session.backlogBytes = 0;
    session.progress.next();
    assert.equal(socket.paused, false);
  });

  test('a client that does not read: past the first limit its events are dropped with a counted warning, past the second it is closed 1008', () => {
    const { socket, session, ends } = connect();
    session.events.next(emotion(0));
    socket.buffered = 2000;
    for (let i = 1; i <= 10; i++) session.events.next(emotion(i));
    assert.deepEqual(
      socket.sent.map((m) => m.type),
      ['emotion', 'warning'],
    );
    const warning = socket.sent[1];
    assert.ok(warning.type === 'warning' && warning.code === 'slow_consumer' && warning.dropped === 1);
    // It catches up: the next event goes, after a warning counting the rest dropped.
    socket.buffered = 0;
    session.events.next(emotion(11));
    assert.deepEqual(
      socket.sent.slice(2).map((m) => (m.type === 'warning' ? `warning ${m.dropped}` : m.type)),
      ['warning 9', 'emotion'],
    );
    socket.buffered = 6000;
    session.events.next(emotion(12));
    assert.deepEqual(socket.closed, { code: 1008, reason: 'slow_consumer' });
    const last = socket.sent.at(-1)!;
    assert.ok(last.type === 'error' && last.code === 'slow_consumer' && last.fatal);
    assert.deepEqual(ends, ['slow_consumer']);
  });

  test('dropping for too long closes it even when its buffer stops growing', async () => {
    const { socket, session } = connect({ dropAboveBytes: 1000, closeAboveBytes: 1e9, closeAfterDroppingMs: 30 });
    socket.buffered = 2000;
    session.events.next(emotion(0));
    await new Promise((r) => setTimeout(r, 50));
    session.events.next(emotion(1));
    assert.equal(socket.closed?.code, 1008);
  });

  test('a thousand bad messages are one error at once and one with the count of the rest', () => {
    const { socket, connection, session } = connect();
    for (let i = 0; i < 1000; i++) connection.message(Buffer.from(`{bad ${i}`), false);
    assert.equal(socket.sent.length, 1);
    session.events.next({
      type: 'closed',
      reason: 'close_stream',
      stats: { audio_s: 0, unanalysed_s: 0, windows: 0, speech_windows: 0, shed_windows: 0, events: 0, bytes: 0, decode_errors: 0 },
    });
    const errors = socket.sent.filter((m) => m.type === 'error');
    assert.deepEqual(
      errors.map((e) => e.count ?? 1),
      [1, 999],
    );
    assert.equal(socket.sent.at(-1)?.type, 'closed');
  });

  test('shutdown: reading stops first, what was read is taken, later messages are not, and no error is sent for them', async () => {
    const { socket, connection, session } = connect();
    connection.message(new Uint8Array(640), true);
    const closing = connection.shutdown();
    // The transport hands over what it had already read before stopReading resolves.
    connection.message(new Uint8Array(640), true);
    await new Promise((r) => setImmediate(r));
    assert.ok(socket.stopped);
    assert.equal(session.closing, 'server_shutdown');
    connection.message(new Uint8Array(640), true);
    assert.equal(session.audioMessages, 2);
    assert.equal(socket.sent.filter((m) => m.type === 'error').length, 0);
    session.events.complete();
    await closing;
    assert.equal(socket.closed?.code, 1000);
  });

  test('past the shutdown deadline: closed says how much audio was not analysed, then 1001', () => {
    const { socket, connection } = connect();
    connection.abort();
    const closed = socket.sent.at(-1)!;
    assert.ok(closed.type === 'closed' && closed.reason === 'server_shutdown' && closed.stats.unanalysed_s === 4);
    assert.equal(socket.closed?.code, 1001);
  });
});

describe('repeat coalescing', () => {
  test('the first goes at once, repeats within the interval wait and go as one with their count; other codes are separate', () => {
    let now = 0;
    const sent: ServerMessage[] = [];
    const c = new RepeatCoalescer(
      (m) => sent.push(m),
      1000,
      () => now,
    );
    const error = (n: number) => ({ type: 'error' as const, code: 'invalid_samples', message: `frame ${n}`, fatal: false });
    c.offer(error(0));
    c.offer(error(1));
    c.offer(error(2));
    c.offer({ type: 'warning', code: 'audio_problem', message: 'lost page' });
    assert.deepEqual(
      sent.map((m) => m.type),
      ['error', 'warning'],
    );
    now = 1500;
    c.offer(error(3));
    assert.deepEqual(sent.at(-1), { ...error(3), count: 3 });
    c.offer(error(4));
    c.flush();
    assert.deepEqual(sent.at(-1), { ...error(4), count: 1 });
    c.stop();
  });
});
