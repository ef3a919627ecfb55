/** Settings every Kafka client of a {@link KafkaLog} shares. */

/**
 * Every request is retried for about 30 s (120 × 250 ms) before a run fails:
 * long enough to ride out a broker restart (5–10 s here) in the middle of a
 * fetch or a transaction, which then goes on where it was.
 */
export const CLIENT_RETRIES = { retries: 120, retryDelay: 250, timeout: 10_000 };
export const METADATA_TIMEOUT_MS = 30_000;
