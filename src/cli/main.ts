#!/usr/bin/env node
/**
 * The `tidemark` command: dispatches to a subcommand (a module each in this
 * folder). Every failure is reported as one line on stderr with a non-zero
 * exit status — 2 for a usage mistake, 1 otherwise — never a stack trace,
 * unless `TIDEMARK_DEBUG=1` asks for one.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { errorLine, exitStatusFor, UsageError } from './errors.ts';
import { processIo, type CommandIo } from './io.ts';
import { thisCliInvocation } from './invocation.ts';

type CommandFn = (argv: readonly string[], io: CommandIo) => Promise<number>;

/**
 * The words that run tidemark where the user is, for the commands the help
 * and errors suggest: set by the program's start (`npx tidemark`,
 * `node src/cli/main.ts`…); `tidemark` when {@link main} is called in-process.
 */
let invocation = 'tidemark';

interface Command {
  readonly summary: string;
  /** Loaded on use: a command imports the library (and LMDB), which `--help` of another need not wait for. */
  load(): Promise<CommandFn>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  demo: { summary: 'watch tidemark process an out-of-order sensor workload, end to end', load: async () => (await import('./demo-command.ts')).demoCommand },
  produce: { summary: 'append NDJSON records from stdin to a stream', load: async () => (await import('./produce.ts')).produceCommand },
  consume: { summary: 'print a stream as NDJSON, with its three clocks side by side', load: async () => (await import('./consume.ts')).consumeCommand },
  run: { summary: 'run a topology module in catch-up or real-time mode', load: async () => (await import('./run.ts')).runCommand },
  describe: { summary: 'print a topology: sub-topologies, sources, windows and their clocks, stores and changelogs, as text or a Mermaid diagram', load: async () => (await import('./describe.ts')).describeCommand },
  release: { summary: 'write a release of a producer task into a stream: watermark consumers stop waiting for it', load: async () => (await import('./release.ts')).releaseCommand },
  query: { summary: "print entries of an application's store (a table, a versioned table as of a time) from its data dir, while it runs", load: async () => (await import('./query.ts')).queryCommand },
  verify: { summary: "replay an application's input into a scratch log and compare each output stream's fingerprint with what it wrote", load: async () => (await import('./verify.ts')).verifyCommand },
  audit: { summary: "print an application's audit log: nondeterministic decisions, fallbacks, dead letters", load: async () => (await import('./audit.ts')).auditCommand },
  kafka: { summary: 'start, stop or check a local development Kafka broker (KRaft, jars from Maven Central)', load: async () => (await import('./kafka.ts')).kafkaCommand },
  timeline: { summary: 'draw the event-time timeline of a run (records, watermarks, stream time per node) as SVG or HTML', load: async () => (await import('./timeline-command.ts')).timelineCommand },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `Usage: tidemark <command> [options]

Deterministic event-time stream processing on an embedded log (no server).

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}   ${c.summary}`).join('\n')}

Run 'tidemark <command> --help' for a command's options. Start with:

  ${invocation} demo

Errors are one line on stderr; set TIDEMARK_DEBUG=1 to see stack traces.`;
}

/** Runs the command line `argv` (without node and the script); returns the exit status. */
export async function main(argv: readonly string[], io: CommandIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic !== undefined && Object.hasOwn(COMMANDS, topic)) return (await COMMANDS[topic]!.load())(['--help'], io);
    io.out(mainHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.out(version());
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  try {
    if (command === undefined) {
      throw new UsageError(name.startsWith('-') ? `unknown option ${name}` : `unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')})`);
    }
    return await (await command.load())(rest, io);
  } catch (e) {
    report(command === undefined ? '' : name, e, io);
    return exitStatusFor(e);
  }
}

function report(command: string, e: unknown, io: CommandIo): void {
  io.err(errorLine(command, e, invocation));
  if (process.env.TIDEMARK_DEBUG && e instanceof Error && e.stack) io.err(e.stack);
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return `tidemark ${pkg.version ?? 'unknown'}`;
  } catch {
    return 'tidemark (version unknown)';
  }
}

/** Installs the last-resort handlers and runs; only when this file is the program, not when imported. */
async function start(): Promise<void> {
  // Node compiles (and strips the types of) every module on each start; its on-disk cache makes a command start
  // in a third of the time. The same cache npm uses; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
  enableCompileCache?.();
  invocation = thisCliInvocation();
  const io = processIo();
  // `tidemark consume | head` closes the pipe early: that is a normal end, not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    report('', e, io);
    process.exit(1);
  });
  const fatal = (e: unknown): void => {
    report('', e, io);
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  process.exitCode = await main(process.argv.slice(2), io);
}

if (import.meta.main) await start();
