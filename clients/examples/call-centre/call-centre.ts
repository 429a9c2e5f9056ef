/**
 * Call-centre live tagging, from the command line:
 *
 *   node --import tsx clients/examples/call-centre/call-centre.ts CALL.wav [MORE.wav | FOLDER ...]
 *     [--url ws://127.0.0.1:8080] [--out DIR] [--format jsonl|csv] [--fast]
 *     [--speakers agent,customer] [--alert customer:angry,disgust] [--token T]
 *   ... --agent AGENT.wav --customer CUSTOMER.wav     two mono sources as the two channels of one call
 *
 * Per call: the console timeline, alerts, DIR/NAME.segments.jsonl (or .csv) and DIR/NAME.summary.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AerClientError } from '../../js/src/index.ts';
import { readAudioFile } from '../../js/src/node/index.ts';
import { segmentsAsCsv, segmentsAsJsonl } from './segments.ts';
import { formatSummary } from './summary.ts';
import { pairAsStereo, tagCall } from './tag-call.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string', default: 'ws://127.0.0.1:8080' },
    out: { type: 'string', default: 'call-tags' },
    format: { type: 'string', default: 'jsonl' },
    fast: { type: 'boolean', default: false },
    speakers: { type: 'string', default: 'agent,customer' },
    alert: { type: 'string', default: 'customer:angry,disgust' },
    token: { type: 'string' },
    agent: { type: 'string' },
    customer: { type: 'string' },
  },
});

function callsIn(inputs: string[]): string[] {
  return inputs.flatMap((p) => (fs.statSync(p).isDirectory() ? fs.readdirSync(p).filter((f) => /\.(wav|opus|ogg)$/i.test(f)).sort().map((f) => path.join(p, f)) : [p]));
}

async function main(): Promise<void> {
  if (values.format !== 'jsonl' && values.format !== 'csv') throw new AerClientError('invalid_audio', `--format is jsonl or csv, not ${values.format}`);
  const [watched, labels = ''] = values.alert!.split(':');
  const options = { url: values.url!, speakers: values.speakers!.split(','), alertOn: { speaker: watched, labels: labels.split(',') }, realtime: !values.fast, token: values.token, log: (line: string) => console.log(line) };
  const sources = values.agent && values.customer ? [() => pairAsStereo(values.agent!, values.customer!)] : callsIn(positionals).map((f) => () => readAudioFile(f));
  if (sources.length === 0) throw new AerClientError('unreadable_file', 'no call given: pass a stereo WAV or Ogg Opus file (or a folder of them), or --agent A.wav --customer B.wav');
  fs.mkdirSync(values.out!, { recursive: true });
  for (const load of sources) {
    const source = await load();
    console.log(`\n== ${source.path} (${source.durationS.toFixed(1)} s, ${source.format.channels} channel(s))`);
    const { segments, summary } = await tagCall(source, options);
    const name = path.basename(source.path.split(' + ')[0]).replace(/\.[^.]+$/, '');
    fs.writeFileSync(path.join(values.out!, `${name}.segments.${values.format}`), values.format === 'csv' ? segmentsAsCsv(segments) : segmentsAsJsonl(segments));
    fs.writeFileSync(path.join(values.out!, `${name}.summary.json`), `${JSON.stringify(summary, null, 2)}\n`);
    console.log(`\n${formatSummary(summary)}\n  written: ${path.join(values.out!, name)}.segments.${values.format}, .summary.json`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof AerClientError ? `error [${error.code}]: ${error.message}` : error);
  process.exit(1);
});
