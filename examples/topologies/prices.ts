/**
 * A topology module with two tables to read while it runs (`tidemark
 * query`): `prices`, a versioned table of the price of each product with
 * an hour of history, readable as of any time back to its horizon; and
 * `stock`, a plain table of the units in stock per product (each row with
 * the timestamp of the record that wrote it). The changes of the latest
 * prices go to `price-changes`.
 *
 * Input: streams `prices` (a number per product) and `stock` (`{"units":
 * 12}` per product, null when a product is dropped), keys as plain strings:
 *
 *   echo '{"key":"apple","value":3,"eventTime":"2026-06-01T12:00:00Z"}' | tidemark produce --data-dir ./data --stream prices --key-format string
 *   echo '{"key":"apple","value":{"units":12}}' | tidemark produce --data-dir ./data --stream stock --key-format string
 *   tidemark run examples/topologies/prices.ts --data-dir ./data --mode real-time &
 *   tidemark query examples/topologies/prices.ts --data-dir ./data --store prices --key apple --as-of 2026-06-01T12:30:00Z
 *   tidemark query examples/topologies/prices.ts --data-dir ./data --store stock --all
 */
import { StreamsBuilder, Serdes } from '../../src/index.ts';

interface Stock {
  readonly units: number;
}

const HOUR = 3_600_000;
const builder = new StreamsBuilder();
builder
  .table<string, number>('prices', { key: Serdes.string(), value: Serdes.json<number>(), name: 'prices', versioned: { historyRetentionMs: HOUR } })
  .toStream()
  .to('price-changes', { key: Serdes.string() });
builder.table<string, Stock>('stock', { key: Serdes.string(), value: Serdes.json<Stock>(), name: 'stock' });

export default { applicationId: 'prices', topology: builder.build() };
