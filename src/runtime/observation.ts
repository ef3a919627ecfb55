/**
 * A run's progress as one plain value anyone can read while it goes on —
 * `app.observe()`, the `/progress` page of `tidemark run --http`, the
 * metrics: per task its stream time, watermark and event-time lag, per
 * input partition its lag, watermark and what holds that back, per
 * operator its watermark and late counts; the recent late records; the
 * audited decisions by kind. Clock values are epoch milliseconds, `null`
 * before there is one.
 *
 * @module
 */
import type { AuditEntry } from './log.ts';
import type { Auditor, AuditKind } from './audit.ts';
import type { RunMode } from './run-options.ts';
import type { StreamTask } from './task.ts';
import { MAX_WATERMARK, NO_WATERMARK } from '../time/watermark.ts';

/** One input partition of a task. */
export interface InputObservation {
  /** `stream/partition`. */
  readonly key: string;
  /** Records in the log not yet fetched. */
  readonly lag: number;
  /** Its watermark; `null` while it has none. */
  readonly watermark: number | null;
  /** Declared idle (real time): it holds the task's watermark back no more. */
  readonly idle: boolean;
  /** For a `fromStream()` input: the producer task its watermark waits for (`none`: no producer seen yet). */
  readonly heldBy: ProducerHolder | 'none' | null;
}

/** The producer task a `fromStream()` input's watermark waits for. */
export interface ProducerHolder {
  /** The producing application. */
  readonly application: string;
  /** Its task; `null` for a task announced but not seen yet. */
  readonly task: string | null;
  /** The watermark it holds the input at; `null` while it has promised none. */
  readonly watermark: number | null;
  /** `reported`, `stopped`, `expected` (announced, not reported) or `data-only`. */
  readonly state: string;
}

/** One processor or sink of a task. */
export interface OperatorObservation {
  /** The node's name. */
  readonly node: string;
  /** Its input watermark; `null` while it has none. */
  readonly watermark: number | null;
  /** Records it found late for every window they belong to. */
  readonly lateRecords: number;
  /** Windows of it that skipped a record because they had closed. */
  readonly lateWindows: number;
}

/** One task of the run. */
export interface TaskObservation {
  /** `subTopology_partition`. */
  readonly id: string;
  /** Its sub-topology. */
  readonly subTopology: number;
  /** Its partition number. */
  readonly partition: number;
  /** The largest timestamp processed; `null` before any. */
  readonly streamTime: number | null;
  /** The least of its operators' watermarks; `null` while it has none. */
  readonly watermark: number | null;
  /** Wall clock minus watermark (ms): how far event time is behind now; `null` without a watermark. */
  readonly eventTimeLagMs: number | null;
  /** Catch-up: every input at its end and every buffer drained. */
  readonly caughtUp: boolean;
  /** Records fetched. */
  readonly consumed: number;
  /** Records processed. */
  readonly processed: number;
  /** Records sent to the dead-letter stream. */
  readonly deadLettered: number;
  /** Records late for every window they belong to. */
  readonly lateRecords: number;
  /** Windows that skipped a record because they had closed. */
  readonly lateWindows: number;
  /** Its input partitions. */
  readonly inputs: readonly InputObservation[];
  /** Its processors and sinks. */
  readonly operators: readonly OperatorObservation[];
}

/** A late record, as the audit log has it: kind (`late-record`, `late-window`, `late-table-update`), task, position, why, when. */
export type LateObservation = AuditEntry;

/** The whole run, at `at`. */
export interface RunObservation {
  /** The application. */
  readonly applicationId: string;
  /** `catch-up` or `real-time`. */
  readonly mode: RunMode;
  /** False once the run ended (the last observation stays readable). */
  readonly running: boolean;
  /** Wall clock of the observation (ms). */
  readonly at: number;
  /** Wall clock of the run's start (ms). */
  readonly startedAt: number;
  /** Records fetched, over all tasks. */
  readonly consumed: number;
  /** Records processed, over all tasks. */
  readonly processed: number;
  /** Records still to read, over all input partitions. */
  readonly lag: number;
  /** Commits so far. */
  readonly commits: number;
  /** Time spent committing in all (ms). */
  readonly commitMs: number;
  /** Time the last commit took (ms). */
  readonly lastCommitMs: number;
  /** Audit entries by kind (`nondeterministic:*`, `late-record`, `dead-letter`, `fallback:*`, …). */
  readonly audited: Readonly<Record<string, number>>;
  /** The tasks this process runs. */
  readonly tasks: readonly TaskObservation[];
  /** The latest late records, newest last (at most 50). */
  readonly recentLate: readonly LateObservation[];
}

/** How many recent late records an observation carries. */
export const RECENT_LATE = 50;

const LATE_KINDS: ReadonlySet<AuditKind> = new Set<AuditKind>(['late-record', 'late-window', 'late-table-update']);

/** The recent late records of a run, from its audit entries as they are made. @internal */
export class RecentLate {
  readonly #entries: LateObservation[] = [];

  /** Keeps `entry` if it is about a late record. */
  note(entry: AuditEntry): void {
    if (!LATE_KINDS.has(entry.kind as AuditKind)) return;
    this.#entries.push(entry);
    if (this.#entries.length > RECENT_LATE) this.#entries.shift();
  }

  list(): LateObservation[] {
    return [...this.#entries];
  }
}

/** What {@link observeRun} reads. @internal */
export interface ObservedRun {
  readonly applicationId: string;
  readonly mode: RunMode;
  readonly running: boolean;
  readonly startedAt: number;
  readonly tasks: readonly StreamTask[];
  readonly auditor: Auditor;
  readonly loop: { readonly commits: number; readonly commitMs: number; readonly lastCommitMs: number };
  readonly recentLate: RecentLate;
}

/** A clock value for display: `null` before any (no timestamp is negative), else itself. */
function clock(t: number): number | null {
  return t <= NO_WATERMARK || t < 0 ? null : t;
}

/** The observation of a run at wall-clock `now`. @internal */
export function observeRun(run: ObservedRun, now: number): RunObservation {
  const tasks = run.tasks.map((t) => observeTask(t, now));
  let consumed = 0;
  let processed = 0;
  let lag = 0;
  for (const t of tasks) {
    consumed += t.consumed;
    processed += t.processed;
    for (const i of t.inputs) lag += i.lag;
  }
  return {
    applicationId: run.applicationId,
    mode: run.mode,
    running: run.running,
    at: now,
    startedAt: run.startedAt,
    consumed,
    processed,
    lag,
    commits: run.loop.commits,
    commitMs: run.loop.commitMs,
    lastCommitMs: run.loop.lastCommitMs,
    audited: Object.fromEntries(run.auditor.counts),
    tasks,
    recentLate: run.recentLate.list(),
  };
}

function observeTask(t: StreamTask, now: number): TaskObservation {
  const lags = t.lag();
  const holders = new Map(t.watermarkHolders().map((h) => [h.key, h.holder]));
  const inputs = t.inputWatermarks().map(({ key, watermark }): InputObservation => {
    const holder = holders.get(key);
    return {
      key,
      lag: lags.get(key) ?? 0,
      watermark: watermark === undefined ? null : clock(watermark),
      idle: watermark === undefined,
      heldBy: holder === undefined ? null : holder === 'none' ? 'none' : { application: holder.application, task: holder.task ?? null, watermark: clock(holder.watermark), state: holder.state },
    };
  });
  const late = t.counters.lateByNode;
  const operators = [...t.operatorWatermarks()].map(([node, w]): OperatorObservation => ({ node, watermark: clock(w), lateRecords: late.get(node)?.records ?? 0, lateWindows: late.get(node)?.windows ?? 0 }));
  const watermark = clock(t.watermark);
  return {
    id: t.id,
    subTopology: t.subTopology.id,
    partition: t.partition,
    streamTime: clock(t.streamTime),
    watermark,
    // At the end of its input (watermark ∞) nothing is behind.
    eventTimeLagMs: watermark === null ? null : watermark >= MAX_WATERMARK ? 0 : now - watermark,
    caughtUp: t.isCaughtUp(),
    consumed: t.counters.consumed,
    processed: t.counters.processed,
    deadLettered: t.counters.deadLettered,
    lateRecords: t.counters.lateRecords,
    lateWindows: t.counters.lateWindows,
    inputs,
    operators,
  };
}
