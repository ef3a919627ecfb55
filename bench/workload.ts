/**
 * The benchmark workload: Nexmark-like bids, generated deterministically from
 * a seed. Every case of a run (tidemark and hand-written loops alike) reads
 * the same records: N bids over 10 000 auctions (the key), spread over 8
 * partitions by Kafka's default partitioner on the key bytes, with event
 * times that mostly increase and ~5 % of them out of order.
 */
import { partitionForKey } from '../src/runtime/partitioner.ts';
import type { AppendRecord } from '../src/runtime/log.ts';
import { seededRandom } from '../src/testing/seeded-random.ts';

export const PARTITIONS = 8;
export const KEYS = 10_000;
/** Share of records whose event time is pushed back behind their neighbours. */
export const OUT_OF_ORDER = 0.05;
/** Stateless pipeline: keep bids at or above this price (about half of them). */
export const PRICE_FLOOR = 5_000;
/** Stateless pipeline: Nexmark Q1's dollar-to-euro rate. */
export const EURO_RATE = 0.908;
/** Event time of the first bid. */
const START = 1_700_000_000_000;

/** A bid's value (JSON in the log). */
export interface Bid {
  readonly auction: string;
  readonly bidder: number;
  readonly price: number;
  readonly channel: string;
  readonly dateTime: number;
}

/** The euro bid the stateless pipeline emits. */
export interface EuroBid {
  readonly auction: string;
  readonly bidder: number;
  readonly euros: number;
  readonly dateTime: number;
}

/** The stateless pipeline's selection (Nexmark Q2-like): bids at or above the floor. */
export function isHighBid(bid: Bid): boolean {
  return bid.price >= PRICE_FLOOR;
}

/** The stateless pipeline's conversion (Nexmark Q1): price in euros. */
export function toEuroBid(bid: Bid): EuroBid {
  return { auction: bid.auction, bidder: bid.bidder, euros: Math.round(bid.price * EURO_RATE), dateTime: bid.dateTime };
}

/** A generated record: what is appended to a log, plus its offset in its partition. */
export interface GeneratedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly eventTime: number;
}

export interface Workload {
  readonly seed: number;
  readonly count: number;
  /** Records of each partition, in offset order. */
  readonly partitions: readonly (readonly GeneratedRecord[])[];
  /** How many records have an event time below the largest earlier one of their partition. */
  readonly outOfOrder: number;
}

/** A deterministic pseudo-random generator, for inputs that do not come from fast-check. */
export const prng = seededRandom;

const CHANNELS = ['apple', 'google', 'facebook', 'baidu'];

/**
 * Encodes strings into views of large shared buffers: a million records then
 * hold a million small views, not a million separately allocated buffers,
 * which would make the workload itself weigh on the garbage collector.
 */
class Slab {
  #buf = Buffer.allocUnsafeSlow(0);
  #pos = 0;
  bytes(s: string): Uint8Array {
    const max = s.length * 3;
    if (this.#pos + max > this.#buf.length) {
      this.#buf = Buffer.allocUnsafeSlow(Math.max(1 << 20, max));
      this.#pos = 0;
    }
    const n = this.#buf.write(s, this.#pos, 'utf8');
    const view = new Uint8Array(this.#buf.buffer, this.#buf.byteOffset + this.#pos, n);
    this.#pos += n;
    return view;
  }
}

/** Generates `count` bids from `seed`: same seed and count, same bytes. */
export function generate(count: number, seed: number): Workload {
  const rnd = prng(seed);
  const enc = new TextEncoder();
  const keyBytes: Uint8Array[] = [];
  const keyPartition: number[] = [];
  for (let k = 0; k < KEYS; k++) {
    // Keys are plain UTF-8 strings (tidemark's string serde).
    const bytes = enc.encode(`auction-${k}`);
    keyBytes.push(bytes);
    keyPartition.push(partitionForKey(bytes, PARTITIONS));
  }
  const slab = new Slab();
  const partitions: GeneratedRecord[][] = Array.from({ length: PARTITIONS }, () => []);
  const maxSeen = new Array<number>(PARTITIONS).fill(-1);
  let outOfOrder = 0;
  for (let i = 0; i < count; i++) {
    // Skewed keys, as in Nexmark: a few hot auctions, a long tail.
    const k = Math.floor(KEYS * rnd() ** 2);
    const p = keyPartition[k]!;
    // About one bid per millisecond; ~5 % arrive up to 2 s late.
    let eventTime = START + i;
    if (rnd() < OUT_OF_ORDER) eventTime -= 1 + Math.floor(rnd() * 2000);
    const bid: Bid = {
      auction: `auction-${k}`,
      bidder: Math.floor(rnd() * 100_000),
      price: 100 + Math.floor(rnd() * 9_900),
      channel: CHANNELS[Math.floor(rnd() * CHANNELS.length)]!,
      dateTime: eventTime,
    };
    const list = partitions[p]!;
    if (eventTime < maxSeen[p]!) outOfOrder++;
    else maxSeen[p] = eventTime;
    list.push({ partition: p, offset: list.length, key: keyBytes[k]!, value: slab.bytes(JSON.stringify(bid)), eventTime });
  }
  return { seed, count, partitions, outOfOrder };
}

/** The workload as records to append to stream `stream`, partition by partition, in batches of at most `batch`. */
export function* appendBatches(w: Workload, stream: string, batch: number): Generator<AppendRecord[]> {
  for (const list of w.partitions) {
    for (let i = 0; i < list.length; i += batch) {
      yield list.slice(i, i + batch).map((r) => ({ stream, partition: r.partition, key: r.key, value: r.value, headers: {}, eventTime: r.eventTime }));
    }
  }
}
