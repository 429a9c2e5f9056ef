/** The simulated engine: a stand-in for capacity planning that every surface names as such. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { checkEngine } from '../../src/engine/output-check.ts';
import { SimulatedEngine } from '../../src/engine/simulated-engine.ts';
import { DEFAULT_MODEL_DIR } from '../../src/model/default-model.ts';
import { readModelMetadata } from '../../src/model/model-files.ts';
import { serveProcess } from '../helpers/serve-process.ts';
import { pieces, s16, TestClient, voiced } from '../helpers/service.ts';
import { PROJECT_ROOT } from '../helpers/shared.ts';

describe('the simulated engine', () => {
  test("answers uniform scores and attention after its delay, with the model's labels, and passes the engine check", async () => {
    const engine = await SimulatedEngine.load(DEFAULT_MODEL_DIR, 30);
    const metadata = await readModelMetadata(DEFAULT_MODEL_DIR);
    assert.deepEqual(engine.labels, metadata.labels);
    assert.equal(engine.attentionSteps, metadata.attention_steps);
    const started = performance.now();
    const { probabilities, attention } = await engine.predict(new Float32Array(0), 3);
    assert.ok(performance.now() - started >= 29);
    assert.deepEqual([...probabilities], new Array(3 * metadata.labels.length).fill(1 / metadata.labels.length).map(Math.fround));
    assert.equal(attention.length, 3 * metadata.attention_steps);
    await checkEngine(engine);
    assert.match(engine.detail, /simulated .*not the model/);
  });

  test('aer serve --engine simulated says so in the log, /v1/models and ready; --simulated-ms alone is refused', async () => {
    const served = await serveProcess(['--engine', 'simulated', '--simulated-ms', '5', '--port', '0']);
    try {
      assert.match(served.log(), /engine: SIMULATED, every window gets uniform scores after 5 ms a batch/);
      const models = (await (await fetch(`${served.http}/v1/models`)).json()) as { models: { engine: string }[] };
      assert.match(models.models[0].engine, /^simulated/);
      const client = new TestClient(`${served.url}?encoding=pcm_s16le&vad=false`);
      await client.opened;
      for (const m of pieces(s16([voiced(3.5)]), 3200)) client.send(m);
      client.control({ type: 'close_stream' });
      await client.closed;
      assert.match(client.of('ready')[0].model.engine, /^simulated/);
      const emotion = client.of('emotion')[0];
      assert.ok(emotion?.scores && Object.values(emotion.scores).every((s) => Math.abs(s - 1 / 6) < 1e-3));
    } finally {
      await served.stop();
    }
    const alone = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/aer.js'), 'serve', '--simulated-ms', '5', '--port', '0'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(alone.status, 2);
    assert.match(alone.stderr, /--simulated-ms sets the simulated engine's delay.*add --engine simulated/s);
  });
});
