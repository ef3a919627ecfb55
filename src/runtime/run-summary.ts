import type { WatermarkHolder } from '../time/producer-watermarks.ts';
import type { Auditor, AuditKind } from './audit.ts';
import type { SubTopology } from './topology.ts';
import type { StreamTask } from './task.ts';
import type { RunMode } from './run-options.ts';

/**
 * What a run did: what {@link Application.run} resolves with. Two runs of
 * the same input agree on everything here but the wall-clock-dependent
 * counts (`commits`, the nondeterministic decisions).
 */
export interface RunSummary {
  /** The run's mode. */
  readonly mode: RunMode;
  /** Records fetched from the inputs (watermark records included). */
  readonly consumed: number;
  /** Records processed by the topology. */
  readonly processed: number;
  /** Records sent to the dead-letter stream (undecodable, invalid timestamp under `skip`, too large). */
  readonly deadLettered: number;
  /** Records late for every window they belong to, and versioned-table updates older than the table's history horizon (dropped or side-output). */
  readonly lateRecords: number;
  /** Windows that skipped a record because they had closed, while other windows of the record took it. */
  readonly lateWindows: number;
  /** Records a processor could not use and dropped (a null key in an aggregation or a table), each audited. */
  readonly dropped: number;
  /** Table updates older than the row they changed: applied all the same (the last in scheduled order wins), counted, not audited. */
  readonly outOfOrderTableUpdates: number;
  /** Records written, per output stream. */
  readonly outputs: ReadonlyMap<string, number>;
  /** Audit entries made, per kind. */
  readonly audit: ReadonlyMap<AuditKind, number>;
  /** Records whose invalid timestamp was replaced by the policy's fallback (broker or partition time). */
  readonly fallbacks: number;
  /** Nondeterministic decisions made (an idle partition passed over, ingest or wall-clock time read, …): 0 means the output is reproducible. */
  readonly nondeterministicDecisions: number;
  /** Records processed while passing over an idle partition (real-time). */
  readonly enforcedProcessing: number;
  /** Commits made (they depend on the commit interval, never the output). */
  readonly commits: number;
  /** Stream time per task id. */
  readonly streamTimes: ReadonlyMap<string, number>;
  /** Watermark per task id, and per operator (`taskId node`). */
  readonly watermarks: ReadonlyMap<string, number>;
  /** Input watermark per operator, by `taskId node`. */
  readonly operatorWatermarks: ReadonlyMap<string, number>;
  /** Output streams of the topology (data, not internal), for fingerprints. */
  readonly outputStreams: readonly string[];
  /** A run in a group: the tasks it took over from other instances (its first ones included), and those it handed over. */
  readonly tasksTakenOver: number;
  /** A run in a group: the tasks it handed over to other instances. */
  readonly tasksHandedOver: number;
  /**
   * One-line warnings about the inputs: a `fromStream()` partition whose
   * records have no tidemark producer (audited too), keys written in
   * another format than the source's key serde reads (`keyFormatMismatch`).
   */
  readonly warnings: readonly string[];
  /**
   * What holds each `fromStream()` input partition's watermark where it is,
   * by `taskId stream/partition`: the producer task at its minimum, `none`
   * when no producer is known yet (undefined: nothing holds it back).
   */
  readonly watermarkHolders: ReadonlyMap<string, WatermarkHolder | 'none' | undefined>;
}

/** What a run's summary is built from: its tasks, those it handed over (their counters still count), and how many it took over. */
export interface SummarySource {
  readonly mode: RunMode;
  readonly auditor: Auditor;
  readonly commits: number;
  readonly subTopologies: readonly SubTopology[];
  readonly tasks: readonly StreamTask[];
  readonly handedOver: readonly StreamTask[];
  readonly takenOver: number;
}

/** Sums up a run: the counters of every task it held, the audit, and each held task's clocks. */
export function buildSummary(run: SummarySource): RunSummary {
  const { mode, auditor, commits, subTopologies: subs, tasks, handedOver } = run;
  const outputs = new Map<string, number>();
  let consumed = 0;
  let processed = 0;
  let deadLettered = 0;
  let enforcedProcessing = 0;
  let lateRecords = 0;
  let lateWindows = 0;
  let dropped = 0;
  let outOfOrderTableUpdates = 0;
  for (const t of [...tasks, ...handedOver]) {
    consumed += t.counters.consumed;
    processed += t.counters.processed;
    deadLettered += t.counters.deadLettered;
    enforcedProcessing += t.counters.enforcedProcessing;
    lateRecords += t.counters.lateRecords;
    lateWindows += t.counters.lateWindows;
    dropped += t.counters.dropped;
    outOfOrderTableUpdates += t.counters.outOfOrderTableUpdates;
    for (const [s, n] of t.counters.output) outputs.set(s, (outputs.get(s) ?? 0) + n);
  }
  const fallbacks = (auditor.counts.get('fallback:brokerTime') ?? 0) + (auditor.counts.get('fallback:streamTime') ?? 0);
  const outputStreams = [...new Set(subs.flatMap((s) => s.sinks.filter((k) => !k.internal).map((k) => k.stream)))].sort();
  return {
    mode,
    consumed,
    processed,
    deadLettered,
    lateRecords,
    lateWindows,
    dropped,
    outOfOrderTableUpdates,
    outputs,
    audit: new Map(auditor.counts),
    fallbacks,
    nondeterministicDecisions: auditor.nondeterministicDecisions(),
    enforcedProcessing,
    commits,
    streamTimes: new Map(tasks.map((t) => [t.id, t.streamTime])),
    watermarks: new Map(tasks.map((t) => [t.id, t.watermark])),
    operatorWatermarks: new Map(tasks.flatMap((t) => [...t.operatorWatermarks()].map(([node, w]) => [`${t.id} ${node}`, w] as const))),
    outputStreams,
    tasksTakenOver: run.takenOver,
    tasksHandedOver: handedOver.length,
    warnings: [...tasks, ...handedOver].flatMap((t) => t.warnings),
    watermarkHolders: new Map(tasks.flatMap((t) => t.watermarkHolders().map(({ key, holder }) => [`${t.id} ${key}`, holder] as const))),
  };
}
