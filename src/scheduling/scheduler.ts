import type { PartitionBuffer } from './partition-buffer.ts';
import type { StreamRecord } from '../records/record.ts';

/**
 * Rule (docs/semantics.md, "Scheduling"): across the partitions of a task, the next record is the
 * head with the smallest `timestamp`; ties break by source declaration order,
 * then partition number, then producer, then offset. Returns < 0 when `a`
 * goes first.
 */
export function compareHeads(a: StreamRecord, aBuf: PartitionBuffer, b: StreamRecord, bBuf: PartitionBuffer): number {
  return (
    a.timestamp - b.timestamp ||
    aBuf.sourceIndex - bBuf.sourceIndex ||
    a.partition - b.partition ||
    (aBuf.producer < bBuf.producer ? -1 : aBuf.producer > bBuf.producer ? 1 : 0) ||
    a.offset - b.offset
  );
}

/** The buffer whose head goes next by {@link compareHeads}, among non-empty buffers; undefined if all are empty. */
export function oldestHead(buffers: readonly PartitionBuffer[]): PartitionBuffer | undefined {
  let best: PartitionBuffer | undefined;
  let bestHead: StreamRecord | undefined;
  for (const buf of buffers) {
    const h = buf.head();
    if (h === undefined) continue;
    if (bestHead === undefined || compareHeads(h, buf, bestHead, best!) < 0) {
      best = buf;
      bestHead = h;
    }
  }
  return best;
}

/** What the scheduler decided for a task at one moment. */
export type SchedulingDecision =
  /** Process the head of this buffer. `passedOver` is non-empty when this was a nondeterministic decision. */
  | { readonly kind: 'process'; readonly buffer: PartitionBuffer; readonly passedOver: readonly PartitionBuffer[] }
  /** Wait: a partition that may still have data is empty. `idleSince` is when the wait became idle (no lag left). */
  | { readonly kind: 'wait'; readonly blockedBy: readonly PartitionBuffer[]; readonly idle: boolean }
  /** Nothing is buffered anywhere. */
  | { readonly kind: 'empty' };

/**
 * Rule (docs/semantics.md, "Scheduling"): the scheduler does not pick while a partition of the
 * task is empty and may still have data.
 * - If such a partition has unfetched records (lag > 0), or is a share
 *   whose writer task is moving between the members of a group, the wait
 *   is not idle: the data exists or is on its way, so waiting is right.
 * - Otherwise the wait is idle: in catch-up mode (`maxIdleMs` = Infinity)
 *   it lasts as long as needed; in real-time mode, once it has lasted
 *   `maxIdleMs` (measured by the caller's clock from `idleSinceMs`), the
 *   scheduler proceeds without those partitions — a nondeterministic
 *   decision, reported in `passedOver` for the caller to count and audit.
 */
export function decideNext(
  buffers: readonly PartitionBuffer[],
  maxIdleMs: number,
  idleSinceMs: number | undefined,
  nowMs: number,
): SchedulingDecision {
  const next = oldestHead(buffers);
  if (next === undefined) return { kind: 'empty' };
  let blocked: PartitionBuffer[] | undefined;
  let lagging = false;
  for (const buf of buffers) {
    if (buf.mayStillHaveData()) {
      (blocked ??= []).push(buf);
      if (buf.unfetched > 0) lagging = true;
    }
  }
  if (blocked === undefined) return { kind: 'process', buffer: next, passedOver: [] };
  // A writer that is moving (see PartitionBuffer.writerMoving) will write again: as with lag, waiting is right.
  if (lagging || blocked.some((b) => b.writerMoving)) return { kind: 'wait', blockedBy: blocked, idle: false };
  if (idleSinceMs !== undefined && nowMs - idleSinceMs >= maxIdleMs) {
    return { kind: 'process', buffer: next, passedOver: blocked };
  }
  return { kind: 'wait', blockedBy: blocked, idle: true };
}
