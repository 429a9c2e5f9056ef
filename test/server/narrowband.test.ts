/**
 * The telephone-band companion model: streams and files at 8 kHz or less
 * (or band=narrow) are heard by it, the rest by the default model. The
 * companion here is the simulated engine (uniform scores), so which model
 * scored a window shows in its scores.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { floatToMulaw } from '../../src/audio/g711.ts';
import type { Engine } from '../../src/engine/engine.ts';
import { loadEngine } from '../../src/engine/load-engine.ts';
import { SimulatedEngine } from '../../src/engine/simulated-engine.ts';
import { Tokens } from '../../src/server/auth.ts';
import type { ReadyMessage } from '../../src/protocol/wire.ts';
import { AerServer } from '../../src/server/server.ts';
import { servedBand, ServedModels } from '../../src/stream/served-models.ts';
import { VadBatcher } from '../../src/stream/vad.ts';
import { metricValue, pieces, s16, TestClient, testModelDir, voiced } from '../helpers/service.ts';

/** Scores all equal: the simulated (narrowband) engine's answer. */
const uniform = (scores: Record<string, number>) => Object.values(scores).every((v) => Math.abs(v - 1 / 6) < 1e-3);

describe('which model hears a stream', () => {
  test('auto: the narrowband model for 8 kHz or less when there is one; wide and narrow as asked; narrow without the model is refused', () => {
    assert.equal(servedBand('auto', 8000, true), 'narrow');
    assert.equal(servedBand('auto', 16000, true), 'wide');
    assert.equal(servedBand('auto', 8000, false), 'wide');
    assert.equal(servedBand('wide', 8000, true), 'wide');
    assert.equal(servedBand('narrow', 48000, true), 'narrow');
    assert.throws(() => servedBand('narrow', 8000, false), { code: 'invalid_argument', message: /no telephone-band model/, hint: /--narrowband-model/ });
  });

  test("a companion whose labels are not the default model's is refused", async () => {
    const wide = await SimulatedEngine.load(await testModelDir(), 0);
    const narrow = await SimulatedEngine.load(await testModelDir(), 0);
    Object.defineProperty(narrow, 'labels', { value: ['calm', 'upset'] });
    assert.throws(() => new ServedModels({ wide, narrow }, {}), { code: 'invalid_model', message: /labels \(calm, upset\) are not the default model's/ });
  });
});

describe('a service with a narrowband model', () => {
  let server: AerServer;
  let wide: Engine;
  let narrow: Engine;
  let vad: VadBatcher;
  let url: string;
  let http: string;

  before(async () => {
    wide = await loadEngine('onnx', await testModelDir());
    narrow = await SimulatedEngine.load(await testModelDir(), 0);
    vad = await VadBatcher.load();
    server = new AerServer({ engine: wide, narrowband: narrow, vad, tokens: new Tokens([]) }, { port: 0, host: '127.0.0.1', log: () => {} });
    await server.start();
    url = `ws://127.0.0.1:${server.address.port}/v1/stream`;
    http = `http://127.0.0.1:${server.address.port}`;
  });
  after(async () => {
    await server.stop();
    await Promise.all([wide.dispose(), narrow.dispose(), vad.dispose()]);
  });

  /** A 3.5 s stream (VAD off): its ready message and whether every window was scored by the narrowband model. */
  async function stream(query: string, bytes: Uint8Array): Promise<{ ready: ReadyMessage; narrowScored: boolean }> {
    const client = new TestClient(`${url}?${query}&vad=false&smoothing=none`);
    await client.opened;
    for (const m of pieces(bytes, 320)) client.send(m);
    client.control({ type: 'close_stream' });
    assert.equal((await client.closed).code, 1000);
    const emotions = client.of('emotion');
    assert.ok(emotions.length >= 2);
    const narrowScored = emotions.map((e) => uniform(e.scores!));
    assert.ok(
      narrowScored.every((n) => n === narrowScored[0]),
      'one model scores the whole stream',
    );
    return { ready: client.of('ready')[0], narrowScored: narrowScored[0] };
  }

  const mulaw = () => floatToMulaw(voiced(3.5, 8000));

  test('a G.711 call is heard by the narrowband model, and ready says so', async () => {
    const { ready, narrowScored } = await stream('encoding=mulaw', mulaw());
    assert.equal(ready.model.band, 'narrow');
    assert.equal(ready.config.band, 'auto');
    assert.ok(narrowScored);
  });

  test('16 kHz audio is heard by the default model; band= overrides the choice either way', async () => {
    const wideband = await stream('encoding=pcm_s16le&sample_rate=16000', s16([voiced(3.5)]));
    assert.equal(wideband.ready.model.band, 'wide');
    assert.ok(!wideband.narrowScored);
    const upsampledCall = await stream('encoding=pcm_s16le&sample_rate=16000&band=narrow', s16([voiced(3.5)]));
    assert.equal(upsampledCall.ready.model.band, 'narrow');
    assert.ok(upsampledCall.narrowScored);
    const forcedWide = await stream('encoding=mulaw&band=wide', mulaw());
    assert.equal(forcedWide.ready.model.band, 'wide');
    assert.ok(!forcedWide.narrowScored);
  });

  test('an unknown band is a bad request naming the choices', async () => {
    const client = new TestClient(`${url}?encoding=mulaw&band=telephone`);
    assert.deepEqual(await client.closed, { code: 4400, reason: 'band must be one of auto, wide, narrow, got "telephone"' });
  });

  test('/v1/classify: an 8 kHz body goes to the narrowband model, and the answer names the model', async () => {
    const reply = await fetch(`${http}/v1/classify?encoding=mulaw&vad=false&smoothing=none`, { method: 'POST', body: mulaw() });
    assert.equal(reply.status, 200);
    const body = (await reply.json()) as { model: { band: string }; events: { type: string; scores: Record<string, number> }[] };
    assert.equal(body.model.band, 'narrow');
    const emotions = body.events.filter((e) => e.type === 'emotion');
    assert.ok(emotions.length >= 2 && emotions.every((e) => uniform(e.scores)));
  });

  test('/v1/models lists both; the metrics tell their batches apart', async () => {
    const { models } = (await (await fetch(`${http}/v1/models`)).json()) as { models: { id: string; band: string; engine: string }[] };
    assert.deepEqual(
      models.map((m) => [m.id, m.band]),
      [
        ['default', 'wide'],
        ['narrowband', 'narrow'],
      ],
    );
    assert.match(models[1].engine, /^simulated/);
    const metrics = await (await fetch(`${http}/metrics`)).text();
    assert.ok(metricValue(metrics, 'aer_batch_size_count', 'engine="onnx",band="wide"') > 0, 'no batches of the default model counted');
    assert.ok(metricValue(metrics, 'aer_batch_size_count', 'engine="simulated",band="narrow"') > 0, 'no batches of the narrowband model counted');
  });
});

describe('a service without one', () => {
  test('band=narrow is refused with the flag that adds the model; a G.711 call is heard by the default model', async () => {
    const engine = await loadEngine('onnx', await testModelDir());
    const vad = await VadBatcher.load();
    const server = new AerServer({ engine, vad, tokens: new Tokens([]) }, { port: 0, host: '127.0.0.1', log: () => {} });
    await server.start();
    try {
      const url = `ws://127.0.0.1:${server.address.port}/v1/stream`;
      const refused = new TestClient(`${url}?encoding=mulaw&band=narrow`);
      const { code, reason } = await refused.closed;
      assert.equal(code, 4400);
      assert.match(reason, /no telephone-band model/);
      const call = new TestClient(`${url}?encoding=mulaw`);
      await call.opened;
      call.control({ type: 'close_stream' });
      await call.closed;
      assert.equal(call.of('ready')[0].model.band, 'wide');
      const classify = await fetch(`http://127.0.0.1:${server.address.port}/v1/classify?encoding=mulaw&band=narrow`, {
        method: 'POST',
        body: new Uint8Array(8000),
      });
      assert.equal(classify.status, 400);
      assert.match(((await classify.json()) as { error: { message: string } }).error.message, /no telephone-band model/);
    } finally {
      await server.stop();
      await engine.dispose();
      await vad.dispose();
    }
  });
});
