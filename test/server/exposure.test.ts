/** What the service shows, and to whom: tokens on /metrics, a metrics port, no file system paths, browser origins, a local default address. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { writeWav } from '../../src/audio/wav-write.ts';
import { DEFAULT_MODEL_DIR } from '../../src/model/default-model.ts';
import { withoutPaths } from '../../src/server/model-description.ts';
import { aer } from '../helpers/cli.ts';
import { serveProcess } from '../helpers/serve-process.ts';
import { forEachTransport, startService, TestClient, testModelDir, voiced } from '../helpers/service.ts';
import { PROJECT_ROOT } from '../helpers/shared.ts';
import { tempDir } from '../helpers/tools.ts';

const token = 'a-test-token-of-enough-length';
const pcm = '?encoding=pcm_s16le&sample_rate=16000&vad=false';

forEachTransport((transport, workers) => {
  describe('what the service exposes', () => {
    test('with tokens, /metrics needs one too; /healthz and /readyz stay open', async () => {
      const service = await startService({ transport, workers }, [token]);
      try {
        assert.equal((await fetch(`${service.http}/metrics`)).status, 401);
        const scraped = await fetch(`${service.http}/metrics`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(scraped.status, 200);
        assert.match(await scraped.text(), /aer_ready 1/);
        assert.equal((await fetch(`${service.http}/healthz`)).status, 200);
        assert.equal((await fetch(`${service.http}/readyz`)).status, 200);
      } finally {
        await service.stop();
      }
    });

    test("--metrics-port serves /metrics on its own listener without a token, and not on the service's port", async () => {
      const service = await startService({ transport, workers, metricsPort: 0 }, [token]);
      try {
        const port = service.server.address.metricsPort!;
        const scraped = await fetch(`http://127.0.0.1:${port}/metrics`);
        assert.equal(scraped.status, 200);
        assert.match(await scraped.text(), /aer_active_sessions/);
        assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'HEAD' })).status, 200);
        assert.equal((await fetch(`http://127.0.0.1:${port}/v1/models`)).status, 404);
        const main = await fetch(`${service.http}/metrics`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(main.status, 404);
        assert.match(((await main.json()) as { error: { message: string } }).error.message, /metrics port/);
      } finally {
        await service.stop();
      }
    });

    test("browsers: pages of other origins cannot stream or classify; the service's own page, listed origins and non-browser clients can", async () => {
      const service = await startService({ transport, workers, allowedOrigins: ['https://app.example.com'] });
      try {
        const self = `http://127.0.0.1:${new URL(service.http).port}`;
        for (const origin of ['https://evil.example', 'null', 'http://127.0.0.1:1']) {
          const client = new TestClient(service.url + pcm, { origin });
          const closed = await client.closed;
          assert.equal(closed.code, 1008, origin);
          assert.equal(client.of('error')[0]?.code, 'origin_not_allowed');
        }
        for (const headers of [{}, { origin: self }, { origin: 'https://app.example.com' }] as Record<string, string>[]) {
          const client = new TestClient(service.url + pcm, headers);
          await client.waitFor((m) => m.type === 'ready');
          client.ws.close();
        }
        const wav = writeWav({ sampleRate: 16000, channels: [voiced(3.5)] });
        const evil = await fetch(`${service.http}/v1/classify?vad=false`, { method: 'POST', body: wav, headers: { origin: 'https://evil.example' } });
        assert.equal(evil.status, 403);
        const listed = await fetch(`${service.http}/v1/classify?vad=false`, { method: 'POST', body: wav, headers: { origin: 'https://app.example.com' } });
        assert.equal(listed.status, 200);
        assert.equal(listed.headers.get('access-control-allow-origin'), 'https://app.example.com');
        const preflight = await fetch(`${service.http}/v1/classify`, {
          method: 'OPTIONS',
          headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
        });
        assert.equal(preflight.status, 204);
        assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
      } finally {
        await service.stop();
      }
    });
  });
});

describe('/v1/models', () => {
  test("the shipped model's description names no file or folder of this machine, and keeps its figures", async () => {
    const service = await startService({}, [], undefined, DEFAULT_MODEL_DIR);
    try {
      const text = await (await fetch(`${service.http}/v1/models`)).text();
      for (const leak of [PROJECT_ROOT, path.dirname(PROJECT_ROOT), '/work', '../shared', 'aer train', 'aer crossval', '"dir"'])
        assert.ok(!text.includes(leak), `leaks ${leak}`);
      const model = (JSON.parse(text) as { models: { metrics: { crossval: { methods: { mean: { accuracy: number } }[] } } }[] }).models[0];
      assert.ok(model.metrics.crossval.methods[0].mean.accuracy > 0.5);
      assert.equal((JSON.parse(text) as { models: { window_input: string }[] }).models[0].window_input, 'spans');
      const recipe = (JSON.parse(fs.readFileSync(path.join(DEFAULT_MODEL_DIR, 'aer.json'), 'utf8')) as { feature_recipe: { fmin: number } }).feature_recipe;
      assert.equal((JSON.parse(text) as { models: { mel_fmin: number }[] }).models[0].mel_fmin, recipe.fmin);
      const networks = (JSON.parse(fs.readFileSync(path.join(DEFAULT_MODEL_DIR, 'aer.json'), 'utf8')) as { ensemble?: unknown[] }).ensemble?.length ?? 1;
      assert.equal((JSON.parse(text) as { models: { networks: number }[] }).models[0].networks, networks);
    } finally {
      await service.stop();
    }
  });

  test('paths are dropped wherever they are in a record', () => {
    assert.deepEqual(
      withoutPaths({
        a: '/home/x/data',
        b: 'C:\\\\data',
        c: '../shared/x',
        d: 'fold 1 (test: emodb:10)',
        e: [1, '~/.cache', 'ok'],
        command: 'aer train',
        nested: { root: 'x', n: 2 },
      }),
      { d: 'fold 1 (test: emodb:10)', e: [1, 'ok'], nested: { n: 2 } },
    );
  });
});

describe('aer serve', () => {
  test('listens on 127.0.0.1 by default even with tokens; a bad --allowed-origins is a usage error', async () => {
    const dir = tempDir();
    const tokens = path.join(dir, 'tokens');
    fs.writeFileSync(tokens, `${token}\n`);
    const served = await serveProcess(['--port', '0', '--model', await testModelDir(), '--tokens', tokens]);
    try {
      assert.match(served.log(), /listening on http:\/\/127\.0\.0\.1:\d+ \(open it in a browser for the demo; stream to ws:/);
      assert.match(served.log(), /\/metrics needs a token/);
    } finally {
      assert.equal(await served.stop(), 0);
    }
    const bad = aer('serve', '--allowed-origins', 'not an origin', '--model', await testModelDir());
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /not an origin/);
  });
});
