/**
 * Errors the CLI reports as one line on stderr. Anything thrown inside a
 * command ends up here: the user sees one sentence, never a stack trace
 * (set `TIDEMARK_DEBUG=1` to get the stack too).
 */

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
 * and for a usage error a pointer to the command's help.
 */
export function errorLine(command: string, error: unknown): string {
  const oneLine = describeThrown(error);
  const prefix = command === '' ? 'tidemark' : `tidemark ${command}`;
  const hint = error instanceof UsageError ? ` (see ${prefix} --help)` : '';
  return `${prefix}: ${oneLine}${hint}`;
}

/** The exit status for a thrown value. */
export function exitStatusFor(error: unknown): number {
  return error instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
}

/**
 * Any thrown value as one line of text: an error's message (its name when
 * the message is empty), a string as it is, `null`, `undefined`, a plain
 * object as JSON. Never throws itself — user code may throw anything, even
 * an object without a prototype, whose `String()` would throw.
 */
export function describeThrown(thrown: unknown): string {
  let text: string;
  if (thrown instanceof Error) text = thrown.message.trim() === '' ? thrown.name : thrown.message;
  else if (thrown === null || thrown === undefined || typeof thrown !== 'object') text = typeof thrown === 'symbol' ? thrown.toString() : String(thrown);
  else text = objectText(thrown);
  return text.replace(/\s*\n\s*/g, ' ').trim() || 'an empty message';
}

function objectText(o: object): string {
  try {
    const json = JSON.stringify(o);
    if (json !== undefined && json !== '{}') return json.length > 200 ? `${json.slice(0, 199)}…` : json;
  } catch {
    // a cycle, or a toJSON that throws: fall back to a description
  }
  try {
    const text = String(o);
    if (text !== '[object Object]') return text;
  } catch {
    // no toString (Object.create(null))
  }
  return 'an object';
}
