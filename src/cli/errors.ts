/**
 * Errors the CLI reports as one line on stderr. Anything thrown inside a
 * command ends up here: the user sees one sentence, never a stack trace
 * (set `TIDEMARK_DEBUG=1` to get the stack too).
 */
import { describeThrown } from '../runtime/describe-thrown.ts';

export { describeThrown };

/** A mistake in how a command was called: exits with status 2, and the line points to `--help`. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure the user can act on (bad input file, missing stream…): exits with status 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** Exit status for usage mistakes, as most Unix tools do. */
export const EXIT_USAGE = 2;
/** Exit status for failures. */
export const EXIT_FAILURE = 1;

/**
 * Renders any thrown value as one line: the message, with newlines folded,
 * and for a usage error a pointer to the command's help, as `cli` (the
 * words that run tidemark where the user is) runs it.
 */
export function errorLine(command: string, error: unknown, cli = 'tidemark'): string {
  const oneLine = describeThrown(error);
  const prefix = command === '' ? 'tidemark' : `tidemark ${command}`;
  const hint = error instanceof UsageError ? ` (see ${command === '' ? cli : `${cli} ${command}`} --help)` : '';
  return `${prefix}: ${oneLine}${hint}`;
}

/** The exit status for a thrown value. */
export function exitStatusFor(error: unknown): number {
  return error instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
}
