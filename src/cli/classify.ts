/**
 * `aer classify FILE...`: tag audio files on this machine, no server, through
 * the pipeline /v1/classify runs (VAD, a window every hop, the model,
 * smoothing). Per window or per channel's summary, as text, JSON or CSV. A
 * file that cannot be read is named and the others are tagged; the command
 * then exits 1.
 */
import fs from 'node:fs';
import { type Command, Option } from 'commander';
import { ENGINES, type EngineChoice } from '../engine/engine.ts';
import { loadEngine } from '../engine/load-engine.ts';
import { checkEngine } from '../engine/output-check.ts';
import { AerError, isAerError } from '../errors.ts';
import { DEFAULT_HOP_MS, MAX_HOP_MS, MIN_HOP_MS } from '../features/hop.ts';
import { DEFAULT_MODEL_DIR, narrowbandFailure, narrowbandModelDir } from '../model/default-model.ts';
import { type ClassifyResult, classifyStream } from '../stream/classify-file.ts';
import { BANDS, type Band, type EmotionMessage } from '../protocol/wire.ts';
import type { StreamConfig } from '../protocol/stream-config.ts';
import { DEFAULT_SCHEDULER_OPTIONS } from '../stream/scheduler.ts';
import { Session } from '../stream/session.ts';
import { modelSpec, NARROWBAND_MAX_RATE, ServedModels } from '../stream/served-models.ts';
import type { ChannelSummary } from '../stream/summary.ts';
import { VadBatcher } from '../stream/vad.ts';
import { action, parseNumberOption, printJson } from './run.ts';

interface ClassifyFlags {
  model: string;
  narrowbandModel?: string;
  band: Band;
  engine: EngineChoice;
  hopMs: number;
  vad: boolean;
  summary?: boolean;
  json?: boolean;
  csv?: boolean;
}

type Tagged = { file: string } & Omit<ClassifyResult, 'events'> & { windows?: EmotionMessage[] };

const clock = (s: number) => `${String(Math.floor(s / 60)).padStart(2, '0')}:${(s % 60).toFixed(1).padStart(4, '0')}`;

function summaryLine(c: ChannelSummary): string {
  if (c.dominant === null) return `channel ${c.channel}: no speech in ${c.windows} windows`;
  const labels = Object.entries(c.by_label)
    .map(([l, s]) => `${l} ${s.toFixed(1)} s`)
    .join(', ');
  return `channel ${c.channel}: speech ${c.speech_s.toFixed(1)} s, mostly ${c.dominant} (${labels}); ${c.changes} change${c.changes === 1 ? '' : 's'}`;
}

function asText(t: Tagged): string {
  const model = t.band === 'narrow' ? ', telephone-band model' : '';
  const lines = [`${t.file}: ${t.format}, ${t.duration_s.toFixed(1)} s, ${t.channels} channel(s)${model}`];
  for (const w of t.warnings) lines.push(`  warning: ${w}`);
  for (const e of t.windows ?? [])
    lines.push(`  ${clock(e.start_s)}-${clock(e.end_s)}  ch${e.channel}  ${e.speech ? `${e.label} ${e.confidence?.toFixed(2)}` : '(no speech)'}`);
  for (const c of t.summary) lines.push(`  ${summaryLine(c)}`);
  return `${lines.join('\n')}\n`;
}

/** CSV: a row per window (its scores per label), or a row per channel with --summary. */
function asCsv(all: Tagged[], labels: string[], summary: boolean): string {
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  if (summary) {
    const rows = all.flatMap((t) =>
      t.summary.map((c) => [quote(t.file), c.channel, c.speech_s, c.dominant ?? '', c.changes, ...labels.map((l) => c.by_label[l] ?? 0)].join(',')),
    );
    return `${['file', 'channel', 'speech_s', 'dominant', 'changes', ...labels.map((l) => `${l}_s`)].join(',')}\n${rows.map((r) => `${r}\n`).join('')}`;
  }
  const rows = all.flatMap((t) =>
    (t.windows ?? []).map((e) =>
      [quote(t.file), e.channel, e.start_s, e.end_s, e.speech, e.label ?? '', e.confidence ?? '', ...labels.map((l) => e.scores?.[l] ?? '')].join(','),
    ),
  );
  return `${['file', 'channel', 'start_s', 'end_s', 'speech', 'label', 'confidence', ...labels].join(',')}\n${rows.map((r) => `${r}\n`).join('')}`;
}

async function run(files: string[], flags: ClassifyFlags): Promise<void> {
  if (flags.json && flags.csv) throw new AerError('invalid_argument', '--json and --csv are two outputs; pick one');
  const engine = await loadEngine(flags.engine, flags.model);
  const narrowbandDir = narrowbandModelDir(flags.narrowbandModel, flags.model);
  const narrowband = narrowbandDir ? await loadEngine(flags.engine, narrowbandDir).catch((e: unknown) => Promise.reject(narrowbandFailure(e))) : undefined;
  const vad = flags.vad ? await VadBatcher.load() : undefined;
  try {
    await checkEngine(engine, flags.model);
    if (narrowband) await checkEngine(narrowband, narrowbandDir);
    const models = new ServedModels({ wide: engine, narrow: narrowband }, DEFAULT_SCHEDULER_OPTIONS);
    // A --band the models cannot serve is said before any file is read.
    models.for(flags.band, NARROWBAND_MAX_RATE);
    const open = (id: string) => (config: StreamConfig) => {
      const { band, engine: e, scheduler } = models.for(flags.band, config.sampleRate);
      const session = new Session(id, config, {
        scheduler,
        vad,
        ...modelSpec(e),
        bulk: true,
      });
      return { band, session };
    };
    const options = { hopMs: flags.hopMs, vad: flags.vad, attention: false, smoothing: 'ema' as const, band: flags.band, events: !flags.summary };
    const tagged: Tagged[] = [];
    const failed: { file: string; error: AerError }[] = [];
    for (const [k, file] of files.entries()) {
      try {
        if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) throw new AerError('io_error', `${file} is not a file`);
        const { events, ...result } = await classifyStream(fs.createReadStream(file), options, open(`file-${k}`), new AbortController().signal);
        const windows = flags.summary
          ? undefined
          : events.map((e) => JSON.parse(e) as { type: string }).filter((m): m is EmotionMessage => m.type === 'emotion');
        const t: Tagged = { file, ...result, ...(windows ? { windows } : {}) };
        tagged.push(t);
        if (!flags.json && !flags.csv) process.stdout.write(asText(t));
      } catch (error) {
        if (!isAerError(error)) throw error;
        failed.push({ file, error });
        process.stderr.write(`${file}: not tagged: ${error.message}${error.hint ? ` (${error.hint})` : ''}\n`);
      }
    }
    if (flags.json) printJson({ files: tagged, failed: failed.map((f) => ({ file: f.file, error: f.error.toJSON() })) });
    if (flags.csv) process.stdout.write(asCsv(tagged, engine.labels, flags.summary === true));
    if (failed.length > 0) process.exitCode = 1;
  } finally {
    await engine.dispose();
    await narrowband?.dispose();
    await vad?.dispose();
  }
}

export function registerClassify(command: Command): void {
  command
    .argument('<files...>', 'WAV or Ogg Opus files')
    .addOption(new Option('-m, --model <dir>', 'model directory').default(DEFAULT_MODEL_DIR))
    .addOption(
      new Option(
        '--narrowband-model <dir>',
        'telephone-band model for files at 8 kHz or less (none: the default model hears everything; default: models/telephone beside the shipped model)',
      ),
    )
    .addOption(new Option('--band <band>', 'which model hears the files (auto: the telephone-band one for 8 kHz or less)').choices([...BANDS]).default('auto'))
    .addOption(new Option('--engine <name>', 'inference engine').choices(ENGINES.filter((e) => e !== 'simulated')).default('auto'))
    .option('--hop-ms <ms>', 'time between windows', parseNumberOption('--hop-ms', MIN_HOP_MS, MAX_HOP_MS), DEFAULT_HOP_MS)
    .option('--no-vad', 'analyse every window, speech or not')
    .option('--summary', 'per channel only: speech time, time per label, the dominant label, changes')
    .option('--json', 'one JSON document: per file its format, summary and windows')
    .option('--csv', "CSV: a row per window (with every label's score), or per channel with --summary")
    .addHelpText(
      'after',
      `
Examples:
  npx aer classify call.wav                      # a line per window, then each channel's summary
  npx aer classify recordings/*.wav --summary --csv > summary.csv`,
    )
    .action(action(run));
}
