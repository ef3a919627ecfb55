/**
 * The windows benchmark's workload, generated deterministically from a seed
 * with the project's PRNG: sensor readings from 10 000 keys, spread over a
 * few partitions by Kafka's default partitioner on the key bytes. Event time
 * moves forward by 0–2 ms per record (1 ms on average); 5 % of the records
 * are out of order, pushed back behind their neighbours: most by up to 4 s
 * (inside the 5 s grace of every window definition of the benchmark), some by
 * up to 20 s, so that a few of them are late.
 *
 * The same generator serves the timed cases (the whole input in memory, per
 * partition) and the long memory run (chunks generated on the fly).
 */
import { partitionForKey } from '../src/runtime/partitioner.ts';
import type { AppendRecord } from '../src/runtime/log.ts';
import { seededRandom } from '../src/testing/seeded-random.ts';

export const KEYS = 10_000;
/** Share of records pushed back behind their neighbours. */
export const OUT_OF_ORDER = 0.05;
/** Of those: the share pushed back by up to {@link FAR_DELAY_MS} instead of {@link NEAR_DELAY_MS}. */
export const FAR_SHARE = 0.2;
export const NEAR_DELAY_MS = 4_000;
export const FAR_DELAY_MS = 20_000;
/** Event time of the first record. */
export const START = 1_700_000_000_000;
/** The input stream's name. */
export const INPUT = 'readings';

/** One input record as the benchmark keeps it: key and value bytes are shared, not copied per record. */
export interface InputRecord {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly eventTime: number;
}

export interface Workload {
  readonly seed: number;
  readonly count: number;
  /** Records of each partition, in offset order. */
  readonly partitions: readonly (readonly InputRecord[])[];
  /** Records whose event time is below the largest earlier one of their partition. */
  readonly outOfOrder: number;
}

/**
 * An endless, deterministic source of records: the same seed gives the
 * same sequence, whether taken all at once or in chunks.
 */
export class ReadingGenerator {
  readonly partitions: number;
  readonly #rnd: () => number;
  readonly #keys: Uint8Array[] = [];
  readonly #keyPartition: number[] = [];
  readonly #values: Uint8Array[] = [];
  #base = START;
  readonly #maxSeen: number[];
  /** Records generated so far, and how many of them were out of order in their partition. */
  generated = 0;
  outOfOrder = 0;

  constructor(seed: number, partitions: number) {
    this.partitions = partitions;
    this.#rnd = seededRandom(seed);
    const enc = new TextEncoder();
    for (let k = 0; k < KEYS; k++) {
      // Fixed width, so that string order, byte order and hex order agree (they would anyway for ASCII).
      const bytes = enc.encode(`sensor-${String(k).padStart(5, '0')}`);
      this.#keys.push(bytes);
      this.#keyPartition.push(partitionForKey(bytes, partitions));
    }
    // The values are never read by the aggregations (counts): a few shared payloads suffice.
    for (let i = 0; i < 64; i++) this.#values.push(enc.encode(JSON.stringify({ celsius: 15 + i / 4, battery: 100 - i })));
    this.#maxSeen = new Array<number>(partitions).fill(-1);
  }

  /** The next record and its partition. */
  next(): { partition: number; record: InputRecord } {
    const rnd = this.#rnd;
    // Skewed keys: a few hot sensors, a long tail of rare ones.
    const k = Math.floor(KEYS * rnd() ** 2);
    this.#base += Math.floor(rnd() * 3);
    let eventTime = this.#base;
    if (rnd() < OUT_OF_ORDER) eventTime -= 1 + Math.floor(rnd() * (rnd() < FAR_SHARE ? FAR_DELAY_MS : NEAR_DELAY_MS));
    const partition = this.#keyPartition[k]!;
    if (eventTime < this.#maxSeen[partition]!) this.outOfOrder++;
    else this.#maxSeen[partition] = eventTime;
    this.generated++;
    return { partition, record: { key: this.#keys[k]!, value: this.#values[this.generated & 63]!, eventTime } };
  }

  /** The next `n` records as appends to `stream`. */
  chunk(n: number, stream: string = INPUT): AppendRecord[] {
    const out: AppendRecord[] = new Array<AppendRecord>(n);
    for (let i = 0; i < n; i++) {
      const { partition, record } = this.next();
      out[i] = { stream, partition, key: record.key, value: record.value, headers: {}, eventTime: record.eventTime };
    }
    return out;
  }
}

/** `count` records from `seed`, per partition. */
export function generate(count: number, seed: number, partitions: number): Workload {
  const g = new ReadingGenerator(seed, partitions);
  const lists: InputRecord[][] = Array.from({ length: partitions }, () => []);
  for (let i = 0; i < count; i++) {
    const { partition, record } = g.next();
    lists[partition]!.push(record);
  }
  return { seed, count, partitions: lists, outOfOrder: g.outOfOrder };
}

/** The first `fraction` of each partition: a smaller workload for warm-ups. */
export function slice(w: Workload, fraction: number): Workload {
  const partitions = w.partitions.map((l) => l.slice(0, Math.ceil(l.length * fraction)));
  return { seed: w.seed, count: partitions.reduce((n, l) => n + l.length, 0), partitions, outOfOrder: 0 };
}

/** The workload as appends, partition by partition, in batches of at most `batch`. */
export function* appendBatches(w: Workload, batch: number, stream: string = INPUT): Generator<AppendRecord[]> {
  for (let p = 0; p < w.partitions.length; p++) {
    const list = w.partitions[p]!;
    for (let i = 0; i < list.length; i += batch) {
      yield list.slice(i, i + batch).map((r) => ({ stream, partition: p, key: r.key, value: r.value, headers: {}, eventTime: r.eventTime }));
    }
  }
}
