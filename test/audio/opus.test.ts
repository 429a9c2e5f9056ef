import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Encoder } from '@evan/opus';
import { OpusStreamDecoder } from '../../src/audio/opus-decoder.ts';
import { opusPacketSamples } from '../../src/audio/opus-packet.ts';
import { AerError } from '../../src/errors.ts';
import { random, tone } from '../helpers/signals.ts';

/** Encode a mono 48 kHz signal into packets of `frameMs` with libopus. */
function encode(signal: Float32Array, frameMs: number, channels: 1 | 2 = 1): Uint8Array[] {
  const encoder = new Encoder({ channels, sample_rate: 48000, application: 'voip' });
  const frame = (48000 * frameMs) / 1000;
  const packets: Uint8Array[] = [];
  for (let p = 0; p + frame <= signal.length; p += frame) {
    const pcm = new Int16Array(frame * channels);
    for (let i = 0; i < frame; i++) for (let c = 0; c < channels; c++) pcm[i * channels + c] = Math.round(signal[p + i] * 32767);
    packets.push(encoder.encode(pcm));
  }
  return packets;
}

describe('Opus packet durations from the TOC byte', () => {
  test('every configuration and frame-count code', () => {
    // config 1 = SILK NB 20 ms, 16 = CELT NB 2.5 ms, 13 = hybrid SWB 20 ms, 3 = SILK NB 60 ms.
    assert.equal(opusPacketSamples(new Uint8Array([1 << 3]), 48000), 960);
    assert.equal(opusPacketSamples(new Uint8Array([16 << 3]), 48000), 120);
    assert.equal(opusPacketSamples(new Uint8Array([(13 << 3) | 1]), 24000), 960);
    assert.equal(opusPacketSamples(new Uint8Array([(3 << 3) | 2]), 16000), 1920);
    assert.equal(opusPacketSamples(new Uint8Array([(16 << 3) | 3, 5]), 48000), 600);
  });

  test('invalid framing gives -1', () => {
    assert.equal(opusPacketSamples(new Uint8Array([]), 48000), -1);
    assert.equal(opusPacketSamples(new Uint8Array([(1 << 3) | 3]), 48000), -1); // code 3 without a count byte
    assert.equal(opusPacketSamples(new Uint8Array([(1 << 3) | 3, 0]), 48000), -1); // zero frames
    assert.equal(opusPacketSamples(new Uint8Array([(3 << 3) | 3, 3]), 48000), -1); // 180 ms > 120 ms
  });
});

describe('Opus stream decoder', () => {
  const speechLike = tone(220, 48000, 48000, 0.3).map((v, i) => v + 0.2 * Math.sin((2 * Math.PI * 1700 * i) / 48000) * Math.sin(i / 2000));

  for (const frameMs of [10, 20, 40, 60]) {
    test(`${frameMs} ms packets decode to their exact duration at 24 kHz, and a lost one is concealed for exactly that long`, () => {
      const packets = encode(speechLike, frameMs);
      const decoder = new OpusStreamDecoder(1, 24000);
      let total = 0;
      for (const [i, packet] of packets.entries()) {
        const result = decoder.decode(i === 5 ? new Uint8Array(0) : packet);
        assert.equal(result.channels[0].length, (24000 * frameMs) / 1000);
        assert.equal(result.concealed, i === 5 ? (24000 * frameMs) / 1000 : 0);
        total += result.channels[0].length;
      }
      assert.equal(total, (packets.length * 24000 * frameMs) / 1000);
      assert.deepEqual(decoder.stats, { packets: packets.length, lost: 1, corrupt: 0, concealedSamples: (24000 * frameMs) / 1000 });
      decoder.dispose();
    });
  }

  test('decoded audio matches the input (same tone, same level)', () => {
    const packets = encode(speechLike, 20);
    const decoder = new OpusStreamDecoder(1, 48000);
    const out = packets.map((p) => decoder.decode(p).channels[0]);
    const y = new Float32Array(out.reduce((n, c) => n + c.length, 0));
    out.reduce((o, c) => (y.set(c, o), o + c.length), 0);
    let energyIn = 0;
    let energyOut = 0;
    for (let i = 9600; i < 38400; i++) {
      energyIn += speechLike[i] ** 2;
      energyOut += y[i] ** 2;
    }
    assert.ok(Math.abs(10 * Math.log10(energyOut / energyIn)) < 1.5, `level differs by ${10 * Math.log10(energyOut / energyIn)} dB`);
  });

  test('stereo packets give two channels', () => {
    const packets = encode(
      new Float32Array(9600).map((_, i) => 0.3 * Math.sin(i / 20)),
      20,
      2,
    );
    const decoder = new OpusStreamDecoder(2, 24000);
    const result = decoder.decode(packets[0]);
    assert.equal(result.channels.length, 2);
    assert.equal(result.channels[1].length, 480);
  });

  test('corrupt packets are concealed and reported, never thrown', () => {
    const packets = encode(speechLike, 20);
    const decoder = new OpusStreamDecoder(1, 24000);
    decoder.decode(packets[0]);
    const bad = decoder.decode(new Uint8Array([0xff, 0xff, 1, 2, 3]));
    assert.equal(bad.channels[0].length, 480);
    assert.equal(bad.concealed, 480);
    assert.ok(bad.error instanceof AerError);
    assert.equal(bad.error.code, 'malformed_opus');
    const huge = decoder.decode(new Uint8Array(70000));
    assert.equal(huge.error?.code, 'malformed_opus');
    assert.match(huge.error!.message, /over the 61440-byte limit/);
    assert.equal(decoder.stats.corrupt, 2);
  });

  test('fuzz: 3000 random and mutated packets never throw and always produce audio of a valid length', () => {
    const r = random(42);
    const good = encode(speechLike, 20);
    const decoder = new OpusStreamDecoder(1, 24000);
    for (let i = 0; i < 3000; i++) {
      let packet: Uint8Array;
      if (i % 3 === 0) {
        packet = new Uint8Array(Math.floor(r() * 400)).map(() => Math.floor(r() * 256));
      } else {
        packet = good[i % good.length].slice();
        for (let k = 0; k < 3; k++) packet[Math.floor(r() * packet.length)] = Math.floor(r() * 256);
      }
      const result = decoder.decode(packet);
      const n = result.channels[0].length;
      assert.ok(n > 0 && n <= 2880 && n % 60 === 0, `packet ${i}: ${n} samples`);
      for (const v of result.channels[0]) assert.ok(Number.isFinite(v));
    }
  });

  test('a long concealment is done in pieces and has the asked-for length', () => {
    const decoder = new OpusStreamDecoder(1, 24000);
    decoder.decode(encode(speechLike, 20)[0]);
    assert.equal(decoder.conceal(24000 * 2 + 7)[0].length, 48007);
  });

  test('bad construction arguments and use after dispose are typed errors', () => {
    assert.throws(
      () => new OpusStreamDecoder(3),
      (e: unknown) => e instanceof AerError && e.code === 'invalid_argument',
    );
    assert.throws(
      () => new OpusStreamDecoder(1, 44100 as never),
      (e: unknown) => e instanceof AerError && /8000, 12000, 16000, 24000, 48000/.test(e.message),
    );
    const decoder = new OpusStreamDecoder(1);
    decoder.dispose();
    assert.throws(
      () => decoder.decode(new Uint8Array([8])),
      (e: unknown) => e instanceof AerError && /disposed/.test(e.message),
    );
  });
});
