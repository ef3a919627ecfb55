/**
 * The read_committed rules of the Kafka connector, on fetched batches as
 * the broker sends them: which records are committed, and how far a
 * fetch's list of aborted transactions reaches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { committedRecords, listedUpTo, type FetchedBatch } from '../../src/connectors/kafka/kafka-records.ts';

const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;

function batch(firstOffset: number, producerId: number, values: string[], attributes = TRANSACTIONAL): FetchedBatch {
  return {
    firstOffset: BigInt(firstOffset),
    attributes,
    lastOffsetDelta: values.length - 1,
    firstTimestamp: 0n,
    maxTimestamp: 0n,
    producerId: BigInt(producerId),
    records: values.map((v, i) => ({ offsetDelta: i, timestampDelta: 0n, key: null, value: Buffer.from(v), headers: [] })),
  };
}
const marker = (offset: number, producerId: number): FetchedBatch => batch(offset, producerId, [''], TRANSACTIONAL | CONTROL);
const values = (bs: FetchedBatch[], aborted: { producerId: bigint; firstOffset: bigint }[]): string[] =>
  committedRecords('s', 0, { batches: bs, abortedTransactions: aborted }).records.map((r) => new TextDecoder().decode(r.value!));

test('committedRecords: an aborted transaction is skipped up to its marker, a later committed one of the same producer is read', () => {
  const bs = [batch(0, 7, ['a']), marker(1, 7), batch(2, 7, ['b', 'c']), marker(4, 7), batch(5, 8, ['d'])];
  assert.deepEqual(values(bs, [{ producerId: 7n, firstOffset: 0n }]), ['b', 'c', 'd']);
  assert.equal(committedRecords('s', 0, { batches: bs, abortedTransactions: [] }).next, 6n);
});

test('listedUpTo: the list of aborted transactions covers the batches returned, not the partition up to its last stable offset', () => {
  assert.equal(listedUpTo([batch(10, 1, ['a', 'b']), marker(12, 1), batch(13, 2, ['c'])], 1_000n), 14n);
  // Batches out of order of their ends: the furthest counts.
  assert.equal(listedUpTo([batch(20, 1, ['a', 'b', 'c']), batch(21, 2, ['x'])], 1_000n), 23n);
  assert.equal(listedUpTo([batch(10, 1, ['a', 'b'])], 11n), 11n);
  assert.equal(listedUpTo([], 1_000n), 0n);
});
