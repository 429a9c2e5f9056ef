/** `aer datasets prepare emodb SRC DEST`: a public corpus's download in the layout training reads (docs/datasets.md). */
import type { Command } from 'commander';
import { AerError } from '../errors.ts';
import { DEFAULT_PREPARE, EMODB_SUBSET_SPEAKERS, prepareEmodb } from '../train/datasets/prepare-emodb.ts';
import { action, parseNumberOption, printJson } from './run.ts';

interface PrepareFlags {
  speakers: string;
  seconds: number;
  rate: number;
  json?: boolean;
}

function run(corpus: string, src: string, dest: string, flags: PrepareFlags): void {
  const speakers = flags.speakers === 'all' ? 'all' : flags.speakers.split(',').map((s) => s.trim());
  const report = prepareEmodb(src, dest, { speakers, seconds: flags.seconds, rate: flags.rate });
  if (flags.json) printJson({ corpus, dest, ...report });
  else {
    const skipped = Object.entries(report.skipped)
      .map(([why, n]) => `${n} ${why}`)
      .join(', ');
    process.stdout.write(
      `${report.written} recordings of speakers ${report.speakers.join(', ')} written to ${dest}/wav${skipped ? `; left out: ${skipped}` : ''}\ntrain on it: npx aer train --data ${dest}\n`,
    );
  }
}

export function registerDatasets(command: Command): void {
  command
    .command('prepare')
    .description('turn an unzipped download into a dataset folder (EmoDB: the 16 kHz WAVs of download.zip)')
    .argument('<corpus>', 'the corpus: emodb')
    .argument('<src>', 'the unzipped download (the folder holding wav/, or wav/ itself)')
    .argument('<dest>', 'the dataset folder to write (DEST/wav)')
    .option('--speakers <list>', 'speakers to keep (comma list), or all', EMODB_SUBSET_SPEAKERS.join(','))
    .option('--seconds <s>', 'cut or pad each recording to this length (0: whole)', parseNumberOption('--seconds', 0, 60), DEFAULT_PREPARE.seconds)
    .option('--rate <hz>', 'sample rate to write', parseNumberOption('--rate', 8000, 48000), DEFAULT_PREPARE.rate)
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
The defaults make the subset the project's figures come from: speakers ${EMODB_SUBSET_SPEAKERS.join(', ')}, 2.0 s, 22050 Hz.
Get EmoDB from http://emodb.bilderbar.info/download/ (free for research), then:
  unzip download.zip -d emodb-download
  npx aer datasets prepare emodb emodb-download datasets/emodb`,
    )
    .action(
      action((corpus: string, src: string, dest: string, flags: PrepareFlags) => {
        if (corpus !== 'emodb')
          throw new AerError('invalid_argument', `prepare knows emodb, not ${JSON.stringify(corpus)}`, {
            hint: 'the other corpora the loader reads (CREMA-D, TESS, RAVDESS) are used as downloaded: pass their folder to --data',
          });
        run(corpus, src, dest, flags);
      }),
    );
}
