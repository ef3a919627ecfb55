/**
 * Orders enriched with the customer's tier as of the order's time — with a
 * customer change that arrives late: a stream–table join by event time.
 *
 * Customers are a versioned table (a day of history) read from their
 * changelog; orders are a stream keyed by customer id. `join(customers,
 * …, { grace: 5 min })` joins each order with the customer as they were at
 * the order's time, once event time has passed the order's time + 5
 * minutes: a customer update up to 5 minutes out of order is still seen,
 * whatever the order the two streams arrive in. Here c1's upgrade to gold
 * at 12:05 reaches the changelog after an update of 12:10, and after the
 * order o2 of 12:07: o2 still joins gold.
 *
 * The same topology with `joinLatest` — the table's latest value when the
 * order is processed, as Kafka Streams joins a plain table — gives o2
 * silver; tidemark audits that join as a nondeterministic decision.
 *
 * Run it: `node examples/orders-enriched-as-of.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Application, EmbeddedLog, Serdes, StreamsBuilder } from '../src/index.ts';

interface Customer {
  readonly tier: string;
}
interface Order {
  readonly amount: number;
}
interface Enriched {
  readonly order: string;
  readonly amount: number;
  readonly tier: string;
}

const CUSTOMERS = 'customers';
const ORDERS = 'orders';
const MINUTE = 60_000;
const keySerde = Serdes.string();
const customerSerde = Serdes.json<Customer>();
const orderSerde = Serdes.json<Order & { id: string }>();
const enrichedSerde = Serdes.json<Enriched>();

/** The topology, joining by event time (`as-of`) or on the latest value (`latest`), into `out`. */
function topology(how: 'as-of' | 'latest', out: string) {
  const builder = new StreamsBuilder();
  const customers = builder.table<string, Customer>(CUSTOMERS, { key: keySerde, value: customerSerde, versioned: { historyRetentionMs: 24 * 60 * MINUTE } });
  const orders = builder.stream<string, Order & { id: string }>(ORDERS, { key: keySerde, value: orderSerde });
  const enrich = (o: Order & { id: string }, c: Customer): Enriched => ({ order: o.id, amount: o.amount, tier: c.tier });
  const enriched = how === 'as-of' ? orders.join(customers, enrich, { grace: 5 * MINUTE }) : orders.joinLatest(customers, enrich);
  enriched.to(out, { key: keySerde, value: enrichedSerde });
  return builder.build();
}

const t0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const at = (minutes: number): number => t0 + minutes * MINUTE;
const customer = (id: string, tier: string, time: number) => ({ stream: CUSTOMERS, partition: 0, key: keySerde.serialize(id), value: customerSerde.serialize({ tier }), eventTime: time });
const order = (id: string, customerId: string, amount: number, time: number) => ({ stream: ORDERS, partition: 0, key: keySerde.serialize(customerId), value: orderSerde.serialize({ id, amount }), eventTime: time });

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`expected: ${what}`);
}

const dataDir = mkdtempSync(join(tmpdir(), 'tidemark-enriched-'));
const log = await EmbeddedLog.open({ dataDir });
try {
  log.ensureStream(CUSTOMERS, 1);
  log.ensureStream(ORDERS, 1);
  await log.append([
    customer('c1', 'silver', at(0)),
    customer('c2', 'bronze', at(1)),
    customer('c2', 'gold', at(10)),
    customer('c1', 'gold', at(5)), // c1's upgrade at 12:05, appended after c2's update of 12:10
    order('o1', 'c1', 30, at(3)),
    order('o2', 'c1', 45, at(7)),
    order('o3', 'c2', 20, at(12)),
    order('o4', 'c1', 10, at(30)), // moves event time on: o3's 5 minutes of grace are over
  ]);

  const results: Record<string, string[]> = {};
  for (const how of ['as-of', 'latest'] as const) {
    const out = `orders-enriched-${how}`;
    log.ensureStream(out, 1);
    const summary = await new Application(topology(how, out), { applicationId: `enrich-${how}`, log }).run({ mode: 'catch-up' });
    results[how] = log.read(out, 0, 0, 100).map((r) => {
      const e = enrichedSerde.deserialize(r.value);
      return `${e.order} ${e.tier} @12:${String((r.eventTime! - t0) / MINUTE).padStart(2, '0')}`;
    });
    console.log(`${how}: ${summary.nondeterministicDecisions} nondeterministic decisions`);
    for (const line of results[how]!) console.log(`  ${line}`);
  }
  // By event time o2 (12:07) sees c1's upgrade of 12:05; o4 (12:30) waits for 5 more minutes of event time.
  check(JSON.stringify(results['as-of']) === JSON.stringify(['o1 silver @12:03', 'o2 gold @12:07', 'o3 gold @12:12']), 'each order with the tier as of its time');
  // On the latest value, o2 is processed before c1's upgrade arrives.
  check(JSON.stringify(results['latest']) === JSON.stringify(['o1 silver @12:03', 'o2 silver @12:07', 'o3 gold @12:12', 'o4 gold @12:30']), 'the latest value at processing');
} finally {
  await log.close();
  rmSync(dataDir, { recursive: true, force: true });
}
