/** G.711 (mu-law, A-law) on /v1/stream and raw on /v1/classify: telephone audio as telephone networks carry it. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { alawToFloat, floatToAlaw, floatToMulaw, mulawToFloat } from '../../src/audio/g711.ts';
import { PcmStreamDecoder } from '../../src/audio/pcm.ts';
import type { ClosedMessage, EmotionMessage, ReadyMessage } from '../../src/protocol/wire.ts';
import { pieces, type Service, startService, TestClient, voiced } from '../helpers/service.ts';

const laws = [
  { encoding: 'mulaw', encode: floatToMulaw, expand: mulawToFloat },
  { encoding: 'alaw', encode: floatToAlaw, expand: alawToFloat },
] as const;

/** Interleaved bytes of planar channels, one byte a sample. */
function interleaved(channels: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(channels[0].length * channels.length);
  channels.forEach((c, k) => c.forEach((b, f) => (out[f * channels.length + k] = b)));
  return out;
}

/** A whole stream (VAD off): its emotions and closed message. */
async function stream(url: string, bytes: Uint8Array, frameBytes: number): Promise<{ ready: ReadyMessage; emotions: EmotionMessage[]; closed: ClosedMessage }> {
  const client = new TestClient(url);
  await client.opened;
  // 20 ms messages, as a telephony platform sends them.
  for (const m of pieces(bytes, 160 * frameBytes)) client.send(m);
  client.control({ type: 'close_stream' });
  const { code } = await client.closed;
  assert.equal(code, 1000);
  return { ready: client.of('ready')[0], emotions: client.of('emotion'), closed: client.messages.at(-1) as ClosedMessage };
}

describe('G.711 decoding', () => {
  for (const law of laws) {
    test(`${law.encoding}: a byte a sample, interleaved, frames split anywhere between messages`, () => {
      const left = law.encode(voiced(0.1, 8000));
      const right = law.encode(voiced(0.1, 8000).map((v) => -v / 2));
      const bytes = interleaved([left, right]);
      const decoder = new PcmStreamDecoder(law.encoding, 2);
      const parts = [bytes.subarray(0, 3), bytes.subarray(3, 800), bytes.subarray(800)].map((m) => decoder.decode(m));
      const joined = [0, 1].map((c) => Float32Array.from(parts.flatMap((p) => [...p[c]])));
      assert.deepEqual(
        joined[0],
        Float32Array.from(left, (b) => law.expand[b]),
      );
      assert.deepEqual(
        joined[1],
        Float32Array.from(right, (b) => law.expand[b]),
      );
      assert.equal(decoder.pendingBytes, 0);
    });
  }
});

describe('G.711 over the service', () => {
  let service: Service;
  before(async () => {
    service = await startService();
  });
  after(() => service.stop());

  for (const law of laws) {
    test(`/v1/stream?encoding=${law.encoding}: 8 kHz by default, two parties, the same events as the expanded samples sent as float PCM`, async () => {
      const channels = [law.encode(voiced(4, 8000)), law.encode(voiced(4, 8000).map((v) => v / 3))];
      const g711 = await stream(`${service.url}?encoding=${law.encoding}&channels=2&vad=false`, interleaved(channels), 2);
      assert.equal(g711.ready.config.sample_rate, 8000);
      assert.equal(g711.ready.config.encoding, law.encoding);
      assert.equal(g711.closed.stats.audio_s, 4);
      assert.ok(g711.emotions.filter((e) => e.channel === 1).length >= 2);
      const expanded = new Float32Array(channels[0].length * 2);
      channels.forEach((c, k) => c.forEach((b, f) => (expanded[2 * f + k] = law.expand[b])));
      const pcm = await stream(`${service.url}?encoding=pcm_f32le&sample_rate=8000&channels=2&vad=false`, new Uint8Array(expanded.buffer), 8);
      assert.deepEqual(
        g711.emotions.map((e) => [e.channel, e.label, e.scores]),
        pcm.emotions.map((e) => [e.channel, e.label, e.scores]),
      );
    });
  }

  test('/v1/classify takes raw G.711 (or PCM) bodies by encoding; a file names its own format', async () => {
    const body = floatToMulaw(voiced(4, 8000));
    const answer = await fetch(`${service.http}/v1/classify?encoding=mulaw&vad=false`, { method: 'POST', body });
    assert.equal(answer.status, 200);
    const result = (await answer.json()) as { format: string; duration_s: number; channels: number; events: { type: string }[] };
    assert.deepEqual([result.format, result.duration_s, result.channels], ['raw G.711 mu-law', 4, 1]);
    assert.ok(result.events.filter((e) => e.type === 'emotion').length >= 2);
    const odd = await (
      await fetch(`${service.http}/v1/classify?encoding=pcm_s16le&sample_rate=8000&vad=false`, { method: 'POST', body: new Uint8Array(8001 * 2 + 1) })
    ).json();
    assert.match((odd as { warnings: string[] }).warnings[0], /ended with 1 byte short of a whole frame; it was dropped/);
    for (const [query, message] of [
      [
        'sample_rate=8000',
        /reads sample_rate from the file; leave them out, or name the raw encoding the body holds \(encoding=pcm_s16le, pcm_f32le, mulaw, alaw\)/,
      ],
      ['encoding=opus', /a WAV or Ogg Opus file says its own format, so leave encoding out/],
      ['encoding=mulaw&channels=3', /channels must be/],
    ] as const) {
      const refused = await fetch(`${service.http}/v1/classify?${query}`, { method: 'POST', body });
      assert.equal(refused.status, 400, query);
      assert.match(((await refused.json()) as { error: { message: string } }).error.message, message);
    }
  });
});
