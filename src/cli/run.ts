/**
 * How every command reports: plain text for people, one JSON document with
 * --json, and errors as `error [code]: message` (or {"error": {...}}) with a
 * non-zero exit status: 1 for a failure, 2 for a usage mistake.
 */
import { CommanderError, InvalidArgumentError } from 'commander';
import { AerError, isAerError } from '../errors.ts';
import { type Condition, parseConditions } from '../train/conditions/names.ts';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface JsonOption {
  json?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Report an error the way the command's output mode asks for; returns the exit status. */
export function reportError(error: unknown, json: boolean): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
    // Commander has already printed its message.
    return EXIT_USAGE;
  }
  const aer = isAerError(error) ? error : new AerError('io_error', `unexpected failure: ${(error as Error)?.stack ?? String(error)}`);
  if (json) printJson({ error: aer.toJSON() });
  else process.stderr.write(`error [${aer.code}]: ${aer.message}${aer.hint ? `\n  hint: ${aer.hint}` : ''}\n`);
  return aer.code === 'invalid_argument' ? EXIT_USAGE : EXIT_FAILURE;
}

/** Wrap a command's action so its errors are reported and set the exit status. */
export function action<A extends unknown[]>(run: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await run(...args);
    } catch (error) {
      const options = args.find((a): a is JsonOption => typeof a === 'object' && a !== null && 'json' in a);
      process.exitCode = reportError(error, options?.json === true);
    }
  };
}

/** Option parsers: they turn a bad value into commander's usage error. */
export function parseNumberOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}.`);
    }
    return n;
  };
}

/** A whole number from `min` to `max`: seeds, counts. */
export function parseWholeOption(name: string, min: number, max: number) {
  const number = parseNumberOption(name, min, max);
  return (value: string): number => {
    const n = number(value);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number.`);
    return n;
  };
}

/** A `LOW-HIGH` range of numbers, each from `min` to `max`, LOW not above HIGH (one number: both ends). */
export function parseRangeOption(name: string, min: number, max: number) {
  const number = parseNumberOption(name, min, max);
  return (value: string): [number, number] => {
    const ends = value.split('-');
    if (ends.length > 2) throw new InvalidArgumentError(`${name} must be LOW-HIGH, e.g. 60-120, not ${value}.`);
    const [low, high] = [number(ends[0]), number(ends.at(-1) as string)];
    if (low > high) throw new InvalidArgumentError(`${name} must be LOW-HIGH with LOW not above HIGH, not ${value}.`);
    return [low, high];
  };
}

export function parseChannelOption(value: string): 'mix' | number {
  if (value === 'mix') return 'mix';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('use "mix" or a channel number from 0.');
  return n;
}

/** `--conditions`: all, or a comma list of condition names. */
export function conditionList(value: string): Condition[] {
  try {
    return parseConditions(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}
