/** The client SDK (clients/js) against a real service started by the test. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Encoder } from '@evan/opus';
import { toArray } from 'rxjs';
import {
  AerClientError,
  type AerSession,
  type ClientErrorCode,
  connect,
  type EmotionMessage,
  type SocketFactory,
  type SocketLike,
} from '../../clients/js/src/index.ts';
import { analyseFile, readAudioFile } from '../../clients/js/src/node/index.ts';
import { writeWav } from '../../src/audio/wav-write.ts';
import { resample } from '../../src/audio/resample.ts';
import { type Service, startService, voiced } from '../helpers/service.ts';
import { PROJECT_ROOT } from '../helpers/shared.ts';
import { needsTools, run, tempDir } from '../helpers/tools.ts';

const toS16 = (x: Float32Array) => Int16Array.from(x, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32767))));

async function rejectsWith(promise: Promise<unknown>, code: ClientErrorCode, message?: RegExp): Promise<AerClientError> {
  const error = await promise.then(
    () => assert.fail(`resolved; expected an AerClientError ${code}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AerClientError, `not an AerClientError: ${error}`);
  assert.equal(error.code, code, error.message);
  if (message) assert.match(error.message, message);
  return error;
}

/** Sends `seconds` of voiced PCM in 100 ms pieces, without pacing. */
async function sendVoiced(session: AerSession, seconds: number): Promise<void> {
  const samples = toS16(voiced(seconds));
  for (let i = 0; i < samples.length; i += 1600) await session.send(samples.subarray(i, i + 1600));
}

describe('client SDK', () => {
  let service: Service;
  before(async () => {
    service = await startService({ idleTimeoutMs: 1000 });
  });
  after(() => service.stop());

  test('connect, send Int16Array and Float32Array samples, close: events as callbacks and Observables, then the stats', async () => {
    const session = await connect(service.http.replace('http', 'ws'), { vad: false, sampleRate: 16000 });
    assert.equal(session.ready.config.encoding, 'pcm_s16le');
    const viaCallback: EmotionMessage[] = [];
    session.on('emotion', (e) => viaCallback.push(e));
    const all = new Promise<EmotionMessage[]>((resolve) => session.emotions$.pipe(toArray()).subscribe(resolve));
    await sendVoiced(session, 2);
    await session.send(voiced(1.5));
    const closed = await session.close();
    assert.equal(closed.reason, 'close_stream');
    assert.equal(closed.stats.audio_s, 3.5);
    assert.deepEqual(closed.lost, []);
    const emotions = await all;
    assert.ok(emotions.length >= 2);
    assert.deepEqual(emotions, viaCallback);
    assert.ok(emotions.every((e) => e.speech && typeof e.label === 'string' && e.attention?.length === 16));
    assert.equal(session.audioSeconds, 3.5);
  });

  test('Opus packets, G.711 bytes, two channels; a message over 1 MiB of PCM is cut at frame boundaries', async () => {
    const opus = await connect(service.url, { encoding: 'opus', vad: false });
    const encoder = new Encoder({ channels: 1, sample_rate: 48000, application: 'voip' });
    const pcm = toS16(resample(voiced(3.2), 16000, 48000));
    for (let p = 0; p + 960 <= pcm.length; p += 960) await opus.send(encoder.encode(pcm.subarray(p, p + 960)));
    assert.ok(Math.abs(opus.audioSeconds - 3.2) < 0.021);
    const closed = await opus.close();
    assert.ok(closed.stats.windows >= 1 && closed.stats.decode_errors === 0);

    // G.711: 8 kHz by default, a byte a frame per channel; samples are refused (a telephony bridge has bytes).
    const phone = await connect(service.url, { encoding: 'mulaw', channels: 2, vad: false });
    await phone.send(new Uint8Array(2 * 8000 * 3.5).fill(0x55));
    assert.equal(phone.audioSeconds, 3.5);
    await rejectsWith(phone.send(new Float32Array(320)), 'invalid_audio', /opened for mulaw: send encoded bytes/);
    const phoned = await phone.close();
    assert.deepEqual([phoned.stats.audio_s, phoned.stats.bytes], [3.5, 56000]);

    const stereo = await connect(service.url, { channels: 2, encoding: 'pcm_f32le', vad: false });
    const frames = 140_000;
    const big = new Float32Array(frames * 2).map((_, i) => Math.sin(i / 30) * 0.3);
    await stereo.send(big);
    const result = await stereo.close();
    assert.equal(result.stats.bytes, frames * 2 * 4);
    assert.ok(Math.abs(result.stats.audio_s - frames / 16000) < 1e-6);
  });

  test('files: WAV and Ogg Opus streamed and analysed; the file helper tells the format', { skip: needsTools('opusenc') }, async () => {
    const dir = tempDir();
    const wavPath = path.join(dir, 'speech.wav');
    fs.writeFileSync(wavPath, writeWav({ sampleRate: 22050, channels: [voiced(3.3, 22050)] }));
    const emotions: EmotionMessage[] = [];
    const wav = await analyseFile(service.url, wavPath, { realtime: false, vad: false, onSession: (s) => s.on('emotion', (e) => emotions.push(e)) });
    assert.equal(wav.stats.audio_s, 3.3);
    assert.ok(emotions.length >= 1);
    const oggPath = path.join(dir, 'speech.opus');
    run('opusenc', ['--quiet', wavPath, oggPath]);
    const source = await readAudioFile(oggPath);
    assert.deepEqual(source.format, { encoding: 'ogg_opus', sampleRate: 48000, channels: 1 });
    assert.ok(Math.abs(source.durationS - 3.3) < 0.01);
    const ogg = await analyseFile(service.url, oggPath, { realtime: false, vad: false });
    assert.ok(Math.abs(ogg.stats.audio_s - 3.3) < 0.01);
  });

  test('real-time pace: a 1.5 s file takes about 1.5 s to send', async () => {
    const file = path.join(tempDir(), 'short.wav');
    fs.writeFileSync(file, writeWav({ sampleRate: 16000, channels: [voiced(1.5)] }));
    const started = Date.now();
    await analyseFile(service.url, file, { vad: false });
    assert.ok(Date.now() - started >= 1400, `took ${Date.now() - started} ms`);
  });

  test('keepalive holds an idle session open past the idle timeout; without it the server closes it', async () => {
    const kept = await connect(service.url, { keepaliveMs: 200, vad: false });
    await new Promise((r) => setTimeout(r, 1600));
    assert.ok(kept.connected);
    assert.equal((await kept.close()).reason, 'close_stream');

    const idle = await connect(service.url, { keepaliveMs: 0, vad: false });
    const closed = await new Promise((resolve) => idle.on('closed', resolve));
    assert.equal((closed as { reason: string }).reason, 'idle_timeout');
  });

  test('bad input: each a typed error that says what to do', async () => {
    const dir = tempDir();
    await rejectsWith(connect('ws://127.0.0.1:1', { reconnect: false }), 'connection_failed', /ECONNREFUSED.*check the URL/);
    await rejectsWith(connect(`${service.http.replace('http', 'ws')}/v2/stream`), 'connection_failed', /404/);
    await rejectsWith(connect(service.url, { hopMs: 5 }), 'bad_request', /hop_ms must be/);
    await rejectsWith(readAudioFile(path.join(dir, 'missing.wav')), 'unreadable_file', /ENOENT/);
    fs.writeFileSync(path.join(dir, 'song.mp3'), 'ID3\u0004 not audio we read');
    await rejectsWith(readAudioFile(path.join(dir, 'song.mp3')), 'unreadable_file', /ffmpeg -i/);
    const opus = await connect(service.url, { encoding: 'opus' });
    await rejectsWith(opus.send(new Int16Array(960)), 'invalid_audio', /encoded bytes/);
    await opus.close();
    await rejectsWith(opus.send(new Uint8Array(10)), 'session_closed');
  });

  test('refused auth and a full server are typed errors', async () => {
    const token = 'a-test-token-of-enough-length';
    const guarded = await startService({ maxSessions: 1 }, [token]);
    try {
      await rejectsWith(connect(guarded.url, { token: 'wrong-token-of-some-length' }), 'unauthorized', /token/);
      const first = await connect(guarded.url, { token });
      const full = await rejectsWith(connect(guarded.url, { token }), 'server_full', /retry later/);
      assert.equal(full.closeCode, 1013);
      await first.close();
    } finally {
      await guarded.stop();
    }
  });

  test('reconnects after a server restart, on a continuous clock, and tells which audio was not analysed', { timeout: 60_000 }, async () => {
    const first = await startService({});
    const port = first.server.address.port;
    const session = await connect(first.url, { vad: false, reconnect: { initialDelayMs: 300, attempts: 8 } });
    const emotions: EmotionMessage[] = [];
    session.on('emotion', (e) => emotions.push(e));
    const reconnected = new Promise<{ lost: { from_s: number; to_s: number; seconds: number } }>((resolve) => session.on('reconnected', resolve));
    await sendVoiced(session, 4);
    await new Promise((r) => setTimeout(r, 300));
    await first.stop();
    // Audio sent while no server is there is counted as lost.
    await sendVoiced(session, 0.5);
    const second = await startService({ port });
    try {
      const { lost } = await reconnected;
      assert.ok(lost.to_s === 4.5 && lost.from_s <= 4 && lost.from_s >= 3, JSON.stringify(lost));
      await sendVoiced(session, 3.5);
      const result = await session.close();
      assert.equal(result.reconnects, 1);
      assert.equal(result.lost.length, 1);
      assert.equal(result.stats.audio_s, 3.5);
      const after = emotions.filter((e) => e.start_s >= 4.5);
      assert.ok(after.length >= 1, 'no event after the reconnection, on the session clock');
      const seqs = emotions.map((e) => e.seq);
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
      );
      assert.equal(new Set(seqs).size, seqs.length);
    } finally {
      await second.stop();
    }
  });

  test('backpressure: send() waits while the socket holds more than highWaterMark bytes', async () => {
    // A socket whose buffer the test fills and drains.
    let socket!: Omit<SocketLike, 'bufferedAmount'> & { bufferedAmount: number; sent: unknown[] };
    const factory: SocketFactory = () => {
      socket = {
        readyState: 1,
        bufferedAmount: 0,
        binaryType: '',
        sent: [],
        onopen: null,
        onmessage: null,
        onclose: null,
        onerror: null,
        send: (d: unknown) => void socket.sent.push(d),
        close: () => {},
      };
      setTimeout(
        () =>
          socket.onmessage?.({
            data: JSON.stringify({ type: 'ready', protocol: 'v1', session_id: 's', config: {}, labels: [], model: {}, attention_hop_s: 0.1875 }),
          }),
        5,
      );
      return socket;
    };
    const session = await connect('ws://127.0.0.1:1', { socketFactory: factory, highWaterMark: 1000, keepaliveMs: 0 });
    socket.bufferedAmount = 5000;
    let resolved = false;
    const sent = session.send(new Int16Array(160)).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(resolved, false, 'send() resolved with the buffer over the mark');
    assert.equal(socket.sent.length, 1, 'the audio itself goes out at once');
    socket.bufferedAmount = 0;
    await sent;
    assert.equal(resolved, true);
    session.abort();
  });

  test('the package builds to ESM with type declarations, and the build imports', () => {
    // Inside clients/js, so the build resolves its dependencies as an installed package would.
    const out = fs.mkdtempSync(path.join(PROJECT_ROOT, 'clients/js/.test-build-'));
    process.on('exit', () => fs.rmSync(out, { recursive: true, force: true }));
    execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(PROJECT_ROOT, 'clients/js'), '--outDir', out]);
    for (const f of ['index.js', 'index.d.ts', 'session.d.ts', 'node/index.js', 'node/index.d.ts'])
      assert.ok(fs.existsSync(path.join(out, f)), `${f} was not built`);
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'clients/js/package.json'), 'utf8'));
    assert.equal(pkg.type, 'module');
    assert.equal(pkg.exports['.'].types, './dist/index.d.ts');
    const exported = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(path.join(out, 'index.js'))}); console.log(Object.keys(m).sort().join(','))`],
      { cwd: path.join(PROJECT_ROOT, 'clients/js') },
    ).toString();
    assert.match(exported, /AerClientError.*AerSession.*connect/s);
  });
});
