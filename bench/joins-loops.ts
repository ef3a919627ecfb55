/**
 * Hand-written loops: the same join results as tidemark's operators, in
 * plain JS over the in-memory records of each partition, written from the
 * documented rules (docs/joins.md, stream time) and using no tidemark code,
 * so that they check its results independently:
 *
 * - the two inputs of a partition are read as the task reads them: the head
 *   with the smaller timestamp first, the first-declared input on a tie;
 *   stream time is the largest timestamp read so far, and what a move of it
 *   releases is released after the record that moved it;
 * - **enrichment** (left join of a stream with a versioned table, grace `g`,
 *   history `h`): per key, the table's versions in a sorted array; an order
 *   at `ts` waits, in a heap by (timestamp, arrival), until stream time
 *   `>= ts + 1 + g`, then joins the version with the largest start `<= ts`
 *   (none: `joiner(order, undefined)`). The history horizon is
 *   `max(horizon, min(streamTime − h, oldest waiting))`, moved before each
 *   table update and at each move of stream time (before the release); an
 *   update older than it is late and dropped, an order joined with
 *   `ts < horizon` is late unless its key's latest version began at or
 *   before `ts`. A key's versions that ended at or before the horizon are
 *   dropped when the key is written or read;
 * - **matching** (left join of two streams, `before`, `after`, grace): per
 *   key, the open records of each side in (timestamp, arrival) order, and a
 *   heap of every open record by (window end, left first, arrival). A record
 *   whose window `[.., ts + after + 1)` (right: `ts + before + 1`) is closed
 *   (`streamTime >= end + grace`) is late; otherwise it joins, in order,
 *   each partner within `[ts − before, ts + after]` whose window is open
 *   too, result timestamp the larger of the two. When stream time moves,
 *   the records whose windows closed leave in heap order, each left record
 *   that joined nothing yielding `joiner(order, undefined)` at its own time.
 *
 * Results are encoded as tidemark writes them: the input key's bytes, the
 * joiner's value as JSON.
 */
import { Heap } from './heap.ts';
import type { Customer, InputRecord, Order, Payment } from './joins-workload.ts';
import type { LoopResult, OutRecord } from './results.ts';

const dec = new TextDecoder();
const encode = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const parse = <T>(b: Uint8Array): T => JSON.parse(dec.decode(b)) as T;

/** Calls `visit` for the records of both inputs of a partition in the order a task reads them. */
function merged(first: readonly InputRecord[], second: readonly InputRecord[], visit: (input: 0 | 1, r: InputRecord) => void): void {
  let i = 0;
  let j = 0;
  while (i < first.length || j < second.length) {
    if (j >= second.length || (i < first.length && first[i]!.eventTime <= second[j]!.eventTime)) visit(0, first[i++]!);
    else visit(1, second[j++]!);
  }
}

// ---------------------------------------------------------------------------
// Enrichment.

interface Versions {
  /** Start of each version, ascending; the last is the latest. */
  readonly from: number[];
  readonly values: Customer[];
}

interface WaitingOrder {
  readonly ts: number;
  readonly seq: number;
  readonly key: Uint8Array;
  readonly keyText: string;
  readonly order: Order;
}

/** Index of the last element of sorted `xs` that is `<= t`, or −1. */
function lastAtOrBefore(xs: readonly number[], t: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Drops the versions that ended at or before `horizon` (a version ends where the next begins). */
function trim(v: Versions, horizon: number): void {
  let n = 0;
  while (n + 1 < v.from.length && v.from[n + 1]! <= horizon) n++;
  if (n > 0) {
    v.from.splice(0, n);
    v.values.splice(0, n);
  }
}

/**
 * One partition of the enrichment: `updates` the table's input, `orders`
 * the stream's; `joiner` as the application's left join calls it.
 */
export function enrichmentLoop(
  updates: readonly InputRecord[],
  orders: readonly InputRecord[],
  graceMs: number,
  historyMs: number,
  joiner: (o: Order, c: Customer | undefined) => unknown,
): LoopResult {
  const outputs: OutRecord[] = [];
  const table = new Map<string, Versions>();
  const waiting = new Heap<WaitingOrder>((a, b) => a.ts < b.ts || (a.ts === b.ts && a.seq < b.seq));
  let seq = 0;
  let st = -Infinity;
  let horizon = -Infinity;
  let late = 0;
  const moveHorizon = (): void => {
    const oldest = waiting.peek()?.ts ?? Infinity;
    const h = Math.min(st - historyMs, oldest);
    if (h > horizon) horizon = h;
  };
  const join = (w: WaitingOrder): void => {
    const v = table.get(w.keyText);
    if (v !== undefined) trim(v, horizon);
    const latestFrom = v?.from[v.from.length - 1];
    if (w.ts < horizon && !(latestFrom !== undefined && latestFrom <= w.ts)) {
      late++;
      return;
    }
    const i = v === undefined ? -1 : lastAtOrBefore(v.from, w.ts);
    const customer = i < 0 ? undefined : v!.values[i];
    outputs.push({ key: w.key, value: encode(JSON.stringify(joiner(w.order, customer))), timestamp: w.ts });
  };
  merged(updates, orders, (input, r) => {
    const ts = r.eventTime;
    const before = st;
    if (ts > st) st = ts;
    if (input === 0) {
      moveHorizon();
      if (ts < horizon) {
        late++;
      } else {
        const keyText = dec.decode(r.key);
        let v = table.get(keyText);
        if (v === undefined) table.set(keyText, (v = { from: [], values: [] }));
        const value = parse<Customer>(r.value);
        const i = lastAtOrBefore(v.from, ts);
        if (i >= 0 && v.from[i] === ts) v.values[i] = value;
        else {
          v.from.splice(i + 1, 0, ts);
          v.values.splice(i + 1, 0, value);
        }
        trim(v, horizon);
      }
    } else {
      const w: WaitingOrder = { ts, seq: seq++, key: r.key, keyText: dec.decode(r.key), order: parse<Order>(r.value) };
      if (st >= ts + 1 + graceMs) join(w);
      else waiting.push(w);
    }
    if (st > before) {
      moveHorizon();
      while (waiting.size > 0 && st >= waiting.peek()!.ts + 1 + graceMs) join(waiting.pop());
    }
  });
  return { outputs, late };
}

// ---------------------------------------------------------------------------
// Matching.

interface OpenRecord {
  readonly left: boolean;
  readonly keyText: string;
  readonly key: Uint8Array;
  readonly ts: number;
  readonly seq: number;
  /** Its join window's end. */
  readonly end: number;
  readonly value: Order | Payment;
  matched: boolean;
}

interface KeyRecords {
  readonly left: OpenRecord[];
  readonly right: OpenRecord[];
}

/** Index of the first element of `xs` (sorted by ts) with `ts >= t`. */
function firstAtOrAfter(xs: readonly OpenRecord[], t: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]!.ts < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One partition of the matching (left join): `orders` the left input, `payments` the right. */
export function matchingLoop(
  orders: readonly InputRecord[],
  payments: readonly InputRecord[],
  beforeMs: number,
  afterMs: number,
  graceMs: number,
  joiner: (o: Order, p: Payment | undefined) => unknown,
): LoopResult {
  const outputs: OutRecord[] = [];
  const byKey = new Map<string, KeyRecords>();
  const open = new Heap<OpenRecord>((a, b) => a.end < b.end || (a.end === b.end && (a.left !== b.left ? a.left : a.seq < b.seq)));
  let seq = 0;
  let st = -Infinity;
  let late = 0;
  const closed = (end: number): boolean => st >= end + graceMs;
  merged(orders, payments, (input, r) => {
    const ts = r.eventTime;
    const before = st;
    if (ts > st) st = ts;
    const left = input === 0;
    const end = left ? ts + afterMs + 1 : ts + beforeMs + 1;
    if (closed(end)) {
      late++;
    } else {
      const keyText = dec.decode(r.key);
      let lists = byKey.get(keyText);
      if (lists === undefined) byKey.set(keyText, (lists = { left: [], right: [] }));
      const value = left ? parse<Order>(r.value) : parse<Payment>(r.value);
      const mine: OpenRecord = { left, keyText, key: r.key, ts, seq: seq++, end, value, matched: false };
      const partners = left ? lists.right : lists.left;
      const [from, to] = left ? [ts - beforeMs, ts + afterMs] : [ts - afterMs, ts + beforeMs];
      for (let i = firstAtOrAfter(partners, from); i < partners.length && partners[i]!.ts <= to; i++) {
        const p = partners[i]!;
        if (closed(p.end)) continue;
        const [o, pay] = left ? [mine, p] : [p, mine];
        outputs.push({ key: r.key, value: encode(JSON.stringify(joiner(o.value as Order, pay.value as Payment))), timestamp: Math.max(o.ts, pay.ts) });
        p.matched = true;
        mine.matched = true;
      }
      // After every record of its timestamp: (timestamp, arrival) order.
      const mineList = left ? lists.left : lists.right;
      mineList.splice(firstAtOrAfter(mineList, ts + 1), 0, mine);
      open.push(mine);
    }
    if (st > before) {
      while (open.size > 0 && closed(open.peek()!.end)) {
        const x = open.pop();
        if (x.left && !x.matched) outputs.push({ key: x.key, value: encode(JSON.stringify(joiner(x.value as Order, undefined))), timestamp: x.ts });
        const lists = byKey.get(x.keyText)!;
        const list = x.left ? lists.left : lists.right;
        // A side's windows close in (timestamp, arrival) order: x is the oldest of its list.
        if (list[0] !== x) throw new Error('joins bench: the matching loop closed a record out of order');
        list.shift();
        if (lists.left.length === 0 && lists.right.length === 0) byKey.delete(x.keyText);
      }
    }
  });
  return { outputs, late };
}
