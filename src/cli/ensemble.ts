/**
 * `aer ensemble`: several trained models of one recipe (other seeds) as one
 * model directory, every window's probabilities and attention averaged over
 * them (model/ensemble.ts). Serving it costs each window once per network.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { AerError } from '../errors.ts';
import { selectBackend } from '../model/backend.ts';
import { joinEnsemble, memberCount } from '../model/ensemble.ts';
import { type LoadedModel, loadModelDir, saveModelDir } from '../model/model-dir.ts';
import { type AerMetadata, weightsDigest } from '../model/model-files.ts';
import { action, printJson } from './run.ts';

interface EnsembleFlags {
  out: string;
  json?: boolean;
}

/** What members must share to be averaged: what they answer, what they hear, how they are shown a window, their shape. */
const SHARED: (keyof AerMetadata)[] = ['labels', 'feature_recipe', 'window_input', 'options', 'attention_steps'];

function checkMembers(members: LoadedModel[], digests: string[]): void {
  const [first] = members;
  for (const member of members.slice(1)) {
    for (const key of SHARED) {
      if (JSON.stringify(member.metadata[key]) !== JSON.stringify(first.metadata[key]))
        throw new AerError('invalid_argument', `${member.dir} and ${first.dir} differ in ${key}: an ensemble averages models of one recipe`, {
          hint: 'train the members with the same options, changing only --seed',
        });
    }
  }
  for (const member of members) {
    if (memberCount(member.model) > 1)
      throw new AerError('invalid_argument', `${member.dir} is an ensemble already`, { hint: 'list the networks it was made of instead' });
  }
  const twice = digests.findIndex((d, i) => digests.indexOf(d) !== i);
  if (twice >= 0)
    throw new AerError('invalid_argument', `${members[twice].dir} is the same network as another member`, { hint: 'train it with another --seed' });
}

async function run(dirs: string[], flags: EnsembleFlags): Promise<void> {
  if (dirs.length < 2) throw new AerError('invalid_argument', `an ensemble needs 2 or more model directories, got ${dirs.length}`);
  if (dirs.some((d) => path.resolve(d) === path.resolve(flags.out)))
    throw new AerError('invalid_argument', '--out is one of the members', { hint: 'write the ensemble to a directory of its own' });
  await selectBackend('auto');
  const members = await Promise.all(dirs.map((d) => loadModelDir(d)));
  const digests = await Promise.all(dirs.map((d) => weightsDigest(d)));
  checkMembers(members, digests);
  const [first] = members;
  const model = joinEnsemble(
    members.map((m) => m.model),
    first.metadata.options,
  );
  const metadata: AerMetadata = {
    ...first.metadata,
    created: new Date().toISOString(),
    ensemble: members.map((m, i) => ({
      from: path.resolve(m.dir),
      weights_sha256: digests[i],
      seed: (m.metadata.training.config as { seed?: number } | undefined)?.seed,
    })),
    training: { ensemble_of: members.map((m) => m.metadata.training) },
    metrics: {},
  };
  await saveModelDir(flags.out, model, metadata);
  if (flags.json) printJson({ out: flags.out, members: metadata.ensemble });
  else
    process.stdout.write(
      `wrote ${flags.out}: ${members.length} networks averaged (${dirs.join(', ')}); export it with aer export-onnx --model ${flags.out} (--int8 --calibration DIR)\n`,
    );
}

export function registerEnsemble(command: Command): void {
  command
    .argument('<models...>', 'model directories of one recipe, trained with other seeds')
    .requiredOption('-o, --out <dir>', 'the ensemble model directory to write')
    .option('--json', 'print what was written as JSON')
    .addHelpText(
      'after',
      `
Example:
  aer train --data datasets/emodb --split none --seed 42 --out runs/seed-42
  aer train --data datasets/emodb --split none --seed 43 --out runs/seed-43
  aer ensemble runs/seed-42 runs/seed-43 --out models/mine
  aer export-onnx --model models/mine --int8 --calibration datasets/emodb`,
    )
    .action(action(run));
}
