/**
 * What both examples' command lines share: --help prints the usage and
 * exits 0; an unknown or malformed option prints what was wrong and the
 * usage, and exits 2; an error prints one line and exits 1.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AerClientError } from '../js/src/index.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

export function commandLine<O extends Options>(usage: string, options: O) {
  const parse = () => {
    try {
      return parseArgs({ allowPositionals: true, options: { ...options, help: { type: 'boolean', short: 'h', default: false } } });
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n\n${usage}\n`);
      process.exit(2);
    }
  };
  const parsed = parse();
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return parsed;
}

/** Ends the process for an error: the typed ones in one line, anything else with its stack. */
export function exitWith(error: unknown): never {
  console.error(error instanceof AerClientError ? `error [${error.code}]: ${error.message}` : error);
  process.exit(1);
}
