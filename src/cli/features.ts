/** `aer features`: write the model input of an audio file as raw float32. */
import fs from 'node:fs/promises';
import type { Command } from 'commander';
import { readAudioFile } from '../audio/load.ts';
import type { ChannelChoice } from '../audio/mix.ts';
import { AerError } from '../errors.ts';
import { clipFeatures } from '../features/extract.ts';
import { DEFAULT_HOP_MS, MAX_HOP_MS, MIN_HOP_MS } from '../features/hop.ts';
import { N_MELS, SAMPLE_RATE, WINDOW_FRAMES, WINDOW_SAMPLES, WINDOW_VALUES } from '../features/recipe.ts';
import { modelSignal } from '../features/signal.ts';
import { signalWindows } from '../features/windows.ts';
import { action, parseChannelOption, parseNumberOption, printJson } from './run.ts';

interface FeaturesOptions {
  out: string;
  windows?: boolean;
  hopMs: number;
  channel: ChannelChoice;
  json?: boolean;
}

async function writeFloats(path: string, values: Float32Array[]): Promise<void> {
  const bytes = new Uint8Array(values.length * WINDOW_VALUES * 4);
  const view = new DataView(bytes.buffer);
  let p = 0;
  for (const v of values) for (let i = 0; i < v.length; i++, p += 4) view.setFloat32(p, v[i], true);
  try {
    await fs.writeFile(path, bytes);
  } catch (error) {
    throw new AerError('io_error', `cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
}

async function run(file: string, options: FeaturesOptions): Promise<void> {
  const audio = await readAudioFile(file);
  if (audio.channels[0].length === 0) throw new AerError('empty_audio', `${file} has no audio samples, so there are no features to write`);
  const signal = modelSignal(audio, options.channel);
  const seconds = (n: number) => Number((n / SAMPLE_RATE).toFixed(4));
  const summary = {
    file,
    format: audio.format,
    sample_rate: audio.sampleRate,
    channels: audio.channels.length,
    channel: options.channel,
    duration_s: seconds(signal.length),
    out: options.out,
    warnings: audio.warnings,
  };
  if (!options.windows) {
    await writeFloats(options.out, [clipFeatures(signal)]);
    if (options.json) printJson({ ...summary, shape: [WINDOW_FRAMES, N_MELS] });
    else
      process.stdout.write(`wrote ${options.out}: ${WINDOW_FRAMES} x ${N_MELS} float32 (first ${WINDOW_SAMPLES / SAMPLE_RATE} s of ${summary.duration_s} s)\n`);
    return;
  }
  const { windows, hopMs } = signalWindows(signal, options.hopMs);
  await writeFloats(
    options.out,
    windows.map((w) => w.features),
  );
  const rows = windows.map((w) => ({ index: w.index, start_s: seconds(w.start), end_s: seconds(w.start + w.samples), partial: w.partial }));
  if (options.json) {
    printJson({ ...summary, hop_ms: Number(hopMs.toFixed(3)), shape: [windows.length, WINDOW_FRAMES, N_MELS], windows: rows });
    return;
  }
  const lines = rows.map(
    (r) =>
      `${String(r.index).padStart(5)}  ${r.start_s.toFixed(3).padStart(9)}  ${r.end_s.toFixed(3).padStart(9)}${r.partial ? '  (partial: zero-padded)' : ''}`,
  );
  process.stdout.write(
    `wrote ${options.out}: ${windows.length} x ${WINDOW_FRAMES} x ${N_MELS} float32, hop ${hopMs.toFixed(1)} ms\n` +
      `window    start_s      end_s\n${lines.join('\n')}\n`,
  );
}

export function registerFeatures(command: Command): void {
  command
    .argument('<audio>', 'a WAV or Ogg Opus file (any sample rate from 8 to 48 kHz, any channel count up to 8)')
    .requiredOption('-o, --out <file>', 'where to write the features (.f32)')
    .option('--windows', 'write every window of the file (n x 130 x 128) and list their start times, instead of the first 3 s (130 x 128)')
    .option(
      '--hop-ms <ms>',
      `hop between windows with --windows, rounded to whole 512-sample frames (${MIN_HOP_MS}-${MAX_HOP_MS})`,
      parseNumberOption('--hop-ms', MIN_HOP_MS, MAX_HOP_MS),
      DEFAULT_HOP_MS,
    )
    .option('--channel <mix|n>', 'analyse the mean of all channels ("mix") or one channel, numbered from 0', parseChannelOption, 'mix' as ChannelChoice)
    .option('--json', 'print a JSON summary (with window times) instead of text')
    .addHelpText(
      'after',
      `
The audio is mixed or picked down to one channel, resampled to ${SAMPLE_RATE} Hz, and turned into
${WINDOW_FRAMES} frames x ${N_MELS} Mel bands per 3 s window, z-scored, exactly as librosa's recipe
(see docs/architecture.md). A file shorter than 3 s is zero-padded; with --windows, a last window
that runs past the end is zero-padded and marked partial.

Examples:
  aer features call.wav --out call.f32
  aer features call.opus --out call.f32 --windows --hop-ms 500 --channel 1 --json`,
    )
    .action(action(run));
}
