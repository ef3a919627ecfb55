/**
 * Order lines with their product's name and price: a foreign-key table
 * join (Kafka Streams' KIP-213).
 *
 * Order lines are a table keyed by line id (`o1/1`), each naming its
 * product; products are a table keyed by product id. `joinOnForeignKey`
 * with `kind: 'left'` keeps every line, joined with the product it names
 * now: a new price updates every line of the product, a line that switches
 * product follows the new one alone, a deleted product leaves its lines
 * without one, a deleted line deletes its result. The two tables have
 * different partition counts: the join's internal streams are partitioned
 * like the table each serves. The joined table is materialized and read
 * with `app.store` after the run.
 *
 * Run it: `node examples/order-lines-with-products.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Application, EmbeddedLog, Serdes, StreamsBuilder } from '../src/index.ts';
import { partitionForKey } from '../src/semantics.ts';

interface Line {
  readonly product: string;
  readonly quantity: number;
}
interface Product {
  readonly name: string;
  readonly price: number;
}
interface Priced {
  readonly product: string;
  readonly name: string | null;
  readonly total: number | null;
}

const LINES = 'order-lines';
const PRODUCTS = 'products';
const PRICED = 'order-lines-priced';
const APP = 'order-lines';

const keySerde = Serdes.string();
const lineSerde = Serdes.json<Line | null>();
const productSerde = Serdes.json<Product | null>();

// 1. The topology: each line with the product it names (left join: a line without a product keeps null for it).
const builder = new StreamsBuilder();
const lines = builder.table<string, Line>(LINES, { key: keySerde, value: Serdes.json<Line>() });
const products = builder.table<string, Product>(PRODUCTS, { key: keySerde, value: Serdes.json<Product>() });
lines
  .joinOnForeignKey(
    products,
    (line) => line.product,
    (line, product): Priced => ({ product: line.product, name: product?.name ?? null, total: product === undefined ? null : line.quantity * product.price }),
    { kind: 'left', name: 'lines-with-products' },
  )
  .toStream()
  .to(PRICED, { key: keySerde });

const PARTITIONS = { [LINES]: 3, [PRODUCTS]: 2 } as const;
let time = Date.UTC(2025, 5, 1, 12, 0, 0);
const record = (stream: typeof LINES | typeof PRODUCTS, key: string, value: Line | Product | null) => {
  const keyBytes = keySerde.serialize(key);
  const serde = stream === LINES ? lineSerde : productSerde;
  return { stream, partition: partitionForKey(keyBytes!, PARTITIONS[stream]), key: keyBytes, value: serde.serialize(value as never), eventTime: (time += 1000) };
};

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`expected: ${what}`);
}

const dataDir = mkdtempSync(join(tmpdir(), 'tidemark-order-lines-'));
const log = await EmbeddedLog.open({ dataDir });
try {
  log.ensureStream(LINES, PARTITIONS[LINES]);
  log.ensureStream(PRODUCTS, PARTITIONS[PRODUCTS]);
  await log.append([
    record(PRODUCTS, 'tea', { name: 'Green tea', price: 4 }),
    record(PRODUCTS, 'mug', { name: 'Mug', price: 9 }),
    record(LINES, 'o1/1', { product: 'tea', quantity: 2 }),
    record(LINES, 'o1/2', { product: 'mug', quantity: 1 }),
    record(LINES, 'o2/1', { product: 'tea', quantity: 5 }),
    record(LINES, 'o2/2', { product: 'pot', quantity: 1 }), // no such product yet: name and total null
    record(PRODUCTS, 'tea', { name: 'Green tea', price: 5 }), // a new price: o1/1 and o2/1 again
    record(LINES, 'o1/2', { product: 'tea', quantity: 1 }), // switches from mug to tea
    record(PRODUCTS, 'mug', { name: 'Mug', price: 10 }), // no line names the mug any more: nothing
    record(PRODUCTS, 'pot', { name: 'Teapot', price: 30 }), // o2/2 gets its product
    record(LINES, 'o2/1', null), // deleted: a tombstone
    record(PRODUCTS, 'pot', null), // deleted: o2/2 without a product again
  ]);

  // 2. One catch-up run; then the joined table, as committed.
  const app = new Application(builder.build(), { applicationId: APP, log });
  const summary = await app.run({ mode: 'catch-up' });
  const changes = Array.from({ length: log.partitionCount(PRICED)! }, (_, p) => log.read(PRICED, p, 0, 1000))
    .flat()
    .filter((r) => r.control === undefined)
    .sort((a, b) => a.eventTime! - b.eventTime!)
    .map((r) => `${keySerde.deserialize(r.key)} ${r.value === null ? 'deleted' : new TextDecoder().decode(r.value)}`);
  console.log(`${summary.processed} records processed (12 in, the rest the join's internal records), ${changes.length} changes of the joined table:`);
  for (const line of changes) console.log(`  ${line}`);

  const joined = app.store<string, { value: Priced; timestamp: number }>('lines-with-products');
  check(joined.kind === 'key-value', 'the joined table is a key-value store');
  if (joined.kind === 'key-value') {
    const now = (key: string) => joined.get(key)?.value;
    check(JSON.stringify(now('o1/1')) === JSON.stringify({ product: 'tea', name: 'Green tea', total: 10 }), 'o1/1: 2 teas at the new price');
    check(JSON.stringify(now('o1/2')) === JSON.stringify({ product: 'tea', name: 'Green tea', total: 5 }), 'o1/2: follows the tea, not the mug');
    check(now('o2/1') === undefined, 'o2/1: deleted');
    check(JSON.stringify(now('o2/2')) === JSON.stringify({ product: 'pot', name: null, total: null }), 'o2/2: its product deleted');
  }
  // Each line's last change is its row now; o1/2 never saw the mug's new price.
  check(!changes.some((c) => c.includes('"total":10') && c.startsWith('o1/2')), 'no change of o1/2 for the mug after it switched');
} finally {
  await log.close();
  rmSync(dataDir, { recursive: true, force: true });
}
