/**
 * Where a task without a checkpoint starts reading (the `from` run option,
 * the CLI's `--from`), checked: a position the run cannot honour is an
 * error naming it, never a silent choice. A position past the end would be
 * committed as it is, and the records appended later, below it, skipped
 * for good; a stream or partition the topology does not read is a typo.
 */
import type { Log } from './log.ts';

/** Where a task without a checkpoint starts: `earliest`, `latest`, or an offset per `stream/partition` (others: earliest). */
export type StartPosition = 'earliest' | 'latest' | Readonly<Record<string, number>>;

/**
 * Checks every `stream/partition` of `from` against the streams the
 * topology reads (`sources`: stream → partition count) and that each offset
 * is a non-negative integer. Throws an Error naming the position.
 */
export function checkStartPosition(from: StartPosition, sources: ReadonlyMap<string, number>, shown: readonly string[]): void {
  if (from === 'earliest' || from === 'latest') return;
  for (const [key, offset] of Object.entries(from)) {
    const slash = key.lastIndexOf('/');
    const stream = key.slice(0, slash);
    const partitionText = key.slice(slash + 1);
    if (slash <= 0 || !/^\d+$/.test(partitionText)) throw new Error(`start position '${key}' must be stream/partition, with the partition a number`);
    const at = `start position ${key}=${offset}`;
    if (!Number.isSafeInteger(offset) || offset < 0) throw new Error(`${at}: the offset must be a non-negative integer`);
    const partitions = sources.get(stream);
    if (partitions === undefined) throw new Error(`${at} names stream ${stream}, which the topology does not read (it reads ${shown.join(', ')})`);
    const partition = Number(partitionText);
    if (partition >= partitions) throw new Error(`${at} names partition ${partition}, but ${stream} has ${partitions === 1 ? 'partition 0 only' : `partitions 0..${partitions - 1}`}`);
  }
}

/**
 * The offset a partition without a checkpoint starts at. Throws when `from`
 * gives one past the partition's end: checked here, when the position is
 * used, because only then is the end known on every log (a broker's ends
 * are loaded for the partitions a run holds).
 */
export function startOffset(from: StartPosition, log: Pick<Log, 'endOffset'>, stream: string, partition: number): number {
  if (from === 'earliest') return 0;
  if (from === 'latest') return log.endOffset(stream, partition);
  const key = `${stream}/${partition}`;
  const offset = Object.hasOwn(from, key) ? from[key]! : 0;
  const end = log.endOffset(stream, partition);
  if (offset > end) throw new Error(`start position ${key}=${offset} is past the end of ${key} (its next offset is ${end}): the records appended later would be skipped`);
  return offset;
}
