/** Settings every Kafka client of a {@link KafkaLog} shares. */
import { connectionSecurity, type ClientSecurity, type KafkaSecurityOptions } from './kafka-security.ts';

/**
 * Every request is retried for about 30 s (120 × 250 ms) before a run fails:
 * long enough to ride out a broker restart (5–10 s here) in the middle of a
 * fetch or a transaction, which then goes on where it was.
 */
export const CLIENT_RETRIES = { retries: 120, retryDelay: 250, timeout: 10_000 };
export const METADATA_TIMEOUT_MS = 30_000;

/** A `bootstrap` option: `host:port`, several of them comma-separated (`h1:9092,h2:9092`), or a list of those. */
export type BootstrapOption = string | readonly string[];

/** `host:port`, the host a name, an IPv4 address or a bracketed IPv6 address (`[::1]:9092`). */
const BROKER = /^(?:\[[0-9a-fA-F:.]+\]|[^\s:,[\]]+):(\d{1,5})$/;

/**
 * The bootstrap brokers of a `bootstrap` option, each `host:port` with a
 * port 1–65535, in the order given: the client tries them in turn until one
 * answers, so any live broker of the cluster is enough. A bad entry is a
 * RangeError naming it.
 */
export function bootstrapBrokers(option: BootstrapOption): string[] {
  const given = typeof option === 'string' ? option : option.join(',');
  const entries = given.split(',').map((e) => e.trim());
  for (const entry of entries) {
    const port = BROKER.exec(entry)?.[1];
    if (port === undefined || Number(port) < 1 || Number(port) > 65535) {
      throw new RangeError(`bootstrap broker ${JSON.stringify(entry)} of ${JSON.stringify(given)} must be HOST:PORT with a port 1–65535`);
    }
  }
  return entries;
}

/** The bootstrap option as given, for messages: `h1:9092,h2:9092`. */
export function bootstrapText(option: BootstrapOption): string {
  return typeof option === 'string' ? option : option.join(',');
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

/**
 * What every client's options share: the retries, and the connection's
 * security (TLS, SASL) of `options` — the one place the security is turned
 * into client settings (kafka-security.ts).
 */
export function clientConnection(options: KafkaSecurityOptions): typeof CLIENT_RETRIES & ClientSecurity {
  return { ...CLIENT_RETRIES, ...connectionSecurity(options) };
}
