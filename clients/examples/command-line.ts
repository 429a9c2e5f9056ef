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
      usageError(usage, (error as Error).message);
    }
  };
  const parsed = parse();
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return parsed;
}

/** Ends the process for a malformed option: what was wrong, the usage, exit 2. */
export function usageError(usage: string, message: string): never {
  process.stderr.write(`${message}\n\n${usage}\n`);
  process.exit(2);
}

/** Ends the process for an error: the typed ones in one line, anything else with its stack. */
export function exitWith(error: unknown): never {
  console.error(error instanceof AerClientError ? `error [${error.code}]: ${error.message}` : error);
  process.exit(1);
}
