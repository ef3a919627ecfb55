/** Settings every Kafka client of a {@link KafkaLog} shares. */

/**
 * Every request is retried for about 30 s (120 × 250 ms) before a run fails:
 * long enough to ride out a broker restart (5–10 s here) in the middle of a
 * fetch or a transaction, which then goes on where it was.
 */
export const CLIENT_RETRIES = { retries: 120, retryDelay: 250, timeout: 10_000 };
export const METADATA_TIMEOUT_MS = 30_000;

/**
 * The client's bootstrap servers of a `bootstrap` option: one `host:port`,
 * or several separated by commas (`h1:9092,h2:9092`), as Kafka's own
 * `bootstrap.servers` takes them; any one that answers gives the whole
 * cluster's metadata.
 */
export function bootstrapBrokers(bootstrap: string): string[] {
  const brokers = bootstrap.split(',').map((b) => b.trim()).filter((b) => b !== '');
  if (brokers.length === 0) throw new Error(`no Kafka broker in bootstrap '${bootstrap}': expected host:port, or several separated by commas`);
  return brokers;
}

/**
 * The fetching client's own retries are few: a fetch sent to a broker that
 * no longer leads a partition fails at once, and the reader looks the
 * leaders up again and sends it where they are now (kafka-reader.ts),
 * for up to {@link FETCH_RETRY_TIMEOUT_MS}.
 */
export const FETCH_RETRIES = { retries: 2, retryDelay: 250, timeout: 10_000 };
/** How long the reader keeps retrying a fetch whose leader moved or whose broker is down: a broker restart and a metadata read (up to 30 s) fit. */
export const FETCH_RETRY_TIMEOUT_MS = 60_000;
