import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { closeReason, MAX_CLOSE_REASON_BYTES, quoted, truncateUtf8 } from '../../src/protocol/client-text.ts';
import { parseControl, parseStreamQuery, ProtocolError } from '../../src/protocol/stream-config.ts';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('text built from client input', () => {
  test('a close reason fits 123 bytes of UTF-8 whatever the characters, cut at a character boundary', () => {
    for (const text of [
      '€'.repeat(50),
      '😀'.repeat(40),
      `a${'é'.repeat(100)}`,
      'x'.repeat(500),
      `encoding must be one of pcm_s16le, got "${'€'.repeat(40)}"`,
    ]) {
      const reason = closeReason(text);
      assert.ok(bytes(reason) <= MAX_CLOSE_REASON_BYTES, `${bytes(reason)} bytes`);
      assert.ok(reason.endsWith('…'));
      // No lone surrogate or broken sequence: it round-trips through UTF-8.
      assert.equal(Buffer.from(reason, 'utf8').toString('utf8'), reason);
    }
    assert.equal(closeReason('short and plain'), 'short and plain');
    assert.equal(truncateUtf8('€€€', 7), '€€');
  });

  test('a quoted client value is bounded and says how long it was', () => {
    const long = quoted('€'.repeat(1000), 40);
    assert.ok(long.length < 80);
    assert.match(long, /… \(1000 characters\)$/);
    assert.equal(quoted('pcm'), '"pcm"');
    assert.equal(quoted({ a: 1 }), '"{\\"a\\":1}"');
  });

  test('a query with forty € in a value is refused with a short reason', () => {
    assert.throws(
      () => parseStreamQuery(new URLSearchParams({ encoding: '€'.repeat(40) })),
      // At most 40 characters of the value are echoed: the list of encodings and 120 bytes of euros.
      (e: unknown) => e instanceof ProtocolError && bytes(e.message) < 240 && /encoding must be one of/.test(e.message),
    );
    assert.throws(
      () => parseStreamQuery(new URLSearchParams({ ['€'.repeat(5000)]: '1', encoding: 'opus' })),
      (e: unknown) => e instanceof ProtocolError && e.message.length < 300,
    );
  });

  test('integers are plain decimal digits: hex, exponents, signs, spaces and fractions are refused', () => {
    for (const value of ['0x3e80', '1.6e4', '16000.0', '+16000', ' 16000', '16000 ', '١٦٠٠٠', '', '1'.repeat(30)]) {
      assert.throws(
        () => parseStreamQuery(new URLSearchParams({ encoding: 'pcm_s16le', sample_rate: value })),
        /sample_rate must be a whole number/,
        JSON.stringify(value),
      );
    }
    assert.equal(parseStreamQuery(new URLSearchParams({ encoding: 'pcm_s16le', sample_rate: '16000', hop_ms: '250' })).sampleRate, 16000);
  });

  test('a control message with a huge type is refused with a bounded message', () => {
    assert.throws(
      () => parseControl(JSON.stringify({ type: 'x'.repeat(100_000) })),
      (e: unknown) => e instanceof ProtocolError && e.message.length < 300,
    );
    assert.throws(
      () => parseControl(JSON.stringify({ type: { nested: 'y'.repeat(100_000) } })),
      (e: unknown) => e instanceof ProtocolError && e.message.length < 300,
    );
  });
});
