/**
 * The joins benchmark's workloads, generated deterministically from a seed
 * with the project's PRNG, spread over a few partitions by Kafka's default
 * partitioner on the key bytes (so both inputs of a join are co-partitioned):
 *
 * - **enrichment** (stream–table): orders keyed by customer id (10 000
 *   customers, skewed: a few busy ones, a long tail), and customer updates
 *   (one record in ten, any customer) into a versioned table;
 * - **matching** (stream–stream): orders keyed by order id, each paid with
 *   probability 0.8 by a payment of the same key up to 12 s of event time
 *   later, one paid order in ten in two payments.
 *
 * Event time moves forward by 0–2 ms per step (1 ms on average); 5 % of the
 * records are out of order, pushed back behind their neighbours: most by up
 * to 4 s (inside the benchmark's 5 s grace), some by up to 20 s, so that a
 * few are late or arrive already due. Values are JSON, as an application
 * would write them.
 *
 * The same generators serve the timed cases (the whole input in memory, per
 * input and partition) and the long memory runs (chunks generated on the fly).
 */
import { partitionForKey } from '../src/runtime/partitioner.ts';
import type { AppendRecord } from '../src/runtime/log.ts';
import { seededRandom } from '../src/testing/seeded-random.ts';

export const CUSTOMERS = 10_000;
/** Enrichment: the share of records that are customer updates (the rest are orders). */
export const UPDATE_SHARE = 0.1;
/** Matching: the share of orders paid, the share of paid orders paid in two payments, and how many steps (≈ ms) after its order a payment may come. */
export const PAID_SHARE = 0.8;
export const SPLIT_SHARE = 0.1;
export const PAYMENT_DELAY_STEPS = 12_000;
/** Share of records pushed back behind their neighbours. */
export const OUT_OF_ORDER = 0.05;
/** Of those: the share pushed back by up to {@link FAR_DELAY_MS} instead of {@link NEAR_DELAY_MS}. */
export const FAR_SHARE = 0.2;
export const NEAR_DELAY_MS = 4_000;
export const FAR_DELAY_MS = 20_000;
/** Event time of the first record. */
export const START = 1_700_000_000_000;

export const ORDERS = 'orders';
export const CUSTOMER_UPDATES = 'customers';
export const PAYMENTS = 'payments';

export type JoinKind = 'stream-table' | 'stream-stream';

/**
 * The two input streams of a join, in the order the benchmark's topology
 * declares their sources (the scheduler's tie-break between two heads of one
 * timestamp): the table's stream first for the enrichment, then the orders;
 * orders (left) first for the matching, then the payments (right).
 */
export const INPUTS: Readonly<Record<JoinKind, readonly [string, string]>> = {
  'stream-table': [CUSTOMER_UPDATES, ORDERS],
  'stream-stream': [ORDERS, PAYMENTS],
};

/** One input record as the benchmark keeps it. */
export interface InputRecord {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly eventTime: number;
}

/** One generated record: which input (0 or 1, as in {@link INPUTS}), its partition, the record. */
export interface Generated {
  readonly input: 0 | 1;
  readonly partition: number;
  readonly record: InputRecord;
}

export interface Workload {
  readonly kind: JoinKind;
  readonly seed: number;
  readonly count: number;
  /** Records of each input (as in {@link INPUTS}) and partition, in offset order. */
  readonly inputs: readonly [readonly (readonly InputRecord[])[], readonly (readonly InputRecord[])[]];
  /** Records whose event time is below the largest earlier one of their partition (both inputs of a partition together). */
  readonly outOfOrder: number;
}

const enc = new TextEncoder();
const TIERS = ['bronze', 'silver', 'gold', 'platinum'];

/** The common part of both generators: the clock, the disorder, the partitioner, the out-of-order count. */
abstract class TwoInputGenerator {
  readonly partitions: number;
  protected readonly rnd: () => number;
  protected base = START;
  readonly #maxSeen: number[];
  readonly #queue: Generated[] = [];
  /** Records generated so far, and how many were out of order in their partition. */
  generated = 0;
  outOfOrder = 0;

  constructor(seed: number, partitions: number) {
    this.partitions = partitions;
    this.rnd = seededRandom(seed);
    this.#maxSeen = new Array<number>(partitions).fill(-1);
  }

  /** Moves the clock by one step and queues the step's records with {@link emit}. */
  protected abstract step(): void;

  /** Queues a record at the current time, pushed back for some. */
  protected emit(input: 0 | 1, key: Uint8Array, partition: number, value: Uint8Array): void {
    const rnd = this.rnd;
    let eventTime = this.base;
    if (rnd() < OUT_OF_ORDER) eventTime -= 1 + Math.floor(rnd() * (rnd() < FAR_SHARE ? FAR_DELAY_MS : NEAR_DELAY_MS));
    if (eventTime < this.#maxSeen[partition]!) this.outOfOrder++;
    else this.#maxSeen[partition] = eventTime;
    this.#queue.push({ input, partition, record: { key, value, eventTime } });
  }

  /** The next record. */
  next(): Generated {
    while (this.#queue.length === 0) {
      this.base += Math.floor(this.rnd() * 3);
      this.step();
    }
    this.generated++;
    return this.#queue.shift()!;
  }

  /** The next `n` records as appends. */
  chunk(n: number, streams: readonly [string, string]): AppendRecord[] {
    const out = new Array<AppendRecord>(n);
    for (let i = 0; i < n; i++) {
      const { input, partition, record } = this.next();
      out[i] = { stream: streams[input], partition, key: record.key, value: record.value, headers: {}, eventTime: record.eventTime };
    }
    return out;
  }
}

/** Orders of skewed customers, and customer updates (uniform over the customers). */
export class EnrichmentGenerator extends TwoInputGenerator {
  readonly #keys: Uint8Array[] = [];
  readonly #keyPartition: number[] = [];
  #orders = 0;
  #updates = 0;

  constructor(seed: number, partitions: number) {
    super(seed, partitions);
    for (let k = 0; k < CUSTOMERS; k++) {
      const bytes = enc.encode(`customer-${String(k).padStart(5, '0')}`);
      this.#keys.push(bytes);
      this.#keyPartition.push(partitionForKey(bytes, partitions));
    }
  }

  protected step(): void {
    const rnd = this.rnd;
    if (rnd() < UPDATE_SHARE) {
      const k = Math.floor(CUSTOMERS * rnd());
      const value = enc.encode(JSON.stringify({ tier: TIERS[Math.floor(rnd() * TIERS.length)], version: ++this.#updates }));
      this.emit(0, this.#keys[k]!, this.#keyPartition[k]!, value);
    } else {
      const k = Math.floor(CUSTOMERS * rnd() ** 2);
      const value = enc.encode(JSON.stringify({ id: ++this.#orders, amount: 1 + Math.floor(rnd() * 500) }));
      this.emit(1, this.#keys[k]!, this.#keyPartition[k]!, value);
    }
  }
}

/** Orders keyed by order id, and their payments up to {@link PAYMENT_DELAY_STEPS} steps later. */
export class MatchingGenerator extends TwoInputGenerator {
  /** Payments due at a later step, by step. */
  readonly #pending = new Map<number, { key: Uint8Array; partition: number; value: Uint8Array }[]>();
  #step = 0;

  protected step(): void {
    const rnd = this.rnd;
    const n = ++this.#step;
    const key = enc.encode(`order-${n}`);
    const partition = partitionForKey(key, this.partitions);
    const amount = 1 + Math.floor(rnd() * 500);
    this.emit(0, key, partition, enc.encode(JSON.stringify({ id: n, amount })));
    if (rnd() < PAID_SHARE) {
      const parts = rnd() < SPLIT_SHARE ? 2 : 1;
      for (let i = 0; i < parts; i++) {
        const at = n + 1 + Math.floor(rnd() * PAYMENT_DELAY_STEPS);
        let list = this.#pending.get(at);
        if (list === undefined) this.#pending.set(at, (list = []));
        list.push({ key, partition, value: enc.encode(JSON.stringify({ order: n, paid: parts === 1 ? amount : amount / 2 })) });
      }
    }
    const due = this.#pending.get(n);
    if (due !== undefined) {
      this.#pending.delete(n);
      for (const p of due) this.emit(1, p.key, p.partition, p.value);
    }
  }
}

export function generator(kind: JoinKind, seed: number, partitions: number): EnrichmentGenerator | MatchingGenerator {
  return kind === 'stream-table' ? new EnrichmentGenerator(seed, partitions) : new MatchingGenerator(seed, partitions);
}

/** `count` records of `kind` from `seed`, per input and partition. */
export function generate(kind: JoinKind, count: number, seed: number, partitions: number): Workload {
  const g = generator(kind, seed, partitions);
  const inputs: [InputRecord[][], InputRecord[][]] = [Array.from({ length: partitions }, () => []), Array.from({ length: partitions }, () => [])];
  for (let i = 0; i < count; i++) {
    const { input, partition, record } = g.next();
    inputs[input][partition]!.push(record);
  }
  return { kind, seed, count, inputs, outOfOrder: g.outOfOrder };
}

/** The first `fraction` of each input partition: a smaller workload for warm-ups. */
export function slice(w: Workload, fraction: number): Workload {
  const cut = (lists: readonly (readonly InputRecord[])[]): InputRecord[][] => lists.map((l) => l.slice(0, Math.ceil(l.length * fraction)));
  const inputs: [InputRecord[][], InputRecord[][]] = [cut(w.inputs[0]), cut(w.inputs[1])];
  return { kind: w.kind, seed: w.seed, count: [...inputs[0], ...inputs[1]].reduce((n, l) => n + l.length, 0), inputs, outOfOrder: 0 };
}

/** The workload as appends, input by input and partition by partition, in batches of at most `batch`. */
export function* appendBatches(w: Workload, batch: number): Generator<AppendRecord[]> {
  for (const input of [0, 1] as const) {
    const stream = INPUTS[w.kind][input];
    for (let p = 0; p < w.inputs[input].length; p++) {
      const list = w.inputs[input][p]!;
      for (let i = 0; i < list.length; i += batch) {
        yield list.slice(i, i + batch).map((r) => ({ stream, partition: p, key: r.key, value: r.value, headers: {}, eventTime: r.eventTime }));
      }
    }
  }
}

// ---------------------------------------------------------------------------
// What the joins compute: the same functions for tidemark and the loops (application code, not the join).

export interface Order {
  readonly id: number;
  readonly amount: number;
}
export interface Customer {
  readonly tier: string;
  readonly version: number;
}
export interface Payment {
  readonly order: number;
  readonly paid: number;
}

/** The enrichment's joiner (a left join): the order with its customer's tier as of its time, or null. */
export const enrich = (o: Order, c: Customer | undefined): { id: number; amount: number; tier: string | null; customerVersion: number | null } => ({
  id: o.id,
  amount: o.amount,
  tier: c?.tier ?? null,
  customerVersion: c?.version ?? null,
});

/** The matching's joiner (a left join): the order with a payment of it, or unpaid. */
export const match = (o: Order, p: Payment | undefined): { id: number; amount: number; paid: number | null } => ({ id: o.id, amount: o.amount, paid: p?.paid ?? null });
