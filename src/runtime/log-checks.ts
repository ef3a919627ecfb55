import type { AppendRecord } from './log.ts';

/** Throws a clear error when a record cannot be appended: unknown stream or a partition out of range. */
export function assertAppendable(r: AppendRecord, partitions: number | undefined): void {
  if (partitions === undefined) throw new Error(`cannot append to stream ${r.stream}: no such stream`);
  if (!Number.isInteger(r.partition) || r.partition < 0 || r.partition >= partitions) {
    throw new RangeError(`cannot append to ${r.stream}/${r.partition}: the stream has partitions 0..${partitions - 1}`);
  }
}
