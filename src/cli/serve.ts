/** `aer serve` (and `npm start`): the streaming service on the shipped model or another. */
import os from 'node:os';
import { type Command, Option } from 'commander';
import { config as rxjsConfig } from 'rxjs';
import { DEFAULT_ALERTS } from '../calls/alerts.ts';
import { parseBusUrl } from '../calls/redis-bus.ts';
import { DEFAULT_WEBHOOK_OPTIONS, parseWebhook } from '../calls/webhooks.ts';
import { ENGINES, type EngineChoice } from '../engine/engine.ts';
import { AerError } from '../errors.ts';
import { DEFAULT_SIMULATED_MS, PRECISIONS, type Precision } from '../engine/engine.ts';
import { loadEngine } from '../engine/load-engine.ts';
import { DEFAULT_MODEL_DIR, narrowbandFailure, narrowbandModelDir } from '../model/default-model.ts';
import { Tokens } from '../server/auth.ts';
import { AerServer, checkServerOptions, DEFAULT_SERVER_OPTIONS } from '../server/server.ts';
import { TRANSPORTS, type TransportName } from '../server/transport/transport.ts';
import { VadBatcher } from '../stream/vad.ts';
import { DEFAULT_SCHEDULER_OPTIONS } from '../stream/scheduler.ts';
import { checkWorkerCount, defaultFrontEndWorkers } from '../stream/workers/front-end-pool.ts';
import { action, parseNumberOption } from './run.ts';

interface ServeFlags {
  simulatedMs?: number;
  port: number;
  host: string;
  model: string;
  narrowbandModel?: string;
  engine: EngineChoice;
  precision: Precision;
  maxBatch: number;
  maxDelayMs: number;
  maxSessions: number;
  maxClassify: number;
  tokens?: string;
  idleTimeoutMs: number;
  threads: number;
  transport: TransportName;
  allowedOrigins: string[];
  metricsPort?: number;
  metricsHost: string;
  workers: number;
  alert: string[];
  alertAfter: number;
  bus?: string;
  webhook: string[];
  webhookSecret?: string;
}

const log = (message: string) => process.stderr.write(`${new Date().toISOString()} ${message}\n`);
const env = (name: string) => process.env[name] || undefined;

async function run(flags: ServeFlags): Promise<void> {
  const tokens = Tokens.load(flags.tokens, env('AER_TOKENS'));
  const host = flags.host;
  if (!tokens.enabled)
    log(
      `no tokens configured (--tokens FILE or AER_TOKENS): anyone who can reach ${host}:${flags.port} can stream${host === '127.0.0.1' || host === '::1' ? ' (this machine only)' : ''}`,
    );
  const options = {
    ...DEFAULT_SERVER_OPTIONS,
    port: flags.port,
    host,
    transport: flags.transport,
    maxSessions: flags.maxSessions,
    maxClassify: flags.maxClassify,
    idleTimeoutMs: flags.idleTimeoutMs,
    allowedOrigins: flags.allowedOrigins,
    metricsPort: flags.metricsPort,
    metricsHost: flags.metricsHost,
    log,
    workers: flags.workers,
    scheduler: { ...DEFAULT_SCHEDULER_OPTIONS, maxBatch: flags.maxBatch, maxDelayMs: flags.maxDelayMs },
    alerts: { labels: flags.alert, afterS: flags.alertAfter },
    bus: flags.bus,
    webhooks: flags.webhook.map(parseWebhook),
    webhook: { ...DEFAULT_WEBHOOK_OPTIONS, secret: flags.webhookSecret },
  };
  if (options.webhooks.length > 0 && !flags.webhookSecret)
    log('webhooks without --webhook-secret (AER_WEBHOOK_SECRET): their receivers cannot tell these requests from forged ones');
  checkWorkerCount(options.workers);
  checkServerOptions(options);
  if (options.bus) parseBusUrl(options.bus);
  if (options.workers > os.availableParallelism())
    log(`--workers ${options.workers} on ${os.availableParallelism()} cores: the front ends will take turns on the cores, which adds latency and no capacity`);
  // An error escaping an RxJS subscriber would otherwise be rethrown on a timer and end the process.
  rxjsConfig.onUnhandledError = (error) =>
    log(`internal error (unhandled in a stream pipeline): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  if (flags.simulatedMs !== undefined && flags.engine !== 'simulated')
    throw new AerError('invalid_argument', "--simulated-ms sets the simulated engine's delay", { hint: 'add --engine simulated, or leave --simulated-ms out' });
  const engineOptions = { precision: flags.precision, threads: flags.threads, cuda: true, onNotice: log, simulatedMs: flags.simulatedMs };
  const engine = await loadEngine(flags.engine, flags.model, engineOptions);
  const narrowbandDir = narrowbandModelDir(flags.narrowbandModel, flags.model);
  const narrowband = narrowbandDir
    ? await loadEngine(flags.engine, narrowbandDir, engineOptions).catch((e: unknown) => Promise.reject(narrowbandFailure(e)))
    : undefined;
  if (engine.name === 'simulated')
    log(
      `engine: SIMULATED, every window gets uniform scores after ${flags.simulatedMs ?? DEFAULT_SIMULATED_MS} ms a batch: for measuring capacity, not for tagging audio`,
    );
  const metadata = engine.metadata;
  const unknown = flags.alert.filter((l) => !engine.labels.includes(l));
  if (unknown.length > 0)
    throw new AerError('invalid_argument', `--alert names ${unknown.join(', ')}, not a label of the model`, {
      hint: `the model's labels: ${engine.labels.join(', ')}`,
    });
  // Workers load their own VAD; only sessions on this thread need one here.
  const vad = flags.workers === 0 ? await VadBatcher.load() : undefined;
  const server = new AerServer({ engine, narrowband, vad, tokens }, options);
  await server.start();
  // Signals are handled before the address is announced: whoever waits for that line may stop the server at once.
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      log(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log(`${signal}: finishing ${server.activeSessions} session(s) (at most ${options.shutdownTimeoutMs / 1000} s), then exiting`);
    void server.stop().then(async () => {
      await engine.dispose();
      await narrowband?.dispose();
      await vad?.dispose();
      log('stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  const { port, metricsPort } = server.address;
  log(
    `aer-stream listening on http://${host}:${port} (open it in a browser for the demo; stream to ws://${host}:${port}/v1/stream, telephony at /v1/telephony/twilio and /v1/telephony/audiohook, calls at /v1/calls; ${server.address.transport} transport); model ${flags.model} (${metadata.variant}, ${metadata.labels.join('/')})${narrowbandDir ? `, for 8 kHz audio ${narrowbandDir}` : ''}, engine ${engine.detail}; ${flags.workers === 0 ? 'front ends on the main thread' : `front ends on ${flags.workers} worker thread(s)`}` +
      (metricsPort !== undefined ? `; /metrics on http://${flags.metricsHost}:${metricsPort}` : tokens.enabled ? '; /metrics needs a token' : ''),
  );
}

/** `a,b` (or repeated flags) as a list of origins. */
function originList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
  ];
}

const num = (name: string, min: number, max: number) => parseNumberOption(name, min, max);

export function registerServe(command: Command): void {
  const d = DEFAULT_SCHEDULER_OPTIONS;
  command
    .addOption(
      new Option('-p, --port <n>', 'port for HTTP and WebSocket')
        .argParser(num('--port', 0, 65535))
        .default(8080)
        .env('AER_PORT'),
    )
    .addOption(new Option('--host <address>', 'address to listen on (0.0.0.0 for every interface; set tokens first)').default('127.0.0.1').env('AER_HOST'))
    .addOption(new Option('-m, --model <dir>', 'model directory').default(DEFAULT_MODEL_DIR).env('AER_MODEL'))
    .addOption(
      new Option(
        '--narrowband-model <dir>',
        'telephone-band model for streams at 8 kHz or less (G.711 calls) or band=narrow; none: the default model hears everything (default: models/telephone beside the shipped model)',
      ).env('AER_NARROWBAND_MODEL'),
    )
    .addOption(
      new Option(
        '--engine <name>',
        'inference engine (simulated: a stand-in that answers uniform scores after --simulated-ms, for capacity planning; never chosen by auto)',
      )
        .choices([...ENGINES])
        .default('auto')
        .env('AER_ENGINE'),
    )
    .addOption(
      new Option('--simulated-ms <ms>', `the simulated engine's time per batch (default ${DEFAULT_SIMULATED_MS})`)
        .argParser(num('--simulated-ms', 0, 10_000))
        .env('AER_SIMULATED_MS'),
    )
    .addOption(
      new Option('--precision <p>', 'onnx engine: int8 (model.int8.onnx), fp32, or auto (int8 on the CPU when the model has it)')
        .choices([...PRECISIONS])
        .default('auto')
        .env('AER_PRECISION'),
    )
    .addOption(
      new Option('--max-batch <n>', 'most windows in one engine batch')
        .argParser(num('--max-batch', 1, 1024))
        .default(d.maxBatch)
        .env('AER_MAX_BATCH'),
    )
    .addOption(
      new Option('--max-delay-ms <ms>', 'longest a window waits for its batch to fill')
        .argParser(num('--max-delay-ms', 0, 1000))
        .default(d.maxDelayMs)
        .env('AER_MAX_DELAY_MS'),
    )
    .addOption(
      new Option('--max-sessions <n>', 'open sessions before new ones are refused (1013)')
        .argParser(num('--max-sessions', 1, 100000))
        .default(DEFAULT_SERVER_OPTIONS.maxSessions)
        .env('AER_MAX_SESSIONS'),
    )
    .addOption(
      new Option('--max-classify <n>', '/v1/classify requests analysed at once; more get 503 and Retry-After')
        .argParser(num('--max-classify', 1, 64))
        .default(DEFAULT_SERVER_OPTIONS.maxClassify)
        .env('AER_MAX_CLASSIFY'),
    )
    .addOption(new Option('--tokens <file>', 'bearer tokens, one per line (also AER_TOKENS=a,b)').env('AER_TOKENS_FILE'))
    .addOption(
      new Option(
        '--allowed-origins <list>',
        "web origins besides the service's own whose pages may use it (comma-separated, or *); clients without an Origin header are always let in",
      )
        .argParser(originList)
        .default([])
        .env('AER_ALLOWED_ORIGINS'),
    )
    .addOption(
      new Option('--metrics-port <n>', 'serve /metrics on this port instead (without a token), e.g. for Prometheus on a private address')
        .argParser(num('--metrics-port', 0, 65535))
        .env('AER_METRICS_PORT'),
    )
    .addOption(new Option('--metrics-host <address>', 'address of the metrics port').default('127.0.0.1').env('AER_METRICS_HOST'))
    .addOption(
      new Option('--idle-timeout-ms <ms>', 'close a session without audio or keepalive for this long (0: never)')
        .argParser(num('--idle-timeout-ms', 0, 86_400_000))
        .default(DEFAULT_SERVER_OPTIONS.idleTimeoutMs)
        .env('AER_IDLE_TIMEOUT_MS'),
    )
    .addOption(
      new Option('--transport <name>', 'WebSocket server: ws, or uws (uWebSockets.js, when its optional package installed)')
        .choices([...TRANSPORTS])
        .default('ws')
        .env('AER_TRANSPORT'),
    )
    .addOption(
      new Option(
        '--workers <n>',
        "worker threads for sessions' front ends (decoding, resampling, Mel, VAD, smoothing); 0 runs them on the main thread (default: one per core)",
      )
        .argParser(num('--workers', 0, 1024))
        .default(defaultFrontEndWorkers())
        .env('AER_WORKERS'),
    )
    .addOption(new Option('--bus <url>', "calls' events across replicas: a Redis URL (redis://HOST:PORT); in process when absent").env('AER_BUS'))
    .addOption(
      new Option(
        '--webhook <spec>',
        "POST calls' events to URL, optionally only some: 'URL events=change,alert,summary' (repeatable; AER_WEBHOOKS: specs separated by ;)",
      )
        .argParser((v: string, previous: string[] = []) => [
          ...previous,
          ...v
            .split(';')
            .map((w) => w.trim())
            .filter(Boolean),
        ])
        .default([])
        .env('AER_WEBHOOKS'),
    )
    .addOption(new Option('--webhook-secret <secret>', "key of the webhooks' HMAC-SHA256 signature (x-aer-signature)").env('AER_WEBHOOK_SECRET'))
    .addOption(
      new Option('--alert <labels>', "labels that raise an alert on a call when a party holds one (comma-separated; '' for none)")
        .argParser((v) =>
          v
            .split(',')
            .map((l) => l.trim())
            .filter(Boolean),
        )
        .default(DEFAULT_ALERTS.labels)
        .env('AER_ALERT'),
    )
    .addOption(
      new Option('--alert-after <s>', 'seconds of call time a party holds an alert label before it alerts')
        .argParser(num('--alert-after', 0, 3600))
        .default(DEFAULT_ALERTS.afterS)
        .env('AER_ALERT_AFTER'),
    )
    .addOption(
      new Option('--threads <n>', 'onnxruntime threads per batch (0: one per core)')
        .argParser(num('--threads', 0, 256))
        .default(0)
        .env('AER_THREADS'),
    )
    .action(action(run));
}
