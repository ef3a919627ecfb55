/** Settings every Kafka client of a {@link KafkaLog} shares. */
import { connectionSecurity, type ClientSecurity, type KafkaSecurityOptions } from './kafka-security.ts';

/**
 * Every request is retried for about 30 s (120 × 250 ms) before a run fails:
 * long enough to ride out a broker restart (5–10 s here) in the middle of a
 * fetch or a transaction, which then goes on where it was.
 */
export const CLIENT_RETRIES = { retries: 120, retryDelay: 250, timeout: 10_000 };
export const METADATA_TIMEOUT_MS = 30_000;

/**
 * What every client's options share: the retries, and the connection's
 * security (TLS, SASL) of `options` — the one place the security is turned
 * into client settings (kafka-security.ts).
 */
export function clientConnection(options: KafkaSecurityOptions): typeof CLIENT_RETRIES & ClientSecurity {
  return { ...CLIENT_RETRIES, ...connectionSecurity(options) };
}
