import type { KafkaLogOptions } from '../connectors/kafka/kafka-log.ts';
import { bootstrapBrokers } from '../connectors/kafka/kafka-client.ts';
import { optionalString, type ParsedArgs } from './args.ts';
import { UsageError } from './errors.ts';

/** The environment variables that stand in for the durability flags when they are not given. */
export const KAFKA_ENV = {
  replicationFactor: 'TIDEMARK_KAFKA_REPLICATION_FACTOR',
  minInsyncReplicas: 'TIDEMARK_KAFKA_MIN_INSYNC_REPLICAS',
  stateDir: 'TIDEMARK_KAFKA_STATE_DIR',
} as const;

/** The options of `--kafka` that say how durable the topics a command creates are. */
export const KAFKA_DURABILITY_OPTIONS = {
  'replication-factor': { type: 'string' },
  'min-insync-replicas': { type: 'string' },
  'state-dir': { type: 'string' },
} as const;

/**
 * The help lines of the durability options, descriptions starting at
 * `column` as in the command's other options.
 */
export function kafkaDurabilityHelp(column: number): string {
  const rows: [string, string[]][] = [
    ['--replication-factor N', ['Kafka: replicas of each topic it creates', "(default -1: the broker's default; else", `$${KAFKA_ENV.replicationFactor})`]],
    ['--min-insync-replicas N', ['Kafka: min.insync.replicas of those topics', "(default: the broker's; else", `$${KAFKA_ENV.minInsyncReplicas})`]],
    ['--state-dir D', ['Kafka: where a run keeps task state on disk', `(default $${KAFKA_ENV.stateDir}, else`, './.tidemark-state)']],
  ];
  const pad = ' '.repeat(column);
  return rows
    .map(([flag, [first, ...rest]]) => {
      const head = `  ${flag}`;
      const lead = head.length + 1 < column ? `${head.padEnd(column)}${first}` : `${head}\n${pad}${first}`;
      return [lead, ...rest.map((line) => pad + line)].join('\n');
    })
    .join('\n');
}

/**
 * What `--kafka HOST:PORT[,HOST:PORT…]` and the durability flags (or their
 * environment variables) ask for, checked: a bad value is a one-line
 * {@link UsageError} naming the flag or the variable. Undefined without
 * `--kafka`, where the durability flags are an error (they mean nothing to
 * the embedded log) and the variables are ignored.
 */
export function kafkaLogOptions(values: ParsedArgs['values'], env: Readonly<Record<string, string | undefined>> = process.env): KafkaLogOptions | undefined {
  const bootstrap = optionalString(values, 'kafka');
  if (bootstrap === undefined) {
    for (const flag of Object.keys(KAFKA_DURABILITY_OPTIONS)) if (values[flag] !== undefined) throw new UsageError(`--${flag} is an option of --kafka (${flag === 'state-dir' ? 'task state of a run on Kafka' : 'topics on Kafka'})`);
    return undefined;
  }
  try {
    bootstrapBrokers(bootstrap);
  } catch (e) {
    throw new UsageError(`--kafka: ${(e as Error).message}`);
  }
  const replicationFactor = durabilityValue(values, env, 'replication-factor', KAFKA_ENV.replicationFactor, true);
  const minInsyncReplicas = durabilityValue(values, env, 'min-insync-replicas', KAFKA_ENV.minInsyncReplicas, false);
  if (replicationFactor !== undefined && minInsyncReplicas !== undefined && replicationFactor !== -1 && minInsyncReplicas > replicationFactor) {
    throw new UsageError(`--min-insync-replicas ${minInsyncReplicas} is more than --replication-factor ${replicationFactor}: no write could ever be acknowledged`);
  }
  const stateDir = optionalString(values, 'state-dir');
  if (stateDir === '') throw new UsageError('--state-dir: give a directory');
  return { bootstrap, ...(replicationFactor === undefined ? {} : { replicationFactor }), ...(minInsyncReplicas === undefined ? {} : { minInsyncReplicas }), ...(stateDir === undefined ? {} : { stateDir }) };
}

/** A durability flag, else its environment variable (an empty one counts as unset), else undefined: a positive integer (or -1 where `brokerDefault`). */
function durabilityValue(values: ParsedArgs['values'], env: Readonly<Record<string, string | undefined>>, flag: string, variable: string, brokerDefault: boolean): number | undefined {
  const given = optionalString(values, flag);
  const fromEnv = env[variable];
  const [text, what] = given !== undefined ? [given, `--${flag}`] : fromEnv !== undefined && fromEnv !== '' ? [fromEnv, `${variable}`] : [undefined, ''];
  if (text === undefined) return undefined;
  const n = /^\s*-?\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || (n < 1 && !(brokerDefault && n === -1))) {
    throw new UsageError(`${what} must be a positive integer${brokerDefault ? " or -1 (the broker's default)" : ''}, got ${JSON.stringify(text)}`);
  }
  return n;
}
