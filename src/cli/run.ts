import { Application, type RunMode, type RunSummary, type StartPosition } from '../runtime/application.ts';
import { BadInputError, ProcessingError } from '../runtime/input-failure.ts';
import type { TaskStorage } from '../runtime/log.ts';
import type { TaskGroup } from '../runtime/task-group.ts';
import { LOG_OPTIONS, openCliLog, type CliLog } from './log-option.ts';
import { kafkaDurabilityHelp } from './kafka-options.ts';
import { KAFKA_SECURITY_HELP } from './kafka-security-options.ts';
import { choiceOption, integerOption, optionalString, parseCommandArgs } from './args.ts';
import { CliError, UsageError } from './errors.ts';
import { createProgressDisplay, formatCount } from './progress.ts';
import { restoreNotice } from './restore-notice.ts';
import { loadTopologyModule } from './topology-module.ts';
import { onInterrupt } from './interrupt.ts';
import type { CommandIo } from './io.ts';
import { closeSync, openSync, writeSync } from 'node:fs';
import { thisCliInvocation } from './invocation.ts';
import type { TraceEvent } from '../runtime/trace.ts';
import { producerIdOf } from '../runtime/ids.ts';
import { MAX_WATERMARK, NO_WATERMARK } from '../time/watermark.ts';

export const runHelp = `Usage: tidemark run <topology module> (--data-dir D | --kafka HOST:PORT) [options]

Runs a topology on the embedded log in D, or on a Kafka cluster (exactly-once:
a transaction per task; its state in compacted changelog topics).

  --mode catch-up     (default) process every input partition up to its end
                      offset as seen at the start, then commit and exit
  --mode real-time    tail the inputs until Ctrl-C or SIGTERM, then commit and exit

On Kafka, real-time runs of one application join its consumer group (group id:
the application id) and share its tasks: start the same command in more
processes or on more machines and the group moves tasks to them, each restored
from its changelog before it processes anything; stop one and the others take
its tasks over. Catch-up runs the whole application, or --instance's share;
with --group, catch-up runs share it through the group as well, ending where
one process would (each task at the ends it saw when it first started), with
the same output.

The topology module is a .ts or .js ES module whose default export is
{ applicationId, topology }, or a function (maybe async) returning it:

  // click-filter.ts
  import { StreamsBuilder, Serdes } from 'tidemark';
  const builder = new StreamsBuilder();
  // String keys: tidemark produce --key-format string writes them so.
  builder.stream('clicks', { key: Serdes.string() })
    .filter((_, click) => !click.url.startsWith('/health'))
    .to('clicks-filtered');
  export default { applicationId: 'click-filter', topology: builder.build() };

A run resumes from the application's last commit; --from only says where
partitions without a committed position start. A --from position past the
partition's end, or naming a stream or partition the topology does not read,
is an error (nothing is processed or committed). On the embedded log, a second
run of the application (or of the same --instance share) on one data dir
takes its tasks over from the first's last commit, and the first stops with
one line naming the run that took them.

Options:
  --data-dir D               embedded log directory
  --kafka HOST:PORT          a Kafka broker instead (tidemark kafka start gives one);
                             several, comma-separated: h1:9092,h2:9092
${kafkaDurabilityHelp(29)}
  --mode M                   catch-up (default) or real-time
  --from P                   earliest (default), latest, or offsets per partition:
                             clicks/0=120,clicks/1=98 (others start at 0)
  --max-idle-ms N            real-time: how long an empty input partition may hold
                             back its task before the run proceeds without it — a
                             nondeterministic decision, counted and audited (default 500)
  --commit-interval-ms N     how often to commit (default 100)
  --fetch-size N             most records read from a partition at once (default 500)
  --bad-input B              dead-letter (default): undecodable records and invalid
                             timestamps the topology rejects go to
                             <applicationId>.dead-letter; fail: stop at the first one
  --group                    catch-up on Kafka: share the catch-up with the other
                             processes of the application run with --group (the
                             consumer group); each exits once every task is done
  --instance I/N             run only the tasks of instance I of N (partition mod N = I):
                             several processes share one application (static assignment,
                             instead of the consumer group on Kafka)
  --trace FILE               write the run's trace (records, stream time, watermarks,
                             watermark records per task) as NDJSON, for tidemark timeline
  --http [HOST:]PORT         serve a live page at http://HOST:PORT/ while the run goes on:
                             stream time and watermarks per task, what holds them back,
                             lag, late records, the topology; and /metrics (Prometheus),
                             /progress (JSON). HOST defaults to 127.0.0.1; PORT 0 picks one
  --quiet                    no progress display
  -h, --help                 this help${KAFKA_SECURITY_HELP}

Progress goes to stderr: a bar redrawn in place on a terminal, a plain line
every second otherwise. The summary goes to stdout and ends with one line per
output stream,

  fingerprint <stream> <sha256>

a SHA-256 over the stream's (partition, key, value, timestamp) in order: two
runs agree when their fingerprint lines agree. Bad input under --bad-input fail
and processor errors stop the run with one line naming stream, partition and
offset (exit status 1).`;

const OPTIONS = {
  ...LOG_OPTIONS,
  mode: { type: 'string' },
  from: { type: 'string' },
  'max-idle-ms': { type: 'string' },
  'commit-interval-ms': { type: 'string' },
  'fetch-size': { type: 'string' },
  'bad-input': { type: 'string' },
  quiet: { type: 'boolean' },
  instance: { type: 'string' },
  group: { type: 'boolean' },
  trace: { type: 'string' },
  http: { type: 'string' },
} as const;

/**
 * The consumer group a run joins: every real-time run on Kafka (but a static
 * `--instance` share), and a catch-up asked to with `--group`.
 */
function groupOf(mode: RunMode, asked: boolean, instance: boolean, taskGroup: (() => TaskGroup) | undefined): TaskGroup | undefined {
  if (instance || (mode === 'catch-up' && !asked)) return undefined;
  return taskGroup?.();
}

/** `--group` asks for what only a Kafka consumer group gives, and not with a static share: said before anything is opened. */
function checkGroupOption(values: { group?: boolean; kafka?: string; instance?: string }): void {
  if (values.group !== true) return;
  if (values.kafka === undefined) throw new UsageError('--group shares a run through a Kafka consumer group: it needs --kafka');
  if (values.instance !== undefined) throw new UsageError('--group and --instance exclude each other: the group assigns the tasks');
}

/** `tidemark run`: loads a topology module and runs it. Returns the exit status. */
export async function runCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, 1);
  if (values.help === true) return io.out(runHelp), 0;
  const modulePath = positionals[0];
  if (modulePath === undefined) throw new UsageError('which topology module? (tidemark run <module> --data-dir D)');
  const mode = choiceOption<RunMode>(values, 'mode', ['catch-up', 'real-time'], 'catch-up');
  checkGroupOption(values);
  const from = parseStartPosition(optionalString(values, 'from') ?? 'earliest');
  const options = {
    mode,
    from,
    maxIdleMs: integerOption(values, 'max-idle-ms', 500),
    commitIntervalMs: integerOption(values, 'commit-interval-ms', 100),
    fetchSize: integerOption(values, 'fetch-size', 500, 1),
    badInput: choiceOption(values, 'bad-input', ['dead-letter', 'fail'] as const, 'dead-letter'),
    ...instanceOption(optionalString(values, 'instance')),
  };
  const tracePath = optionalString(values, 'trace');
  const http = httpOption(optionalString(values, 'http'));
  const { applicationId, topology } = await loadTopologyModule(modulePath);

  const opened = await openCliLog(values, 'write', (line) => io.err(`${applicationId}: ${line}`), values.quiet === true ? undefined : restoreNotice(io.stderr, applicationId));
  const log = opened.log;
  const group = groupOf(mode, values.group === true, options.instance !== undefined, opened.taskGroup);
  const progress = values.quiet === true ? undefined : createProgressDisplay(io.stderr);
  // On a terminal the progress line is still open: end it before saying more.
  const interrupt = onInterrupt(() => io.err(`${io.stderr.isTTY === true ? '\n' : ''}${applicationId}: stopping — committing what was processed (Ctrl-C again to quit at once)`));
  const started = Date.now();
  const trace = tracePath === undefined ? undefined : openTrace(tracePath);
  try {
    const app = new Application(topology, { applicationId, log });
    let summary: RunSummary;
    try {
      summary = await app.run({
        ...options,
        ...(group === undefined ? {} : { group }),
        signal: interrupt.signal,
        onProgress: progress?.update,
        progressIntervalMs: 100,
        ...(trace === undefined ? {} : { trace: trace.write }),
        ...(http === undefined ? {} : { http: { ...http, onListening: (url: string) => io.err(`${applicationId}: live page at ${url} (metrics at ${url}metrics)`) } }),
      });
    } finally {
      progress?.finish();
    }
    const logOption = opened.where.startsWith('kafka ') ? `--kafka ${opened.where.slice('kafka '.length)}` : `--data-dir ${opened.where}`;
    for (const line of describeRun(applicationId, summary, log, { elapsedMs: Date.now() - started, interrupted: interrupt.signal.aborted, deadLetterStream: `${applicationId}.dead-letter`, logOption, cli: thisCliInvocation() })) io.out(line);
    for (const line of await fingerprintLinesOf(opened, summary.outputStreams)) io.out(line);
    return 0;
  } catch (e) {
    if (e instanceof BadInputError || e instanceof ProcessingError) throw new CliError(e.message);
    const failure = opened.writeFailure(e);
    if (failure !== undefined) throw new CliError(`writing ${failure}; the run stopped, what it committed before is kept`);
    throw e;
  } finally {
    trace?.close();
    interrupt.dispose();
    await opened.close();
  }
}

/** `--http [HOST:]PORT`: where the live page and the metrics are served. */
export function httpOption(given: string | undefined): { host: string; port: number } | undefined {
  if (given === undefined) return undefined;
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:\s]+):)?(\d{1,5})$/.exec(given);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || port > 65535) throw new UsageError(`--http must be [HOST:]PORT (e.g. 9464 or 127.0.0.1:9464), got ${JSON.stringify(given)}`);
  const host = m[1] === undefined ? '127.0.0.1' : m[1].replace(/^\[|\]$/g, '');
  return { host, port };
}

/** `--instance I/N`. */
function instanceOption(given: string | undefined): { instance?: { instance: number; instances: number } } {
  if (given === undefined) return {};
  const m = /^(\d+)\/(\d+)$/.exec(given);
  if (m === null || Number(m[1]) >= Number(m[2])) throw new UsageError(`--instance must be I/N with 0 <= I < N, got ${JSON.stringify(given)}`);
  return { instance: { instance: Number(m[1]), instances: Number(m[2]) } };
}

/** The trace file: NDJSON lines, written synchronously so a crash loses no line of what was processed. */
function openTrace(path: string): { write: (e: TraceEvent) => void; close: () => void } {
  const fd = openSync(path, 'a');
  return { write: (e) => writeSync(fd, `${JSON.stringify(e)}\n`), close: () => closeSync(fd) };
}

/**
 * Parses `--from`: `earliest`, `latest`, or `stream/partition=offset` pairs
 * separated by commas. A stream name may itself contain `/`: the partition
 * is what follows the last one.
 */
export function parseStartPosition(text: string): StartPosition {
  if (text === 'earliest' || text === 'latest') return text;
  const offsets: Record<string, number> = {};
  for (const part of text.split(',')) {
    const m = /^(.+)\/(\d+)=(\d+)$/.exec(part.trim());
    if (m === null) throw new UsageError(`--from must be earliest, latest or stream/partition=offset,…; cannot read '${part}'`);
    const [, stream, partition, offset] = m as unknown as [string, string, string, string];
    offsets[`${stream}/${Number(partition)}`] = Number(offset);
  }
  return offsets;
}

/** One `fingerprint <stream> <sha256>` line per output stream (docs/semantics.md, "Fingerprints"), in stream-name order, of any log the CLI opened (a broker's streams are read asynchronously). */
async function fingerprintLinesOf(log: CliLog, streams: readonly string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const s of [...streams].sort()) lines.push(`fingerprint ${s} ${await log.fingerprint(s)}`);
  return lines;
}

/** The summary of a run, a few human-readable lines. */
export function describeRun(
  applicationId: string,
  s: RunSummary,
  log: Pick<TaskStorage, 'readAudit'>,
  ctx: { elapsedMs: number; interrupted: boolean; deadLetterStream: string; logOption?: string; cli?: string },
): string[] {
  const how = s.mode === 'catch-up' ? (ctx.interrupted ? 'catch-up interrupted' : 'caught up') : 'real-time run stopped';
  let maxStreamTime = -1;
  for (const t of s.streamTimes.values()) maxStreamTime = Math.max(maxStreamTime, t);
  const outputs = s.outputStreams.map((o) => `${o} ${formatCount(s.outputs.get(o) ?? 0)}`).join(' · ');
  const lines = [
    `${applicationId}: ${how} after ${(ctx.elapsedMs / 1000).toFixed(1)} s, ${plural(s.commits, 'commit')}`,
    `  records    ${formatCount(s.consumed)} read · ${formatCount(s.processed)} processed · ${formatCount(s.deadLettered)} dead-lettered${s.deadLettered > 0 ? ` (to ${ctx.deadLetterStream})` : ''}`,
    `  time       ${plural(s.fallbacks, 'timestamp fallback')} · ${plural(s.nondeterministicDecisions, 'nondeterministic decision')}${maxStreamTime >= 0 ? ` · stream time ${new Date(maxStreamTime).toISOString()}` : ''}`,
    `  outputs    ${outputs === '' ? 'none' : outputs}`,
    ...clockLines(s),
    ...s.warnings.map((w) => `  warning    ${w}`),
    ...heldBackLines(s, ctx.logOption, ctx.cli),
  ];
  if (s.tasksTakenOver > 0 || s.tasksHandedOver > 0) {
    lines.push(`  group      held ${[...s.streamTimes.keys()].join(', ') || 'no task'} at the end · took over ${plural(s.tasksTakenOver, 'task')} · handed over ${s.tasksHandedOver}`);
  }
  if (s.nondeterministicDecisions > 0) {
    const kinds = [...s.audit].filter(([k]) => k.startsWith('nondeterministic:')).map(([k, n]) => `${n} ${k.slice('nondeterministic:'.length)}`);
    const first = log.readAudit(applicationId).filter((e) => e.kind.startsWith('nondeterministic:')).at(-1);
    lines.push(`  note       ${kinds.join(', ')}: a replay of the same input may differ from this run${first !== undefined ? ` (latest: ${first.stream}/${first.partition}@${first.offset}, ${first.detail})` : ''}`);
  }
  return lines;
}

const MAX_CLOCK_LINES = 16;

const HOLDER_STATES = { stopped: 'stopped: its last promise', expected: 'announced, not reported yet', 'data-only': 'seen by its data only, no watermark yet', reported: 'its watermark' } as const;

/**
 * Where a `fromStream()` watermark is held below the task's stream time:
 * by which producer task, in what state, and — for one that may never
 * write again — how to release it.
 */
export function heldBackLines(s: RunSummary, logOption = '--data-dir D', cli = 'tidemark'): string[] {
  const lines: string[] = [];
  for (const [where, holder] of s.watermarkHolders) {
    if (holder === undefined || lines.length >= MAX_CLOCK_LINES) continue;
    const [task, input] = where.split(' ') as [string, string];
    const w = holder === 'none' ? NO_WATERMARK : holder.watermark;
    if (w >= (s.streamTimes.get(task) ?? NO_WATERMARK)) continue;
    if (holder === 'none') {
      lines.push(`  held back  ${task} ${input}: watermark none, no tidemark producer has written there yet`);
      continue;
    }
    const who = holder.task === undefined ? `a task of ${holder.application} not seen yet` : producerIdOf(holder.application, holder.task);
    const stream = input.slice(0, input.lastIndexOf('/'));
    // A task killed for good looks like one still running until idleness says otherwise: say how to release it either way.
    const release = holder.task === undefined ? '' : `; if it no longer runs: ${cli} release ${logOption} --stream ${stream} --producer ${who}`;
    lines.push(`  held back  ${task} ${input}: watermark ${formatClock(w)}, by ${who} (${HOLDER_STATES[holder.state]})${release}`);
  }
  return lines;
}

/**
 * Stream time and watermark of every task, and the watermark of each
 * operator where they differ within a task (a branch fed by fewer inputs).
 */
export function clockLines(s: RunSummary): string[] {
  const lines: string[] = [];
  const tasks = [...s.streamTimes].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
  for (const [task, st] of tasks.slice(0, MAX_CLOCK_LINES)) {
    const w = s.watermarks.get(task) ?? NO_WATERMARK;
    const operators = [...s.operatorWatermarks].filter(([k, ow]) => k.startsWith(`${task} `) && ow !== w).map(([k, ow]) => `${k.slice(task.length + 1)} ${formatClock(ow)}`);
    lines.push(`  task ${task.padEnd(6)}stream time ${formatClock(st)} · watermark ${formatClock(w)}${operators.length > 0 ? ` (${operators.join(', ')})` : ''}`);
  }
  if (tasks.length > MAX_CLOCK_LINES) lines.push(`  …          ${tasks.length - MAX_CLOCK_LINES} more tasks (the run's progress and summary hold them all)`);
  return lines;
}

/** A clock value: `none` before any, `∞` at the end of input, an ISO time for epoch milliseconds, else the number. */
export function formatClock(t: number): string {
  if (t <= NO_WATERMARK || t < 0) return 'none';
  if (t >= MAX_WATERMARK) return '∞';
  return t >= 1e11 ? new Date(t).toISOString() : String(t);
}

/** `1 commit`, `2 commits`. */
export function plural(n: number, noun: string): string {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}
