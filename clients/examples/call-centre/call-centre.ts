/**
 * Call-centre live tagging, from the command line (usage below). Per call:
 * the console timeline, alerts, DIR/NAME.segments.jsonl (or .csv) and
 * DIR/NAME.summary.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AerClientError } from '../../js/src/index.ts';
import { type AudioFileSource, readAudioFile } from '../../js/src/node/index.ts';
import { segmentsAsCsv, segmentsAsJsonl } from './segments.ts';
import { formatSummary } from './summary.ts';
import { DEFAULT_ALERT_AFTER_S, pairAsStereo, tagCall } from './tag-call.ts';
import { commandLine, exitWith, usageError } from '../command-line.ts';

const USAGE = `Tag calls with a running aer-stream service, as they would be tagged live.

  node --import tsx clients/examples/call-centre/call-centre.ts CALL.wav [MORE.wav | FOLDER ...] [options]
  node --import tsx clients/examples/call-centre/call-centre.ts --agent AGENT.wav --customer CUSTOMER.wav [options]

A call is a stereo WAV or Ogg Opus file (agent left, customer right), a mono
one (one party), or two mono WAVs given as --agent and --customer.

  --url URL          the service (default ws://127.0.0.1:8080)
  --out DIR          where the segments and summaries go (default: a new temporary folder)
  --format F         jsonl or csv (default jsonl)
  --fast             send as fast as the server reads, not in real time
  --speakers A,B     names of the channels (default agent,customer; caller for a mono file)
  --alert WHO:L,L    alert when WHO sounds like one of these (default customer:angry,disgust)
  --alert-after S    ... for S seconds of audio (default 2)
  --token T          bearer token, when the service asks for one
  -h, --help         this text`;

const { values, positionals } = commandLine(USAGE, {
  url: { type: 'string', default: 'ws://127.0.0.1:8080' },
  out: { type: 'string' },
  format: { type: 'string', default: 'jsonl' },
  fast: { type: 'boolean', default: false },
  speakers: { type: 'string' },
  alert: { type: 'string', default: 'customer:angry,disgust' },
  'alert-after': { type: 'string', default: String(DEFAULT_ALERT_AFTER_S) },
  token: { type: 'string' },
  agent: { type: 'string' },
  customer: { type: 'string' },
});

/** The calls named: files as given, folders' audio files in name order; what a folder holds that is not audio is said, not skipped silently. */
function callsIn(inputs: string[]): string[] {
  return inputs.flatMap((p) => {
    if (!fs.existsSync(p)) throw new AerClientError('unreadable_file', `${p} does not exist`);
    if (!fs.statSync(p).isDirectory()) return [p];
    const files = fs.readdirSync(p).sort();
    const audio = files.filter((f) => /\.(wav|opus|ogg)$/i.test(f));
    const other = files.filter((f) => !audio.includes(f) && fs.statSync(path.join(p, f)).isFile());
    if (other.length > 0)
      console.log(
        `${p}: not tagging ${other.length} file(s) that are not .wav, .ogg or .opus (${other.slice(0, 3).join(', ')}${other.length > 3 ? ', ...' : ''})`,
      );
    return audio.map((f) => path.join(p, f));
  });
}

async function main(): Promise<void> {
  if (values.format !== 'jsonl' && values.format !== 'csv') throw new AerClientError('invalid_audio', `--format is jsonl or csv, not ${values.format}`);
  const [watched, labels = ''] = values.alert!.split(':');
  const alertAfterS = Number(values['alert-after']);
  if (!Number.isFinite(alertAfterS) || alertAfterS < 0) usageError(USAGE, `--alert-after is seconds, 0 or more, not ${values['alert-after']}`);
  const options = {
    url: values.url!,
    speakers: values.speakers?.split(','),
    alertOn: { speaker: watched, labels: labels.split(',') },
    alertAfterS,
    realtime: !values.fast,
    token: values.token,
    log: (line: string) => console.log(line),
  };
  const sources =
    values.agent && values.customer
      ? [{ name: values.agent, load: () => pairAsStereo(values.agent!, values.customer!) }]
      : callsIn(positionals).map((f) => ({ name: f, load: () => readAudioFile(f) }));
  if (sources.length === 0)
    throw new AerClientError(
      'unreadable_file',
      'no call given: pass a stereo WAV or Ogg Opus file (or a folder of them), or --agent A.wav --customer B.wav (--help for more)',
    );
  const out = values.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'call-tags-'));
  fs.mkdirSync(out, { recursive: true });
  const failed: string[] = [];
  for (const { name: given, load } of sources) {
    let source: AudioFileSource;
    try {
      source = await load();
    } catch (error) {
      // One unreadable call does not stop the others; it is named, and the run ends non-zero.
      if (!(error instanceof AerClientError)) throw error;
      console.log(`\n== ${given}: not tagged: ${error.message}`);
      failed.push(given);
      continue;
    }
    console.log(`\n== ${source.path} (${source.durationS.toFixed(1)} s, ${source.format.channels} channel(s))`);
    const { segments, summary } = await tagCall(source, options);
    const name = path.basename(source.path.split(' + ')[0]).replace(/\.[^.]+$/, '');
    fs.writeFileSync(path.join(out, `${name}.segments.${values.format}`), values.format === 'csv' ? segmentsAsCsv(segments) : segmentsAsJsonl(segments));
    fs.writeFileSync(path.join(out, `${name}.summary.json`), `${JSON.stringify(summary, null, 2)}\n`);
    console.log(`\n${formatSummary(summary)}\n  written: ${path.join(out, name)}.segments.${values.format}, .summary.json`);
  }
  if (failed.length > 0) throw new AerClientError('unreadable_file', `${failed.length} of ${sources.length} call(s) could not be read: ${failed.join(', ')}`);
}

main().catch(exitWith);
