import { setTimeout as sleep } from 'node:timers/promises';
import { EmbeddedLog } from '../connectors/embedded/embedded-log.ts';
import { KafkaLog } from '../connectors/kafka/kafka-log.ts';
import { KafkaTaskGroup } from '../connectors/kafka/kafka-task-group.ts';
import { kafkaTopics } from '../connectors/kafka/kafka-topics.ts';
import type { TaskGroup } from '../runtime/task-group.ts';
import type { Log, TaskStorage } from '../runtime/log.ts';
import type { LogRecord } from '../records/record.ts';
import { fingerprintPartitions, fingerprintStream } from '../runtime/fingerprint.ts';
import { existingDataDir, optionalString, type ParsedArgs } from './args.ts';
import { KAFKA_DURABILITY_OPTIONS, kafkaDurabilityHelp, kafkaLogOptions } from './kafka-options.ts';
import { UsageError } from './errors.ts';
import { writeFailureReason } from './write-failure.ts';
import { KAFKA_SECURITY_OPTIONS, kafkaSecurityFlagGiven, kafkaSecurityFromCli } from './kafka-security-options.ts';
import type { KafkaSecurityOptions } from '../connectors/kafka/kafka-security.ts';
import type { RestoreProgress } from '../connectors/kafka/kafka-restore.ts';

/** The log a command works on: the embedded log of `--data-dir D`, or the Kafka cluster of `--kafka HOST:PORT[,HOST:PORT…]`. */
export interface CliLog {
  readonly log: Log & TaskStorage;
  /** Where, for messages: the directory, or `kafka HOST:PORT` (the --kafka list as given). */
  readonly where: string;
  /**
   * Why a write failed, as `to data dir D failed: the disk is full (ENOSPC)`,
   * when the error says so; undefined for other errors (their own message says more).
   */
  writeFailure(error: unknown): string | undefined;
  /** Creates `stream` with `partitions` partitions if it does not exist. */
  ensureStream(stream: string, partitions: number): Promise<void>;
  /** Reads `stream`'s partition from `from` to the end it has now (every committed record, on Kafka). */
  readToEnd(stream: string, partition: number, from: number, max: number): Promise<LogRecord[]>;
  /** Reloads the streams that exist, where others may create them (a broker). */
  refreshStreams?(): Promise<void>;
  /** A membership in the group of the application's instances, where the log has groups (Kafka's consumer groups). */
  taskGroup?(): TaskGroup;
  /** The fingerprint (docs/semantics.md, "Fingerprints") of a stream as it is now. */
  fingerprint(stream: string): Promise<string>;
  /** The applications that have committed on this log, sorted. */
  applicationIds(): Promise<string[]>;
  /** Brings what `log.readAudit` returns up to the committed end, where the audit lives in the log (Kafka's audit topic). */
  loadAudit?(applicationId: string): Promise<void>;
  close(): Promise<void>;
}

/** The options every log-using command takes. */
export const LOG_OPTIONS = {
  'data-dir': { type: 'string' },
  kafka: { type: 'string' },
  ...KAFKA_DURABILITY_OPTIONS,
  // TLS and SASL for --kafka (kafka-security-options.ts).
  ...KAFKA_SECURITY_OPTIONS,
} as const;

export const LOG_OPTIONS_HELP = `  --data-dir D           embedded log directory
  --kafka HOST:PORT      a Kafka broker instead (tidemark kafka start gives one);
                         several, comma-separated: h1:9092,h2:9092
${kafkaDurabilityHelp(25)}`;

/**
 * How a command uses an embedded data dir: `create` it when missing
 * (produce); `write` an existing one (run); only `read` an existing one
 * (consume: opened read-only, so that it creates no file and works on a
 * directory the user may only read).
 */
export type DataDirAccess = 'create' | 'write' | 'read';

/**
 * Opens the log the options name: exactly one of `--data-dir` and `--kafka`.
 * `notice` gets lines worth telling the user, such as a run taking tasks
 * over from another run on the same data dir.
 */
export async function openCliLog(values: ParsedArgs['values'], access: DataDirAccess = 'write', notice?: (line: string) => void, onRestore?: (progress: RestoreProgress) => void): Promise<CliLog> {
  const bootstrap = optionalString(values, 'kafka');
  const dataDir = optionalString(values, 'data-dir');
  if ((bootstrap === undefined) === (dataDir === undefined)) throw new UsageError('give the log: --data-dir D (embedded) or --kafka HOST:PORT');
  const kafka = kafkaLogOptions(values);
  if (kafka !== undefined) {
    const security = kafkaSecurityFromCli(values);
    return kafkaCliLog(await KafkaLog.open({ ...kafka, ...security, ...(onRestore === undefined ? {} : { onRestore }) }), bootstrap!, security);
  }
  const stray = kafkaSecurityFlagGiven(values);
  if (stray !== undefined) throw new UsageError(`--${stray} is for --kafka, not --data-dir`);
  const log = await EmbeddedLog.open(access === 'create' ? { dataDir: dataDir! } : { dataDir: existingDataDir(values), existing: true, readOnly: access === 'read', ...(notice === undefined ? {} : { onTakeOver: notice }) });
  return {
    log,
    where: log.dataDir,
    writeFailure: (error) => {
      const reason = writeFailureReason(error, log.dataDir);
      return reason === undefined ? undefined : `to data dir ${log.dataDir} failed: ${reason}`;
    },
    ensureStream: async (stream, partitions) => log.ensureStream(stream, partitions),
    readToEnd: async (stream, partition, from, max) => log.read(stream, partition, from, max),
    fingerprint: async (stream) => fingerprintStream(log, stream),
    applicationIds: async () => log.applicationIds(),
    close: () => log.close(),
  };
}

function kafkaCliLog(log: KafkaLog, bootstrap: string, security: KafkaSecurityOptions): CliLog {
  return {
    log,
    where: `kafka ${bootstrap}`,
    // The broker's errors name themselves (a full broker disk is its KAFKA_STORAGE_ERROR).
    writeFailure: () => undefined,
    ensureStream: (stream, partitions) => log.createStreams([{ stream, partitions }]),
    refreshStreams: () => log.refreshStreams(),
    taskGroup: () => new KafkaTaskGroup({ bootstrap, ...security }),
    async readToEnd(stream, partition, from, max) {
      await log.refreshEnds([stream]);
      const end = log.endOffset(stream, partition);
      const out: LogRecord[] = [];
      // Reads are served from fetches made in the background: wait for them, stepping over transaction markers.
      for (let next = from; next < end && out.length < max; ) {
        const records = log.read(stream, partition, next, max - out.length);
        if (records.length > 0) {
          out.push(...records);
          next = records[records.length - 1]!.offset + 1;
        } else {
          const skipped = log.skipTo(stream, partition, next);
          if (skipped > next) next = skipped;
          else await sleep(5);
        }
      }
      return out;
    },
    fingerprint: async (stream) => fingerprintPartitions(await log.readStream(stream)),
    loadAudit: (applicationId) => log.loadAudit(applicationId),
    async applicationIds() {
      // An application on Kafka has its checkpoints topic and its audit topic (kafkaTopics).
      await log.refreshStreams();
      const topics = new Set(log.streams());
      const suffix = kafkaTopics.checkpoints('');
      return [...topics]
        .filter((t) => t.endsWith(suffix) && t.length > suffix.length)
        .map((t) => t.slice(0, -suffix.length))
        .filter((app) => topics.has(kafkaTopics.audit(app)))
        .sort();
    },
    close: () => log.close(),
  };
}
