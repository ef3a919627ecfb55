import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseProducerId, type ProducerIdParts } from '../runtime/ids.ts';
import { CliError, UsageError } from './errors.ts';

/** One option of a command, as `node:util` `parseArgs` takes it. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
}

/** The parsed command line of one command. */
export interface ParsedArgs {
  readonly values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  readonly positionals: string[];
}

/**
 * Parses a command's arguments strictly: an unknown option, a missing value
 * or a stray argument is a {@link UsageError} with a one-line message, not
 * Node's multi-sentence parse error. `--help`/`-h` is always accepted.
 */
export function parseCommandArgs(
  argv: readonly string[],
  options: Readonly<Record<string, OptionSpec>>,
  maxPositionals = 0,
): ParsedArgs {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { help: { type: 'boolean', short: 'h' }, ...options },
      allowPositionals: maxPositionals > 0,
      strict: true,
    }) as ParsedArgs;
  } catch (e) {
    throw new UsageError(describeParseError(e));
  }
  if (parsed.values.help === true) return parsed;
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument '${parsed.positionals[maxPositionals]}'`);
  }
  return parsed;
}

/** Node's parseArgs messages are long and mention internals; keep the part a user needs. */
function describeParseError(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const message = err.message ?? String(e);
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? message}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return option !== undefined && /argument missing/.test(message)
        ? `option ${option} needs a value`
        : option !== undefined
          ? `option ${option} does not take a value`
          : message;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${/'([^']*)'/.exec(message)?.[0] ?? message}`;
    default:
      return message;
  }
}

/** A string option that must be given. */
export function requiredString(values: ParsedArgs['values'], name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

/** A string option, or undefined. */
export function optionalString(values: ParsedArgs['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * An integer option within `[min, max]`, or `fallback` when absent. Rejects
 * `12abc`, `1.5` and empty strings, which `Number()`/`parseInt` would let by.
 */
export function integerOption(values: ParsedArgs['values'], name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = values[name];
  if (v === undefined) return fallback;
  return parseInteger(String(v), `--${name}`, min, max);
}

/** Parses a decimal integer in `[min, max]`; `what` names it in the error. */
export function parseInteger(text: string, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(text.trim())) throw new UsageError(`${what} must be an integer, got '${text}'`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${what} must be ${max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`}, got ${text}`);
  }
  return n;
}

/** `--producer APP/TASK`: a producer id whose application and task are both non-empty. */
export function producerArgument(given: string): ProducerIdParts {
  const parts = given.includes('/') ? parseProducerId(given) : undefined;
  if (parts === undefined || parts.application === '' || parts.task === '') throw new UsageError(`--producer must be APP/TASK, got ${JSON.stringify(given)}`);
  return parts;
}

/** One of a fixed set of words, or `fallback` when absent. */
export function choiceOption<T extends string>(values: ParsedArgs['values'], name: string, choices: readonly T[], fallback: T): T {
  const v = values[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${String(v)}'`);
  }
  return v as T;
}

/**
 * The `--data-dir` of a command that reads an existing log: a typo must not
 * quietly create an empty log and then report that a stream is missing, nor
 * leave a `data.mdb` in a directory that is not a data dir (`/etc`).
 */
export function existingDataDir(values: ParsedArgs['values']): string {
  const dir = requiredString(values, 'data-dir');
  if (!existsSync(join(dir, 'data.mdb'))) throw new CliError(`no tidemark data dir at ${dir} (no data.mdb); produce into it first or check --data-dir`);
  return dir;
}
