/**
 * Verifying a run (`tidemark verify`): the application's input replayed
 * from the beginning, up to where the application's commits left each input
 * partition, into a scratch log; each output stream's fingerprint compared
 * with what the application wrote; and the nondeterministic decisions the
 * application's audit log holds for the sub-topologies that feed a stream
 * that differs — the decisions that may explain the difference.
 *
 * @module
 */
import type { Topology } from './topology.ts';
import { subTopologies, withApplicationId } from './topology.ts';
import type { AuditEntry, Log, TaskStorage } from './log.ts';
import { partitionKey } from './log.ts';
import { Application } from './application.ts';
import { ReplayLog } from './replay-log.ts';
import { fingerprintPartitions, fingerprintStream } from './fingerprint.ts';
import { describeTopology } from './describe-topology.ts';
import { parseTaskId, taskIdOf } from './ids.ts';
import { PRODUCER_HEADER } from './headers.ts';
import type { LogRecord } from '../records/record.ts';

/** What {@link verifyApplication} needs. */
export interface VerifyOptions {
  /** The application's topology (as its module builds it). */
  readonly topology: Topology;
  /** The application whose output is verified. */
  readonly applicationId: string;
  /** The log the application ran on: only read. */
  readonly log: Log & TaskStorage;
  /** An empty log the replay writes its outputs, internal streams, state and audit to. */
  readonly scratch: Log & TaskStorage;
  /** Most records the replay reads from a partition at once (default 500). */
  readonly fetchSize?: number;
}

/** A partition of an output stream that differs: how many data records each side has there. */
export interface PartitionVerdict {
  /** The partition. */
  readonly partition: number;
  /** Data records the application wrote there. */
  readonly written: number;
  /** Data records the replay wrote there. */
  readonly replayed: number;
}

/** An input partition replayed: offsets `[0, end)`. */
export interface ReplayedInput {
  /** The input stream. */
  readonly stream: string;
  /** Its partition. */
  readonly partition: number;
  /** The application's committed position there: the replay reads up to it. */
  readonly end: number;
}

/** One output stream compared. */
export interface StreamVerdict {
  /** The output stream. */
  readonly stream: string;
  /** True when the replay wrote exactly what the application wrote. */
  readonly equal: boolean;
  /** The fingerprint of what the application wrote (as `tidemark run` prints it). */
  readonly written: string;
  /** The fingerprint of what the replay wrote. */
  readonly replayed: string;
  /** Per partition that differs: its data records in the application's stream and in the replay's. */
  readonly partitions: readonly PartitionVerdict[];
  /** The application's nondeterministic decisions in the sub-topologies this stream is written from (directly or through internal streams). */
  readonly decisions: readonly AuditEntry[];
}

/** What {@link verifyApplication} found. */
export interface VerifyReport {
  /** True when every output stream's fingerprint is the replay's. */
  readonly equal: boolean;
  /** The input replayed: per input partition, the offsets `[0, end)` the application had committed. */
  readonly inputs: readonly ReplayedInput[];
  /** Each output stream compared (the dead-letter stream too). */
  readonly streams: readonly StreamVerdict[];
  /** Every nondeterministic decision in the application's audit log. */
  readonly decisions: readonly AuditEntry[];
  /** The replay's own nondeterministic decisions (a processor reading the wall clock, ingest-time timestamps): the replay may differ from any other. */
  readonly replayDecisions: readonly AuditEntry[];
  /** What may make the comparison unfair, one line each. */
  readonly warnings: readonly string[];
}

/**
 * Replays the application's input and compares its output streams (the
 * dead-letter stream too) with what the application wrote. Each input
 * partition is replayed from offset 0 up to the application's committed
 * position in it, so a run that stopped halfway is compared with a replay
 * of the same records. The replay is a catch-up run of the same topology
 * under the same application id on `scratch`; nothing is written to `log`.
 *
 * @example
 * const report = await verifyApplication({ topology, applicationId: 'clicks', log: await EmbeddedLog.open({ dataDir: './data', existing: true, readOnly: true }), scratch: new MemoryLog() });
 * if (!report.equal) for (const s of report.streams) if (!s.equal) console.log(s.stream, s.decisions.length, 'decisions');
 */
export async function verifyApplication(options: VerifyOptions): Promise<VerifyReport> {
  const { topology, applicationId, log, scratch } = options;
  const described = describeTopology(topology, { applicationId });
  const subs = subTopologies(withApplicationId(topology, applicationId));
  const warnings: string[] = [];
  const ends = committedInputEnds(options, subs, warnings);
  if (ends.committed === 0) throw new Error(`application ${applicationId} has committed nothing here yet: run it first (nothing to verify)`);
  warnings.push(...unprocessedInternal(options, subs));

  const replayLog = new ReplayLog(log, scratch, ends.byStream);
  await new Application(topology, { applicationId, log: replayLog }).run({ mode: 'catch-up', fetchSize: options.fetchSize ?? 500 });

  const feeding = feedingSubTopologies(described);
  const decisions = log.readAudit(applicationId).filter((e) => e.kind.startsWith('nondeterministic:'));
  const streams: StreamVerdict[] = [];
  for (const stream of described.outputs) {
    const written = fingerprintStream(log, stream);
    const replayed = fingerprintStream(scratch, stream);
    const equal = written === replayed;
    const subsOf = feeding.get(stream) ?? new Set(subs.map((s) => s.id));
    streams.push({
      stream,
      equal,
      written,
      replayed,
      partitions: equal ? [] : differingPartitions(log, scratch, stream),
      decisions: equal ? [] : decisions.filter((d) => subsOf.has(subTopologyOf(d.taskId))),
    });
  }
  return {
    equal: streams.every((s) => s.equal),
    inputs: [...ends.byStream].flatMap(([stream, e]) => e.map((end, partition) => ({ stream, partition, end }))),
    streams,
    decisions,
    replayDecisions: scratch.readAudit(applicationId).filter((e) => e.kind.startsWith('nondeterministic:')),
    warnings,
  };
}

type Subs = ReturnType<typeof subTopologies>;

/** Per input stream, the application's committed position in each partition (0 where its task has not committed). */
function committedInputEnds(o: VerifyOptions, subs: Subs, warnings: string[]): { byStream: Map<string, number[]>; committed: number } {
  const byStream = new Map<string, number[]>();
  let committed = 0;
  for (const sub of subs) {
    for (const source of sub.sources.filter((s) => !s.internal)) {
      const partitions = o.log.partitionCount(source.stream);
      if (partitions === undefined) throw new Error(`input stream ${source.stream} does not exist: the application cannot have read it`);
      const ends: number[] = [];
      for (let p = 0; p < partitions; p++) {
        const checkpoint = o.log.readCheckpoint(o.applicationId, taskIdOf(sub.id, p));
        if (checkpoint !== undefined) committed++;
        const next = checkpoint?.positions[partitionKey(source.stream, p)]?.next ?? 0;
        const end = o.log.endOffset(source.stream, p);
        if (next > end) throw new Error(`input ${source.stream}/${p} ends at offset ${end}, before the application's committed position ${next}: records were removed, the input cannot be replayed`);
        if (next < end) warnings.push(`input ${source.stream}/${p}: the application committed up to offset ${next} of ${end}; the replay stops there too`);
        ends.push(next);
      }
      byStream.set(source.stream, ends);
    }
  }
  return { byStream, committed };
}

/**
 * Internal streams whose readers had not processed everything their writers
 * committed: the replay processes all of it, so its outputs may differ for
 * that reason alone.
 */
function unprocessedInternal(o: VerifyOptions, subs: Subs): string[] {
  const lines: string[] = [];
  for (const sub of subs) {
    for (const source of sub.sources.filter((s) => s.internal)) {
      const partitions = o.log.partitionCount(source.stream) ?? 0;
      for (let p = 0; p < partitions; p++) {
        const position = o.log.readCheckpoint(o.applicationId, taskIdOf(sub.id, p))?.positions[partitionKey(source.stream, p)];
        const from = position?.next ?? 0;
        const end = o.log.endOffset(source.stream, p);
        let left = 0;
        for (let at = from; at < end; ) {
          const batch = o.log.read(source.stream, p, at, 10_000);
          if (batch.length === 0) break;
          left += batch.filter((r) => r.control === undefined && r.offset >= (position?.producers?.[r.headers[PRODUCER_HEADER] ?? ''] ?? 0)).length;
          at = batch[batch.length - 1]!.offset + 1;
        }
        if (left > 0) lines.push(`internal stream ${source.stream}/${p}: sub-topology ${sub.id} had not processed ${left} of the records written to it; the replay processes them, so what it writes from them cannot match — run the application to the end first (tidemark run … --mode catch-up)`);
      }
    }
  }
  return lines;
}

/** Per output stream, the sub-topologies it is written from: its writers and, through internal streams, theirs. */
function feedingSubTopologies(d: ReturnType<typeof describeTopology>): Map<string, Set<number>> {
  const writersOf = new Map<string, Set<number>>();
  const readsInternal = new Map<number, string[]>();
  for (const sub of d.subTopologies) {
    for (const n of sub.nodes) {
      if (n.kind === 'sink') writersOf.set(n.stream!, new Set([...(writersOf.get(n.stream!) ?? []), sub.id]));
      if (n.kind === 'source' && n.internal === true) readsInternal.set(sub.id, [...(readsInternal.get(sub.id) ?? []), n.stream!]);
    }
  }
  const out = new Map<string, Set<number>>();
  for (const stream of d.outputs) {
    const writers = writersOf.get(stream);
    if (writers === undefined) continue; // the dead-letter stream: every sub-topology may write it
    const seen = new Set<number>();
    const todo = [...writers];
    while (todo.length > 0) {
      const id = todo.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const internal of readsInternal.get(id) ?? []) todo.push(...(writersOf.get(internal) ?? []));
    }
    out.set(stream, seen);
  }
  return out;
}

function subTopologyOf(taskId: string): number {
  try {
    return parseTaskId(taskId).subTopology;
  } catch {
    return -1;
  }
}

/** The partitions whose data records differ, each with its count on both sides. */
function differingPartitions(a: Log, b: Log, stream: string): { partition: number; written: number; replayed: number }[] {
  const partitions = Math.max(a.partitionCount(stream) ?? 0, b.partitionCount(stream) ?? 0);
  const out: { partition: number; written: number; replayed: number }[] = [];
  for (let p = 0; p < partitions; p++) {
    const [ra, rb] = [dataRecords(a, stream, p), dataRecords(b, stream, p)];
    if (fingerprintPartitions([ra]) !== fingerprintPartitions([rb])) out.push({ partition: p, written: ra.length, replayed: rb.length });
  }
  return out;
}

function dataRecords(log: Log, stream: string, partition: number): LogRecord[] {
  if (partition >= (log.partitionCount(stream) ?? 0)) return [];
  const out: LogRecord[] = [];
  const end = log.endOffset(stream, partition);
  for (let at = 0; at < end; at += 10_000) out.push(...log.read(stream, partition, at, 10_000).filter((r) => r.control === undefined));
  return out;
}
