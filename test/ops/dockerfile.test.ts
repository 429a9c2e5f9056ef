/**
 * The Dockerfile's cpu image, built and started without Docker (no engine in
 * CI): its stages' copies and RUN steps (npm ci from the lock file, pruning)
 * into a folder, then its CMD with its ENV, probed by its HEALTHCHECK,
 * asked to classify audio, and stopped the way Docker stops it.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeWav } from '../../src/audio/wav-write.ts';
import { buildTarget, contextSources, type ImageConfig, parseDockerfile } from '../helpers/dockerfile.ts';
import { voiced } from '../helpers/service.ts';
import { PROJECT_ROOT } from '../helpers/shared.ts';
import { freePort, tempDir } from '../helpers/tools.ts';

const dockerfile = parseDockerfile(fs.readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8'));

function folderBytes(dir: string): number {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .reduce((sum, e) => (e.isFile() ? sum + fs.statSync(path.join(e.parentPath, e.name)).size : sum), 0);
}

describe('the Dockerfile, built and run outside Docker', { timeout: 600_000 }, () => {
  let image: ImageConfig;
  let app: string;
  let env: NodeJS.ProcessEnv;
  let service: ChildProcess | undefined;
  let output = '';

  const healthcheck = () => spawnSync(image.healthcheck!.command[0], image.healthcheck!.command.slice(1), { cwd: app, env, timeout: 10_000 }).status;

  before(async () => {
    image = buildTarget(dockerfile, 'cpu', PROJECT_ROOT, tempDir(), (line) => console.log(line));
    app = path.join(image.root, image.workdir);
    // The image listens on 0.0.0.0:8080; tests bind 127.0.0.1 only, on a free port.
    env = { ...process.env, ...image.env, AER_HOST: '127.0.0.1', AER_PORT: String(await freePort()) };
  });

  after(() => service?.kill('SIGKILL'));

  test('every file a stage copies from the build context exists, in the GPU stage too', () => {
    assert.ok(dockerfile.stages.some((s) => s.name === 'gpu'));
    for (const { stage, source } of contextSources(dockerfile))
      assert.ok(fs.existsSync(path.join(PROJECT_ROOT, source)), `stage ${stage} copies ${source}, which is not in the repository`);
  });

  test('the image runs as a non-root user, on port 8080, with a health check and the default model inside', () => {
    assert.equal(image.user, 'node');
    assert.deepEqual(image.exposed, ['8080']);
    assert.equal(image.env.AER_PORT, '8080');
    assert.ok(image.healthcheck);
    assert.deepEqual(image.command, ['node', 'bin/aer.js', 'serve']);
    for (const f of ['model.json', 'weights.bin', 'model.onnx', 'model.int8.onnx', 'aer.json'])
      assert.ok(fs.existsSync(path.join(app, 'models/default', f)), `models/default/${f} is not in the image`);
  });

  test('the image holds production dependencies only, pruned', () => {
    for (const dev of ['typescript', 'wabt', 'meyda', 'fft.js'])
      assert.ok(!fs.existsSync(path.join(app, 'node_modules', dev)), `${dev} (a dev dependency) is in the image`);
    assert.ok(!fs.existsSync(path.join(app, 'node_modules/onnxruntime-node/bin/napi-v6/win32')));
    const megabytes = folderBytes(app) / 2 ** 20;
    console.log(`the app in the image: ${megabytes.toFixed(0)} MiB`);
    assert.ok(megabytes < 250, `the app is ${megabytes.toFixed(0)} MiB`);
  });

  test('HEALTHCHECK fails before the service is ready and passes once it is; the service classifies audio and serves the demo; SIGTERM stops it cleanly', async () => {
    assert.notEqual(healthcheck(), 0, 'the health check passed with no service running');
    service = spawn(image.command![0], image.command!.slice(1), { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    service.stdout!.on('data', (d) => (output += String(d)));
    service.stderr!.on('data', (d) => (output += String(d)));
    const exited = new Promise<number | null>((resolve) => service!.once('exit', (code) => resolve(code)));
    const started = Date.now();
    while (healthcheck() !== 0) {
      assert.ok(Date.now() - started < 60_000, `not healthy after 60 s; the service said:\n${output}`);
      assert.equal(service.exitCode, null, `the service exited:\n${output}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const demo = await fetch(`http://127.0.0.1:${env.AER_PORT}/app.js`);
    assert.equal(demo.status, 200, 'the web demo is not served from the image');
    assert.match(await demo.text(), /WebSocket/);
    const reply = await fetch(`http://127.0.0.1:${env.AER_PORT}/v1/classify?vad=false`, {
      method: 'POST',
      body: writeWav({ sampleRate: 16000, channels: [voiced(3)] }),
    });
    assert.equal(reply.status, 200, await reply.clone().text());
    const result = (await reply.json()) as { events: { type: string; label?: string }[] };
    assert.ok(result.events.some((e) => e.type === 'emotion' && typeof e.label === 'string'));
    service.kill('SIGTERM');
    assert.equal(await exited, 0, output);
  });
});
