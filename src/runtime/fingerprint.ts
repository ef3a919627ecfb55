import { createHash } from 'node:crypto';
import type { LogRecord } from '../records/record.ts';
import type { Log } from './log.ts';
import { PRODUCER_HEADER } from './headers.ts';
import { readWatermarkRecord, watermarkRecordKind } from './watermark-record.ts';

/**
 * The identity of a stream's contents, in hex: SHA-256 over its
 * records in partition order, then offset order, each as (partition, key
 * bytes, value bytes, timestamp). Where several tasks wrote one partition,
 * the interleaving of their commits is a matter of timing, not of the input,
 * so a partition's records are taken producer by producer (in producer-name
 * order), each producer's in offset order; with one writer per partition
 * that is plain offset order. Watermark records are left out of the data's
 * fingerprint and get one of their own (`records: 'watermarks'`), which
 * leaves out stops, announcements and releases: they mark where a run began or
 * ended (or an operator's decision), not how far event time went, so a run stopped and resumed matches
 * one that never stopped. Two runs of the same input agree on every
 * output stream's fingerprint.
 *
 * @example
 * const log = await EmbeddedLog.open({ dataDir: './data' });
 * console.log(fingerprintStream(log, 'max-per-sensor'));
 */
export function fingerprintStream(log: Log, stream: string, records: 'data' | 'watermarks' = 'data', batch = 10_000): string {
  const partitions = log.partitionCount(stream) ?? 0;
  function* partition(p: number): Generator<LogRecord> {
    const end = log.endOffset(stream, p);
    for (let from = 0; from < end; from += batch) yield* log.read(stream, p, from, batch);
  }
  return fingerprintPartitions([...Array(partitions).keys()].map(partition), records);
}

/** {@link fingerprintStream} over records already read: one iterable per partition, in partition order. */
export function fingerprintPartitions(partitions: readonly Iterable<LogRecord>[], records: 'data' | 'watermarks' = 'data'): string {
  const wanted = records === 'watermarks';
  const hash = createHash('sha256');
  for (const partition of partitions) {
    const byProducer = new Map<string, LogRecord[]>();
    for (const r of partition) {
      if ((r.control === 'watermark') !== wanted || (wanted && watermarkRecordKind(readWatermarkRecord(r)) !== 'watermark')) continue;
      const producer = r.headers[PRODUCER_HEADER] ?? '';
      const list = byProducer.get(producer) ?? [];
      list.push(r);
      byProducer.set(producer, list);
    }
    for (const producer of [...byProducer.keys()].sort()) {
      for (const r of byProducer.get(producer)!) hashRecord(hash, r);
    }
  }
  return hash.digest('hex');
}

function hashRecord(hash: ReturnType<typeof createHash>, r: LogRecord): void {
  const head = Buffer.alloc(4 + 8);
  head.writeUInt32BE(r.partition, 0);
  head.writeDoubleBE(r.eventTime ?? -1, 4);
  hash.update(head);
  for (const bytes of [r.key, r.value]) {
    const len = Buffer.alloc(4);
    len.writeInt32BE(bytes === null ? -1 : bytes.byteLength, 0);
    hash.update(len);
    if (bytes !== null) hash.update(bytes);
  }
}
