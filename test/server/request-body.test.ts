import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AerError } from '../../src/errors.ts';
import { RequestBody } from '../../src/server/transport/request-body.ts';
import { SpooledBody } from '../../src/server/transport/spooled-body.ts';

async function collect(body: AsyncIterable<Uint8Array>, delayMs = 0): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of body) {
    parts.push(chunk);
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
  }
  return new Uint8Array(Buffer.concat(parts));
}

describe('request bodies', () => {
  test('a body arriving far faster than it is taken waits on disk, not in memory, and comes out byte for byte', async () => {
    const body = new SpooledBody({ pause: () => {} }, 64 * 1024 * 1024);
    const sent = new Uint8Array(20 * 1024 * 1024).map((_, i) => (i * 7919) % 251);
    const reading = collect(body, 1);
    for (let i = 0; i < sent.length; i += 65536) body.data(sent.slice(i, i + 65536));
    body.end();
    const got = await reading;
    assert.equal(got.length, sent.length);
    assert.ok(Buffer.from(got).equals(Buffer.from(sent)));
    assert.ok(body.peakMemoryBytes <= 1024 * 1024, `${body.peakMemoryBytes} bytes held in memory`);
  });

  test('past its limit the body fails as too large and stops being read', async () => {
    let paused = false;
    const body = new SpooledBody({ pause: () => (paused = true) }, 1000);
    const reading = collect(body);
    body.data(new Uint8Array(600));
    body.data(new Uint8Array(600));
    await assert.rejects(reading, (e: unknown) => e instanceof AerError && e.code === 'too_large');
    assert.ok(paused);
  });

  test('a client that goes away fails the reader at once', async () => {
    const body = new SpooledBody({ pause: () => {} }, 1e9);
    const reading = collect(body);
    body.data(new Uint8Array(10));
    body.fail(new AerError('io_error', 'the client went away'));
    await assert.rejects(reading, /went away/);
  });

  test('a body that stops gets a timeout; one that trickles below the minimum rate does too; a declared size over the limit fails at once', async () => {
    async function* stalls() {
      yield new Uint8Array(10);
      await new Promise(() => {});
    }
    const started = Date.now();
    await assert.rejects(
      collect(new RequestBody(stalls(), { maxBytes: 1e9, idleMs: 200, minBytesPerSecond: 0 }, undefined)),
      (e: unknown) => e instanceof AerError && e.code === 'timeout',
    );
    assert.ok(Date.now() - started < 1000);
    async function* trickles() {
      for (;;) {
        await new Promise((r) => setTimeout(r, 50));
        yield new Uint8Array(1);
      }
    }
    await assert.rejects(collect(new RequestBody(trickles(), { maxBytes: 1e9, idleMs: 200, minBytesPerSecond: 1000 }, undefined)), /too slowly/);
    await assert.rejects(
      collect(new RequestBody(stalls(), { maxBytes: 100, idleMs: 200, minBytesPerSecond: 0 }, 101)),
      (e: unknown) => e instanceof AerError && e.code === 'too_large',
    );
  });
});
