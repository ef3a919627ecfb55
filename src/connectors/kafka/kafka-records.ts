/**
 * Kafka records to tidemark's records and back: the three clocks on Kafka,
 * the watermark flag, and read_committed over raw fetched batches.
 *
 * The three clocks (docs/kafka.md):
 * - `eventTime`: the `tidemark.event-time` header when present (tidemark
 *   writes it on everything it produces); otherwise the record's CreateTime,
 *   on a CreateTime topic; otherwise unknown (null).
 * - `brokerTime`: the batch's LogAppendTime on a LogAppendTime topic
 *   (every topic tidemark creates is one); unknown (null) on a CreateTime
 *   topic, where the broker keeps no append time.
 * - `ingestTime`: the consumer's clock, as everywhere.
 *
 * @module
 */
import type { Headers, LogRecord } from '../../records/record.ts';
import type { AppendRecord } from '../../runtime/log.ts';

/** Header carrying the producer's event time, in decimal milliseconds. */
export const EVENT_TIME_HEADER = 'tidemark.event-time';
/** Header flagging a watermark record (value `1`): what a plain Kafka reader tells control records by. */
export const WATERMARK_HEADER = 'tidemark.watermark';

/** Batch attribute bits (Kafka's record batch format v2). */
const TIMESTAMP_TYPE_LOG_APPEND = 1 << 3;
const IS_TRANSACTIONAL = 1 << 4;
const IS_CONTROL = 1 << 5;

/** The parts of a fetched record batch this module reads (the client's `RecordsBatch`). */
export interface FetchedBatch {
  readonly firstOffset: bigint;
  readonly attributes: number;
  readonly lastOffsetDelta: number;
  readonly firstTimestamp: bigint;
  readonly maxTimestamp: bigint;
  readonly producerId: bigint;
  readonly records: readonly {
    readonly offsetDelta: number;
    readonly timestampDelta: bigint;
    readonly key: Buffer | null;
    readonly value: Buffer | null;
    readonly headers: readonly (readonly [Buffer | null, Buffer | null])[];
  }[];
}

/** A fetched partition: its batches and the transactions aborted in their range (read_committed). */
export interface FetchedPartition {
  readonly batches: readonly FetchedBatch[];
  readonly abortedTransactions: readonly { readonly producerId: bigint; readonly firstOffset: bigint }[] | null;
}

/**
 * Rule (Kafka's read_committed, KIP-98): a record of a transactional batch
 * is skipped when its producer's transaction was aborted — the broker lists
 * the aborted transactions overlapping the fetched range, each from its first
 * offset to the producer's abort marker. Control batches (the markers) are
 * never data. Returns the data records, and the offset after the last batch
 * read (markers included), where the next fetch starts.
 */
export function committedRecords(stream: string, partition: number, fetched: FetchedPartition): { records: LogRecord[]; next: bigint | undefined } {
  const aborted = [...(fetched.abortedTransactions ?? [])].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const abortedProducers = new Set<bigint>();
  const records: LogRecord[] = [];
  let next: bigint | undefined;
  let a = 0;
  for (const batch of fetched.batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    next = lastOffset + 1n;
    for (; a < aborted.length && aborted[a]!.firstOffset <= lastOffset; a++) abortedProducers.add(aborted[a]!.producerId);
    const transactional = (batch.attributes & IS_TRANSACTIONAL) !== 0;
    if ((batch.attributes & IS_CONTROL) !== 0) {
      // An abort (or commit) marker ends that producer's transaction.
      if (transactional) abortedProducers.delete(batch.producerId);
      continue;
    }
    if (transactional && abortedProducers.has(batch.producerId)) continue;
    const logAppendTime = (batch.attributes & TIMESTAMP_TYPE_LOG_APPEND) !== 0;
    for (const r of batch.records) {
      const headers = headersOf(r.headers);
      const eventTime = eventTimeOf(headers, logAppendTime ? null : Number(batch.firstTimestamp + r.timestampDelta));
      const { [EVENT_TIME_HEADER]: _e, [WATERMARK_HEADER]: watermark, ...visible } = headers;
      records.push({
        stream,
        partition,
        offset: Number(batch.firstOffset) + r.offsetDelta,
        key: r.key === null ? null : new Uint8Array(r.key),
        value: r.value === null ? null : new Uint8Array(r.value),
        headers: visible,
        eventTime,
        brokerTime: logAppendTime ? Number(batch.maxTimestamp) : null,
        ...(watermark === '1' ? { control: 'watermark' as const } : {}),
      });
    }
  }
  return { records, next };
}

/**
 * Rule (Kafka's fetch): the aborted transactions a read_committed fetch
 * lists for a partition are those overlapping the range it returned — from
 * the fetch offset to the offset after its last batch, never past the last
 * stable offset. An abort further on is not listed, so records read beyond
 * this offset cannot be told committed or aborted by that list. Returns
 * that end (exclusive), or 0 when no batch came (nothing is covered).
 * @platformatic/kafka's own filter drops no batch after the last abort
 * marker it keeps, so its filtered batches end where the broker's did.
 */
export function listedUpTo(batches: readonly Pick<FetchedBatch, 'firstOffset' | 'lastOffsetDelta'>[], lastStable: bigint): bigint {
  let end = 0n;
  for (const b of batches) {
    const next = b.firstOffset + BigInt(b.lastOffsetDelta) + 1n;
    if (next > end) end = next;
  }
  return end > lastStable && lastStable >= 0n ? lastStable : end;
}

function headersOf(raw: readonly (readonly [Buffer | null, Buffer | null])[]): Record<string, string> {
  // fromEntries, not `headers[name] = …`: assigning `__proto__` would set the prototype and lose the header.
  return Object.fromEntries(raw.flatMap(([k, v]) => (k === null ? [] : [[k.toString('utf8'), v === null ? '' : v.toString('utf8')]])));
}

/** The event time header, else the record's CreateTime (null on a LogAppendTime topic, where CreateTime is gone). */
function eventTimeOf(headers: Headers, createTime: number | null): number | null {
  const h = headers[EVENT_TIME_HEADER];
  if (h !== undefined) {
    const t = Number(h);
    return h === '' || !Number.isFinite(t) ? null : t;
  }
  return createTime;
}

/** A record to produce: event time travels in a header (and as CreateTime), the watermark flag as a header. */
export function messageOf(r: AppendRecord): { topic: string; partition: number; key: Buffer | undefined; value: Buffer | undefined; headers: Map<Buffer, Buffer>; timestamp?: bigint } {
  const headers = new Map<Buffer, Buffer>();
  const put = (k: string, v: string): void => void headers.set(Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(r.headers ?? {})) put(k, v);
  put(EVENT_TIME_HEADER, r.eventTime === null ? '' : String(r.eventTime));
  if (r.control === 'watermark') put(WATERMARK_HEADER, '1');
  return {
    topic: r.stream,
    partition: r.partition,
    key: r.key === null ? undefined : Buffer.from(r.key.buffer, r.key.byteOffset, r.key.byteLength),
    value: r.value === null ? undefined : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
    headers,
    ...(r.eventTime !== null && Number.isSafeInteger(r.eventTime) && r.eventTime >= 0 ? { timestamp: BigInt(r.eventTime) } : {}),
  };
}
