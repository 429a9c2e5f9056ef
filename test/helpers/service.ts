/** A real service on 127.0.0.1 (a narrow seeded model, onnx engine, Silero VAD) and a WebSocket client that records what it gets. */
import { describe } from 'node:test';
import WebSocket from 'ws';
import type { Engine } from '../../src/engine/engine.ts';
import { loadEngine } from '../../src/engine/load-engine.ts';
import { DEFAULT_OPTIONS } from '../../src/model/aernet-options.ts';
import { Tokens } from '../../src/server/auth.ts';
import type { ServerMessage } from '../../src/protocol/wire.ts';
import { AerServer, type ServerOptions } from '../../src/server/server.ts';
import { TRANSPORTS, type TransportName } from '../../src/server/transport/transport.ts';
import { UWS_PACKAGE, uwsAvailable } from '../../src/server/transport/uws-transport.ts';
import { VadBatcher } from '../../src/stream/vad.ts';
import { seededModel, writeModelDir } from './models.ts';
import { noise, tone } from './signals.ts';
import { prerequisite } from './shared.ts';
import { tempDir } from './tools.ts';

export interface Service {
  server: AerServer;
  url: string;
  http: string;
  engine: Engine;
  vad: VadBatcher;
  /** What the service logged (faults), instead of the test's stderr. */
  logs: string[];
  stop(): Promise<void>;
}

let modelDir: string | undefined;

/** The test model directory, written once per process. */
export async function testModelDir(): Promise<string> {
  if (!modelDir) {
    const dir = tempDir();
    const options = { ...DEFAULT_OPTIONS, filters: [4, 8, 8] as [number, number, number], lstmUnits: 8, attentionUnits: 8 };
    await writeModelDir(dir, await seededModel(options), options);
    modelDir = dir;
  }
  return modelDir;
}

/** A service on the narrow test model, or on `modelDir` (the shipped default, where a test needs real predictions), with `narrowbandDir` as its telephone-band companion. */
export async function startService(
  options: Partial<ServerOptions> = {},
  tokens: string[] = [],
  wrap?: (e: Engine) => Engine,
  modelDir?: string,
  narrowbandDir?: string,
): Promise<Service> {
  const dir = modelDir ?? (await testModelDir());
  const loaded = await loadEngine('onnx', dir);
  const engine = wrap ? wrap(loaded) : loaded;
  const narrowband = narrowbandDir ? await loadEngine('onnx', narrowbandDir) : undefined;
  const vad = await VadBatcher.load();
  const logs: string[] = [];
  const release = async () => {
    await engine.dispose();
    await narrowband?.dispose();
    await vad.dispose();
  };
  const server = new AerServer(
    { engine, narrowband, vad, tokens: new Tokens(tokens) },
    { port: 0, host: '127.0.0.1', log: (line) => logs.push(line), ...options },
  );
  try {
    await server.start();
  } catch (error) {
    await release();
    throw error;
  }
  const port = server.address.port;
  return {
    server,
    engine,
    vad,
    logs,
    url: `ws://127.0.0.1:${port}/v1/stream`,
    http: `http://127.0.0.1:${port}`,
    stop: async () => {
      await server.stop();
      await release();
    },
  };
}

/**
 * The same suite over every transport with the front ends on the main
 * thread, and over ws with them on a worker thread (what `aer serve` runs
 * by default); uws is skipped, saying why, where its package did not install.
 */
export function forEachTransport(suite: (transport: TransportName, workers: number) => void): void {
  for (const transport of TRANSPORTS) {
    const skip = prerequisite(transport !== 'uws' || uwsAvailable(), `${UWS_PACKAGE} is not installed (optional dependency)`);
    describe(`over the ${transport} transport`, { skip }, () => suite(transport, 0));
  }
  describe('over the ws transport, front ends on a worker thread', () => suite('ws', 1));
}

export class TestClient {
  readonly messages: ServerMessage[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  /** The close code and reason, once closed. */
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers });
    this.ws.on('message', (data) => this.messages.push(JSON.parse(String(data)) as ServerMessage));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  of<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.messages.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  }

  send(data: Uint8Array | string): void {
    this.ws.send(data);
  }

  control(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Resolves once a message matching `test` has arrived. */
  async waitFor(test: (m: ServerMessage) => boolean, timeoutMs = 10_000): Promise<ServerMessage> {
    const started = Date.now();
    for (;;) {
      const found = this.messages.find(test);
      if (found) return found;
      if (Date.now() - started > timeoutMs) throw new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(this.messages.map((m) => m.type))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Tone and noise that the tests stream (VAD off) as "voice". */
export function voiced(seconds: number, rate = 16000): Float32Array {
  const t = tone(180, rate, Math.round(seconds * rate), 0.3);
  const n = noise(Math.round(seconds * rate), 0.02, 4);
  return t.map((v, i) => v + n[i]);
}

/** s16 little-endian interleaved bytes. */
export function s16(channels: Float32Array[]): Uint8Array {
  const frames = channels[0].length;
  const out = new Uint8Array(frames * channels.length * 2);
  const view = new DataView(out.buffer);
  for (let f = 0; f < frames; f++)
    channels.forEach((c, k) => view.setInt16((f * channels.length + k) * 2, Math.max(-32768, Math.min(32767, Math.round(c[f] * 32767))), true));
  return out;
}

export function pieces(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

/** One whole 3.5 s PCM session (VAD off), then the service's /metrics text. */
export async function metricsAfterSession(service: Service): Promise<string> {
  const client = new TestClient(`${service.url}?encoding=pcm_s16le&sample_rate=16000&vad=false`);
  await client.opened;
  for (const m of pieces(s16([voiced(3.5)]), 640)) client.send(m);
  client.control({ type: 'close_stream' });
  await client.closed;
  return (await fetch(`${service.http}/metrics`)).text();
}

/** A whole normal session (PCM, VAD off) that must end well: what every fault test checks afterwards. */
export async function normalSession(url: string, query = '?encoding=pcm_s16le&sample_rate=16000&vad=false', seconds = 3.5): Promise<TestClient> {
  const client = new TestClient(url + query);
  await client.opened;
  for (const m of pieces(s16([voiced(seconds)]), 640)) client.send(m);
  client.control({ type: 'close_stream' });
  const { code } = await client.closed;
  if (code !== 1000) throw new Error(`the normal session closed ${code}: ${JSON.stringify(client.messages.map((m) => m.type))}`);
  if (client.of('emotion').length < 2 || client.messages.at(-1)?.type !== 'closed')
    throw new Error(
      `the normal session got ${JSON.stringify(client.messages.map((m) => m.type))}: ${JSON.stringify(client.messages.filter((m) => m.type === 'warning' || m.type === 'error'))}`,
    );
  return client;
}

/**
 * A live session beside a fault (`url` with a 16 kHz pcm_s16le query): it
 * streams at real-time pace, 20 ms a message, until `finish`, which closes
 * it and returns what it got.
 */
export function liveBeside(url: string): { finish(): Promise<TestClient> } {
  const client = new TestClient(url);
  const audio = pieces(s16([voiced(120)]), 640);
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  void client.opened.then(() => {
    timer = setInterval(() => {
      if (next < audio.length) client.send(audio[next++]);
    }, 20);
  });
  return {
    async finish() {
      await client.opened;
      clearInterval(timer);
      client.control({ type: 'close_stream' });
      const { code } = await client.closed;
      if (code !== 1000) throw new Error(`the live session beside closed ${code}`);
      return client;
    },
  };
}

/** A counter or gauge's value in Prometheus text (0 when absent). */
export function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** The engine, with some of its methods replaced (a test's fault). */
export function wrapEngine(engine: Engine, predict: Engine['predict']): Engine {
  return Object.assign(Object.create(engine) as Engine, { predict });
}
