/**
 * How tidemark's Kafka clients secure their connections: TLS (encryption,
 * the broker's certificate checked, optionally a client certificate) and
 * SASL authentication (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER). The same
 * settings go to every client a KafkaLog or a KafkaTaskGroup
 * creates.
 *
 * Credentials never reach a message: the password (or token) is handed to
 * the client as a function returning it, so that no options object the
 * client keeps or reports holds it in clear, and {@link securityText}
 * describes the settings without them.
 *
 * @module
 */
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { Connection, type SASLOptions } from '@platformatic/kafka';

/**
 * TLS to the brokers. Certificates and keys are given as their contents
 * (PEM text or a Buffer of it), as Node's `tls.connect` takes them — read
 * the files yourself (the CLI's `--kafka-tls-*` flags take paths and do).
 * An empty object is TLS with the system's trusted CAs.
 */
export interface KafkaTlsOptions {
  /** The CA certificate(s) that signed the brokers' certificates (PEM); default: the system's trusted CAs. */
  readonly ca?: string | Buffer;
  /** The client certificate (PEM), for brokers that ask for one (`ssl.client.auth=required`). */
  readonly cert?: string | Buffer;
  /** The client certificate's private key (PEM). */
  readonly key?: string | Buffer;
  /** The private key's passphrase, when it is encrypted. */
  readonly passphrase?: string;
  /** Check the broker's certificate against the CAs and its host name (default true: set false only for a test broker). */
  readonly rejectUnauthorized?: boolean;
  /** The name the broker's certificate must carry (and the SNI sent), where it differs from the bootstrap host. */
  readonly servername?: string;
}

/** The SASL mechanisms tidemark's client speaks. */
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;
/** One of {@link SASL_MECHANISMS}. */
export type KafkaSaslMechanism = (typeof SASL_MECHANISMS)[number];

/** SASL authentication: a user and password (PLAIN, SCRAM-SHA-256/512), or a bearer token (OAUTHBEARER). */
export interface KafkaSaslOptions {
  /** How to authenticate. */
  readonly mechanism: KafkaSaslMechanism;
  /** The user, for PLAIN and SCRAM. */
  readonly username?: string;
  /** The password, for PLAIN and SCRAM; never printed. */
  readonly password?: string;
  /** The OAuth bearer token, for OAUTHBEARER (a function for tokens that expire); never printed. */
  readonly token?: string | (() => string | Promise<string>);
}

/** The connection security of a KafkaLog or a KafkaTaskGroup: every client they create uses it. */
export interface KafkaSecurityOptions {
  /** TLS to the brokers (a listener with security protocol SSL or SASL_SSL). */
  readonly tls?: KafkaTlsOptions;
  /** SASL authentication (a listener with security protocol SASL_PLAINTEXT or SASL_SSL). */
  readonly sasl?: KafkaSaslOptions;
}

/** What the client's options get: its `tls` and `sasl` settings, or nothing for PLAINTEXT. */
export interface ClientSecurity {
  /** Node's TLS options for the client's sockets. */
  tls?: TlsConnectionOptions;
  /** The client's SASL options, the password as a function. */
  sasl?: SASLOptions;
}

/**
 * The client settings for `options`, to spread into each client's options;
 * throws a one-line error for settings that cannot work (an unknown
 * mechanism, a missing user, password or token).
 */
export function connectionSecurity(options: KafkaSecurityOptions): ClientSecurity {
  const out: ClientSecurity = {};
  if (options.tls !== undefined) out.tls = tlsSettings(options.tls);
  if (options.sasl !== undefined) out.sasl = saslSettings(options.sasl);
  return out;
}

function tlsSettings(tls: KafkaTlsOptions): TlsConnectionOptions {
  const out: TlsConnectionOptions = {};
  if (tls.ca !== undefined) out.ca = tls.ca;
  if (tls.cert !== undefined) out.cert = tls.cert;
  if (tls.key !== undefined) out.key = tls.key;
  if (tls.passphrase !== undefined) out.passphrase = tls.passphrase;
  if (tls.rejectUnauthorized !== undefined) out.rejectUnauthorized = tls.rejectUnauthorized;
  if (tls.servername !== undefined) out.servername = tls.servername;
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new Error('Kafka TLS: a client certificate needs its key, and a key its certificate (give both tls.cert and tls.key)');
  return out;
}

function saslSettings(sasl: KafkaSaslOptions): SASLOptions {
  const mechanism = sasl.mechanism;
  if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
    throw new Error(`Kafka SASL: unknown mechanism ${JSON.stringify(mechanism)} (one of ${SASL_MECHANISMS.join(', ')})`);
  }
  if (mechanism === 'OAUTHBEARER') {
    const token = sasl.token;
    if (token === undefined || token === '') throw new Error('Kafka SASL: OAUTHBEARER needs a token');
    return { mechanism, token: typeof token === 'function' ? token : () => token };
  }
  const { username, password } = sasl;
  if (username === undefined || username === '') throw new Error(`Kafka SASL: ${mechanism} needs a username`);
  if (password === undefined || password === '') throw new Error(`Kafka SASL: ${mechanism} needs a password (for user ${username})`);
  // A function, not the string: the client keeps its options, and no dump of them then shows the password.
  return { mechanism, username, password: () => password };
}

/** The settings in words, without any secret, e.g. `TLS, SASL SCRAM-SHA-256 as alice` (empty for PLAINTEXT). */
export function securityText(options: KafkaSecurityOptions): string {
  const parts: string[] = [];
  if (options.tls !== undefined) parts.push('TLS');
  if (options.sasl !== undefined) parts.push(`SASL ${options.sasl.mechanism}${options.sasl.username === undefined ? '' : ` as ${options.sasl.username}`}`);
  return parts.join(', ');
}

/**
 * True when `e` is (or holds) the client's authentication failure: the
 * broker refused the credentials, or offered none of the mechanism asked for.
 */
export function isAuthenticationError(e: unknown): boolean {
  const seen = new Set<unknown>();
  const walk = (x: unknown): boolean => {
    if (typeof x !== 'object' || x === null || seen.has(x)) return false;
    seen.add(x);
    const err = x as { code?: unknown; apiId?: unknown; errors?: unknown; cause?: unknown };
    if (err.code === 'PLT_KFK_AUTHENTICATION' || err.apiId === 'SASL_AUTHENTICATION_FAILED' || err.apiId === 'UNSUPPORTED_SASL_MECHANISM') return true;
    return (Array.isArray(err.errors) && err.errors.some(walk)) || walk(err.cause);
  };
  return walk(e);
}

/**
 * For a connection that failed on its security, the one-line error naming
 * the broker and what failed (the credentials, or the TLS handshake), and
 * never a secret; undefined for other errors.
 */
export function securityFailure(e: unknown, bootstrap: string, options: KafkaSecurityOptions): Error | undefined {
  const how = securityText(options);
  if (isAuthenticationError(e)) {
    const as = how === '' ? '' : ` (${how})`;
    return new Error(`connecting to Kafka at ${bootstrap}${as}: authentication failed: check the mechanism, user and password, and that the broker's listener there speaks SASL`, { cause: e });
  }
  const tls = tlsErrorText(e);
  if (tls !== undefined && options.tls !== undefined) {
    return new Error(`connecting to Kafka at ${bootstrap} over TLS: ${tls}`, { cause: e });
  }
  return undefined;
}

/** The TLS failure inside `e` (a certificate not trusted, a host name it does not carry), from Node's error codes. */
function tlsErrorText(e: unknown): string | undefined {
  const seen = new Set<unknown>();
  const walk = (x: unknown): string | undefined => {
    if (typeof x !== 'object' || x === null || seen.has(x)) return undefined;
    seen.add(x);
    const err = x as { code?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
    // Node's certificate errors (UNABLE_TO_VERIFY_LEAF_SIGNATURE, ERR_TLS_CERT_ALTNAME_INVALID…), and the client's word for a broker that does not speak TLS there.
    if (typeof err.code === 'string' && /^(UNABLE_TO_|CERT_|DEPTH_ZERO_|SELF_SIGNED_|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH)/.test(err.code)) return `${String(err.message)} (${err.code})`;
    if (typeof err.message === 'string' && err.message.startsWith('TLS handshake failed')) return err.message;
    for (const inner of Array.isArray(err.errors) ? err.errors : []) {
      const found = walk(inner);
      if (found !== undefined) return found;
    }
    return walk(err.cause);
  };
  return walk(e);
}

/**
 * Connects once to `bootstrap` with the security of `options` and throws
 * {@link securityFailure}'s error when the broker refuses it. The clients
 * retry a failed connection for their whole retry budget (a refused login
 * reaches their retry loop as a retriable network error), which would keep
 * a wrong password waiting half a minute for the same answer; any other
 * failure is left to them. Nothing to check for PLAINTEXT.
 */
export async function checkConnectionSecurity(bootstrap: string, options: KafkaSecurityOptions, clientId: string): Promise<void> {
  if (options.tls === undefined && options.sasl === undefined) return;
  const colon = bootstrap.lastIndexOf(':');
  const connection = new Connection(`${clientId}-check`, { ...connectionSecurity(options), connectTimeout: 10_000 });
  // The connection also reports its failure as an event: without a listener it would be thrown at the process.
  connection.on('error', () => undefined);
  try {
    await connection.connect(bootstrap.slice(0, colon), Number(bootstrap.slice(colon + 1)));
  } catch (e) {
    const failure = securityFailure(e, bootstrap, options);
    if (failure !== undefined) throw failure;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
