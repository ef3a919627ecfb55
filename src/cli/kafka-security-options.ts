/**
 * The CLI's Kafka security flags (TLS and SASL for `--kafka`), each with an
 * environment variable to fall back on, turned into the log's
 * {@link KafkaSecurityOptions}. Certificates and keys are given as file
 * paths and read here. The password is never a flag's value — `ps` would
 * show it to every user of the machine — but comes from
 * `TIDEMARK_KAFKA_SASL_PASSWORD` or a file.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { SASL_MECHANISMS, type KafkaSaslMechanism, type KafkaSecurityOptions, type KafkaTlsOptions } from '../connectors/kafka/kafka-security.ts';
import { CliError, UsageError } from './errors.ts';
import type { ParsedArgs } from './args.ts';

/** The flags, for a command's parseArgs options (with the log's). */
export const KAFKA_SECURITY_OPTIONS = {
  'kafka-tls': { type: 'boolean' },
  'kafka-tls-ca': { type: 'string' },
  'kafka-tls-cert': { type: 'string' },
  'kafka-tls-key': { type: 'string' },
  'kafka-sasl-mechanism': { type: 'string' },
  'kafka-sasl-username': { type: 'string' },
  'kafka-sasl-password-file': { type: 'string' },
  // Accepted only to refuse it with the reason, instead of "unknown option".
  'kafka-sasl-password': { type: 'string' },
} as const;

/** The environment variable each flag falls back on. */
export const KAFKA_SECURITY_ENV = {
  'kafka-tls': 'TIDEMARK_KAFKA_TLS',
  'kafka-tls-ca': 'TIDEMARK_KAFKA_TLS_CA',
  'kafka-tls-cert': 'TIDEMARK_KAFKA_TLS_CERT',
  'kafka-tls-key': 'TIDEMARK_KAFKA_TLS_KEY',
  'kafka-sasl-mechanism': 'TIDEMARK_KAFKA_SASL_MECHANISM',
  'kafka-sasl-username': 'TIDEMARK_KAFKA_SASL_USERNAME',
  'kafka-sasl-password-file': 'TIDEMARK_KAFKA_SASL_PASSWORD_FILE',
} as const;
/** The SASL password (PLAIN, SCRAM), only ever from the environment (or a file). */
export const PASSWORD_ENV = 'TIDEMARK_KAFKA_SASL_PASSWORD';
/** The OAUTHBEARER token, only ever from the environment. */
export const TOKEN_ENV = 'TIDEMARK_KAFKA_SASL_TOKEN';

export const KAFKA_SECURITY_HELP = `
Kafka security (with --kafka; each flag falls back on the variable in brackets):
  --kafka-tls                      TLS, trusting the system's CAs [TIDEMARK_KAFKA_TLS=1]
  --kafka-tls-ca FILE              TLS, trusting the CA certificate(s) in FILE (PEM) [TIDEMARK_KAFKA_TLS_CA]
  --kafka-tls-cert FILE            a client certificate (PEM) [TIDEMARK_KAFKA_TLS_CERT]
  --kafka-tls-key FILE             its private key (PEM) [TIDEMARK_KAFKA_TLS_KEY]
  --kafka-sasl-mechanism M         PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER [TIDEMARK_KAFKA_SASL_MECHANISM]
  --kafka-sasl-username U          the SASL user [TIDEMARK_KAFKA_SASL_USERNAME]
  --kafka-sasl-password-file FILE  the password is FILE's content [TIDEMARK_KAFKA_SASL_PASSWORD_FILE]
  The password is never a flag (ps shows flags): set TIDEMARK_KAFKA_SASL_PASSWORD or give
  a file; an OAUTHBEARER token comes from TIDEMARK_KAFKA_SASL_TOKEN.`;

type Environment = Readonly<Record<string, string | undefined>>;
type Flag = keyof typeof KAFKA_SECURITY_ENV;

/** A flag's value, else its environment variable's (an empty variable counts as unset). */
function setting(values: ParsedArgs['values'], env: Environment, flag: Flag): string | undefined {
  const v = values[flag];
  if (typeof v === 'string') return v;
  if (v === true) return '1';
  const e = env[KAFKA_SECURITY_ENV[flag]];
  return e === undefined || e === '' ? undefined : e;
}

/** Whether any security flag is on the command line (they need `--kafka`; the environment may hold them for other uses). */
export function kafkaSecurityFlagGiven(values: ParsedArgs['values']): string | undefined {
  return Object.keys(KAFKA_SECURITY_OPTIONS).find((flag) => values[flag] !== undefined);
}

/**
 * The security of `--kafka` from the flags and `env`: TLS when any TLS
 * setting is given, SASL when a mechanism is. One-line errors: a
 * {@link UsageError} for a bad mechanism or a missing user or password, a
 * {@link CliError} for a file that cannot be read.
 */
export function kafkaSecurityFromCli(values: ParsedArgs['values'], env: Environment = process.env): KafkaSecurityOptions {
  if (values['kafka-sasl-password'] !== undefined) {
    throw new UsageError(`the SASL password is not taken from the command line (ps shows it to everyone): set ${PASSWORD_ENV}, or give --kafka-sasl-password-file FILE`);
  }
  const tls = tlsFromCli(values, env);
  const sasl = saslFromCli(values, env);
  return { ...(tls === undefined ? {} : { tls }), ...(sasl === undefined ? {} : { sasl }) };
}

function tlsFromCli(values: ParsedArgs['values'], env: Environment): KafkaTlsOptions | undefined {
  const on = setting(values, env, 'kafka-tls');
  const yes = on !== undefined && /^(1|true|yes)$/i.test(on);
  if (on !== undefined && !yes && !/^(0|false|no)$/i.test(on)) throw new UsageError(`${KAFKA_SECURITY_ENV['kafka-tls']} must be 1 or 0, got ${JSON.stringify(on)}`);
  const files = { ca: 'kafka-tls-ca', cert: 'kafka-tls-cert', key: 'kafka-tls-key' } as const;
  const tls: { -readonly [K in keyof KafkaTlsOptions]: KafkaTlsOptions[K] } = {};
  for (const [field, flag] of Object.entries(files) as [keyof typeof files, Flag][]) {
    const path = setting(values, env, flag);
    if (path !== undefined) tls[field] = readSecurityFile(path, flag, values);
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new UsageError('a client certificate needs its key: give both --kafka-tls-cert FILE and --kafka-tls-key FILE');
  return Object.keys(tls).length > 0 || yes ? tls : undefined;
}

function saslFromCli(values: ParsedArgs['values'], env: Environment): KafkaSecurityOptions['sasl'] {
  const given = setting(values, env, 'kafka-sasl-mechanism');
  const username = setting(values, env, 'kafka-sasl-username');
  if (given === undefined) {
    if (username !== undefined || setting(values, env, 'kafka-sasl-password-file') !== undefined) {
      throw new UsageError(`a SASL user or password needs --kafka-sasl-mechanism M (${SASL_MECHANISMS.join(', ')})`);
    }
    return undefined;
  }
  const mechanism = SASL_MECHANISMS.find((m) => m === given.toUpperCase());
  if (mechanism === undefined) throw new UsageError(`--kafka-sasl-mechanism must be one of ${SASL_MECHANISMS.join(', ')}, got ${JSON.stringify(given)}`);
  if (mechanism === 'OAUTHBEARER') {
    const token = env[TOKEN_ENV];
    if (token === undefined || token === '') throw new UsageError(`--kafka-sasl-mechanism OAUTHBEARER takes its token from ${TOKEN_ENV}, which is not set`);
    return { mechanism, token };
  }
  if (username === undefined || username === '') throw new UsageError(`--kafka-sasl-mechanism ${mechanism} needs --kafka-sasl-username U`);
  return { mechanism, username, password: password(mechanism, username, values, env) };
}

/** The password: from its file when one is named (the flag, then the variable), else from the environment. */
function password(mechanism: KafkaSaslMechanism, username: string, values: ParsedArgs['values'], env: Environment): string {
  const file = setting(values, env, 'kafka-sasl-password-file');
  if (file !== undefined) {
    // One trailing line break is the file's end, not the password's (echo secret > file).
    const text = readSecurityFile(file, 'kafka-sasl-password-file', values).toString('utf8').replace(/\r?\n$/, '');
    if (text === '') throw new CliError(`the password file ${file} is empty`);
    return text;
  }
  const fromEnv = env[PASSWORD_ENV];
  if (fromEnv === undefined || fromEnv === '') {
    throw new UsageError(`--kafka-sasl-mechanism ${mechanism} (user ${username}) needs the password: set ${PASSWORD_ENV}, or give --kafka-sasl-password-file FILE`);
  }
  return fromEnv;
}

/** A file a flag (or its variable) names, read whole; a one-line error naming the flag and the file when it cannot be. */
function readSecurityFile(path: string, flag: Flag, values: ParsedArgs['values']): Buffer {
  const from = values[flag] !== undefined ? `--${flag}` : KAFKA_SECURITY_ENV[flag];
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? 'unreadable');
    throw new CliError(`${from}: cannot read ${path}: ${why}`);
  }
}
