import type { AuditEntry } from './log.ts';
import type { Clock } from '../time/clock.ts';

/** Kinds of audit entries. The `nondeterministic:*` kinds make a run irreproducible. */
export type AuditKind =
  | 'nondeterministic:idle-partition'
  | 'nondeterministic:end-of-input'
  | 'nondeterministic:ingest-time'
  | 'nondeterministic:wall-clock'
  | 'nondeterministic:idle-watermark'
  | 'nondeterministic:processing-time'
  /** A join on a table's latest value whose answer depends on which input was processed first (`latestMayDifferFromAsOf`, `missedJoinedRecords`). */
  | 'nondeterministic:latest-value-join'
  | 'fallback:brokerTime'
  | 'fallback:streamTime'
  | 'dead-letter'
  | 'late-record'
  | 'late-window'
  /** A versioned table update that came after a stream record it would have joined was joined (`missedJoinedRecords`). */
  | 'late-table-update'
  | 'dropped'
  /** Records of a `fromStream()` partition without a `tidemark.producer` header: its watermark cannot move on them. */
  | 'no-producer'
  /** A producer task released by an operator (`tidemark release`): no longer waited for. */
  | 'release'
  /** A record its producer wrote at or below its own watermark, marked so. */
  | 'producer-late';

/** A sink for audit lines as they happen (they are also committed with the task's data). */
export type AuditListener = (entry: AuditEntry) => void;

/**
 * The one place where tidemark records that something happened which a
 * reproducible run must know about: every nondeterministic decision, every
 * timestamp fallback and every dead-lettered record.
 * Each call counts the entry and keeps it for the task's next commit.
 */
export class Auditor {
  readonly #clock: Clock;
  readonly #listener: AuditListener | undefined;
  readonly counts = new Map<AuditKind, number>();
  #pending: AuditEntry[] = [];

  constructor(clock: Clock, listener?: AuditListener) {
    this.#clock = clock;
    this.#listener = listener;
  }

  record(kind: AuditKind, taskId: string, where: { stream: string; partition: number; offset: number }, detail: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    const entry: AuditEntry = { kind, taskId, stream: where.stream, partition: where.partition, offset: where.offset, detail, at: this.#clock.now() };
    this.#pending.push(entry);
    this.#listener?.(entry);
  }

  /** Returns and forgets the entries of a task made since its last commit. */
  drain(taskId: string): AuditEntry[] {
    const mine = this.#pending.filter((e) => e.taskId === taskId);
    if (mine.length > 0) this.#pending = this.#pending.filter((e) => e.taskId !== taskId);
    return mine;
  }

  /** How many nondeterministic decisions were made in this run. */
  nondeterministicDecisions(): number {
    let n = 0;
    for (const [kind, c] of this.counts) if (kind.startsWith('nondeterministic:')) n += c;
    return n;
  }
}
