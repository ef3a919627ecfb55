import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EmbeddedLog } from '../connectors/embedded/embedded-log.ts';
import type { AuditEntry } from '../runtime/log.ts';
import { verifyApplication, type StreamVerdict, type VerifyReport } from '../runtime/verify.ts';
import { BadInputError, ProcessingError } from '../runtime/input-failure.ts';
import { existingDataDir, integerOption, optionalString, parseCommandArgs } from './args.ts';
import { CliError, UsageError } from './errors.ts';
import type { CommandIo } from './io.ts';
import { loadTopologyModule } from './topology-module.ts';

export const verifyHelp = `Usage: tidemark verify <topology module> --data-dir D [--scratch-dir S]

Checks that an application's output is what its input determines: replays
the input from the beginning, in a scratch log, up to where the
application's commits left each input partition (a run stopped halfway is
compared with a replay of the same records), and compares the fingerprint of
each output stream (the dead-letter stream too) with what the application
wrote — the fingerprints 'tidemark run' prints. The data dir is only read:
the replay's outputs, state and audit go to the scratch log.

For a stream that differs, it prints the partitions that differ and the
nondeterministic decisions of the application's audit log (tidemark audit)
in the sub-topologies that write the stream, directly or through internal
streams: real-time runs proceeding without an idle partition, ingest-time
timestamps, wall-clock reads. No such decision and still a difference means
the output was written by something else, the input changed since, or the
topology module is not the one that ran.

The replay assumes the application started at the beginning of its input
(tidemark run's --from earliest, the default) and handles bad input the
default way (--bad-input dead-letter).

Exit status: 0 when every output stream matches, 3 when one differs, 1 when
the replay cannot be made (no commit yet, input records removed), 2 for a
usage mistake.

Options:
  --data-dir D       the application's embedded log directory (only read)
  --scratch-dir S    keep the replay in S (a new or empty directory), to read
                     with tidemark consume --data-dir S; default: a temporary
                     directory, removed at the end
  --fetch-size N     most records read from a partition at once (default 500)
  -h, --help         this help`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  kafka: { type: 'string' },
  'scratch-dir': { type: 'string' },
  'fetch-size': { type: 'string' },
} as const;

/** Exit status when an output stream differs from the replay. */
export const EXIT_DIFFERS = 3;

/** Decisions printed per stream; the rest are counted (tidemark audit lists them all). */
const MAX_DECISIONS = 10;

/** `tidemark verify`: replays an application's input and compares its outputs. Returns the exit status. */
export async function verifyCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, 1);
  if (values.help === true) return io.out(verifyHelp), 0;
  const modulePath = positionals[0];
  if (modulePath === undefined) throw new UsageError('which topology module? (tidemark verify <module> --data-dir D)');
  if (values.kafka !== undefined) throw new UsageError('verify replays an application of the embedded log (--data-dir D); on Kafka, compare the fingerprints of two runs (tidemark run prints them)');
  if (values['data-dir'] === undefined) throw new UsageError('give the application\'s data dir: --data-dir D');
  const fetchSize = integerOption(values, 'fetch-size', 500, 1);
  const { applicationId, topology } = await loadTopologyModule(modulePath);
  const scratch = scratchDir(optionalString(values, 'scratch-dir'), existingDataDir(values));
  const log = await EmbeddedLog.open({ dataDir: existingDataDir(values), existing: true, readOnly: true });
  try {
    const scratchLog = await EmbeddedLog.open({ dataDir: scratch.dir });
    let report: VerifyReport;
    try {
      report = await verifyApplication({ topology, applicationId, log, scratch: scratchLog, fetchSize });
    } catch (e) {
      if (e instanceof BadInputError || e instanceof ProcessingError) throw new CliError(`the replay stopped: ${e.message}`);
      throw new CliError(e instanceof Error ? e.message : String(e));
    } finally {
      await scratchLog.close();
    }
    for (const line of reportLines(applicationId, report, scratch.keep ? scratch.dir : undefined)) io.out(line);
    return report.equal ? 0 : EXIT_DIFFERS;
  } finally {
    await log.close();
    if (!scratch.keep) rmSync(scratch.dir, { recursive: true, force: true });
  }
}

/** The scratch data dir: the one given (new or empty, never the application's), or a temporary one. */
function scratchDir(given: string | undefined, dataDir: string): { dir: string; keep: boolean } {
  if (given === undefined) return { dir: mkdtempSync(join(tmpdir(), 'tidemark-verify-')), keep: false };
  if (resolve(given) === resolve(dataDir)) throw new UsageError('--scratch-dir must not be the application\'s data dir: the replay would write into it');
  mkdirSync(given, { recursive: true });
  if (readdirSync(given).length > 0) throw new UsageError(`--scratch-dir ${given} is not empty: give a new or empty directory for the replay`);
  return { dir: given, keep: true };
}

/** The report: a line per output stream, details under each that differs, then warnings and a verdict. */
export function reportLines(applicationId: string, r: VerifyReport, keptIn: string | undefined): string[] {
  const input = r.inputs.map((i) => `${i.stream}/${i.partition} [0, ${i.end})`).join(', ');
  const lines = [`${applicationId}: replayed its committed input: ${input === '' ? 'none' : input}`];
  const width = Math.max(...r.streams.map((s) => s.stream.length));
  for (const s of r.streams) {
    lines.push(s.equal ? `  equal     ${s.stream.padEnd(width)}  ${s.written}` : `  differs   ${s.stream.padEnd(width)}  written ${s.written} · replayed ${s.replayed}`);
    if (!s.equal) lines.push(...differenceLines(s));
  }
  for (const w of r.warnings) lines.push(`  warning   ${w}`);
  if (r.replayDecisions.length > 0) lines.push(`  warning   the replay itself made ${r.replayDecisions.length} nondeterministic decisions (${kinds(r.replayDecisions)}): another replay may differ from this one`);
  if (keptIn !== undefined) lines.push(`  replay    kept in ${keptIn} (tidemark consume --data-dir ${keptIn} --stream …)`);
  const differing = r.streams.filter((s) => !s.equal).length;
  lines.push(
    differing === 0
      ? `${applicationId}: every output stream matches the replay (${r.streams.length} streams)`
      : `${applicationId}: ${differing} of ${r.streams.length} output streams differ from the replay`,
  );
  return lines;
}

function differenceLines(s: StreamVerdict): string[] {
  const lines = s.partitions.map((p) => `            partition ${p.partition}: ${p.written} records written, ${p.replayed} replayed${p.written === p.replayed ? ' (same count, other records or order)' : ''}`);
  if (s.decisions.length === 0) {
    lines.push('            no nondeterministic decision was audited where it is written: it was written by something else, its input changed, or the module is not the one that ran');
    return lines;
  }
  lines.push(`            may be explained by ${s.decisions.length} nondeterministic decision${s.decisions.length === 1 ? '' : 's'} (${kinds(s.decisions)}):`);
  for (const d of s.decisions.slice(0, MAX_DECISIONS)) lines.push(`              ${d.kind} task ${d.taskId} ${d.stream}/${d.partition}@${d.offset}: ${d.detail}`);
  if (s.decisions.length > MAX_DECISIONS) lines.push(`              … ${s.decisions.length - MAX_DECISIONS} more (tidemark audit --kind nondeterministic lists them all)`);
  return lines;
}

/** `3 idle-partition, 1 wall-clock`. */
function kinds(entries: readonly AuditEntry[]): string {
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(e.kind.replace(/^nondeterministic:/, ''), (counts.get(e.kind.replace(/^nondeterministic:/, '')) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
}
