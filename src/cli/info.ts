/** `aer info`: what the readers make of an audio file. */
import type { Command } from 'commander';
import { readAudioFile } from '../audio/load.ts';
import { action, type JsonOption, printJson } from './run.ts';

function peakDb(channel: Float32Array): number {
  let peak = 0;
  for (let i = 0; i < channel.length; i++) peak = Math.max(peak, Math.abs(channel[i]));
  return peak === 0 ? Number.NEGATIVE_INFINITY : 20 * Math.log10(peak);
}

async function run(file: string, options: JsonOption): Promise<void> {
  const audio = await readAudioFile(file);
  const frames = audio.channels[0].length;
  const info = {
    file,
    format: audio.format,
    sample_rate: audio.sampleRate,
    channels: audio.channels.length,
    samples: frames,
    duration_s: Number((frames / audio.sampleRate).toFixed(6)),
    peak_dbfs: audio.channels.map((c) => {
      const db = peakDb(c);
      return Number.isFinite(db) ? Number(db.toFixed(2)) : null;
    }),
    warnings: audio.warnings,
  };
  if (options.json) {
    printJson(info);
    return;
  }
  const peaks = info.peak_dbfs.map((p) => (p === null ? 'silent' : `${p} dBFS`)).join(', ');
  process.stdout.write(
    `${file}\n  format:      ${info.format}\n  sample rate: ${info.sample_rate} Hz\n  channels:    ${info.channels}\n` +
      `  duration:    ${info.duration_s} s (${frames} samples per channel)\n  peak:        ${peaks}\n` +
      info.warnings.map((w) => `  warning:     ${w}\n`).join(''),
  );
}

export function registerInfo(command: Command): void {
  command.argument('<audio>', 'a WAV or Ogg Opus file').option('--json', 'print JSON instead of text').action(action(run));
}
