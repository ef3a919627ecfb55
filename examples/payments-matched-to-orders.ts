/**
 * Orders matched to their payments within 10 minutes, unpaid orders
 * reported when their 10 minutes are over: a stream–stream left join.
 *
 * Orders and payments are two streams keyed by order id. `leftJoin` with
 * `JoinWindows.ofTimeDifference(0).after(10 min).grace(30 s)` pairs each
 * order with every payment of it from the order's time to 10 minutes later
 * (both ends included), as soon as the second of the two is processed. An
 * order no payment joined comes out as unpaid once its window is closed —
 * stream time past the order's time + 10 min + 30 s — and never before, so
 * no "paid" result can follow an "unpaid" one. A payment up to 30 s out of
 * order (processed after a later record) still counts.
 *
 * Run it: `node examples/payments-matched-to-orders.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Application, EmbeddedLog, JoinWindows, Serdes, StreamsBuilder } from '../src/index.ts';

interface Order {
  readonly amount: number;
}
interface Payment {
  readonly amount: number;
}
interface Matched {
  readonly order: string;
  readonly amount: number;
  readonly paid: number | null;
}

const ORDERS = 'orders';
const PAYMENTS = 'payments';
const MATCHED = 'orders-matched';
const APP = 'payments-matched';
const MINUTE = 60_000;

const keySerde = Serdes.string();
const orderSerde = Serdes.json<Order>();
const paymentSerde = Serdes.json<Payment>();
const matchedSerde = Serdes.json<Matched>();

// 1. The topology: each order with its payments within 10 minutes; an unpaid order when its window closes.
const builder = new StreamsBuilder();
const orders = builder.stream<string, Order>(ORDERS, { key: keySerde, value: orderSerde });
const payments = builder.stream<string, Payment>(PAYMENTS, { key: keySerde, value: paymentSerde });
orders
  .leftJoin(payments, (o, p): Omit<Matched, 'order'> => ({ amount: o.amount, paid: p?.amount ?? null }), JoinWindows.ofTimeDifference(0).after(10 * MINUTE).grace(30_000))
  .mapValues((m, order): Matched => ({ order, ...m }))
  .to(MATCHED, { key: keySerde, value: matchedSerde });

const t0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const at = (minutes: number, seconds = 0): number => t0 + minutes * MINUTE + seconds * 1000;
const order = (id: string, amount: number, time: number) => ({ stream: ORDERS, partition: 0, key: keySerde.serialize(id), value: orderSerde.serialize({ amount }), eventTime: time });
const payment = (id: string, amount: number, time: number) => ({ stream: PAYMENTS, partition: 0, key: keySerde.serialize(id), value: paymentSerde.serialize({ amount }), eventTime: time });

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`expected: ${what}`);
}

const dataDir = mkdtempSync(join(tmpdir(), 'tidemark-payments-'));
const log = await EmbeddedLog.open({ dataDir });
try {
  for (const s of [ORDERS, PAYMENTS, MATCHED]) log.ensureStream(s, 1);
  await log.append([
    order('o1', 30, at(0)),
    order('o2', 12, at(1)),
    order('o3', 50, at(2)),
    order('o4', 8, at(5)),
    order('o5', 20, at(20)),
    payment('o1', 30, at(3)), // 3 minutes after o1: paid
    payment('o3', 50, at(13)), // 11 minutes after o3: too late, o3 stays unpaid
    payment('o9', 5, at(15, 20)), // no such order
    payment('o4', 8, at(15)), // exactly 10 minutes after o4, 20 s out of order (within the 30 s grace): paid
  ]);

  // 2. One catch-up run.
  const summary = await new Application(builder.build(), { applicationId: APP, log }).run({ mode: 'catch-up' });
  const lines = log.read(MATCHED, 0, 0, 1000).map((r) => {
    const m = matchedSerde.deserialize(r.value);
    return `${m.order} ${m.paid === null ? 'unpaid' : `paid ${m.paid}`} @${(r.eventTime! - t0) / MINUTE} min`;
  });
  console.log(`${summary.processed} records, ${summary.lateRecords} late`);
  for (const line of lines) console.log(`  ${line}`);
  // o2 and o3 close once stream time passes 11:30 and 12:30 (the payment at 13:00); o5's 10 minutes are not over yet.
  check(JSON.stringify(lines) === JSON.stringify(['o1 paid 30 @3 min', 'o2 unpaid @1 min', 'o3 unpaid @2 min', 'o4 paid 8 @15 min']), 'each order paid or unpaid, once');
} finally {
  await log.close();
  rmSync(dataDir, { recursive: true, force: true });
}
