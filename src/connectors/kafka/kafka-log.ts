import { Admin, Consumer, Producer } from '@platformatic/kafka';
import type { LogRecord } from '../../records/record.ts';
import type { StateBackend } from '../../state/key-value-store.ts';
import type { AppendRecord, AuditEntry, CommitUnit, Log, TaskCheckpoint, TaskStorage } from '../../runtime/log.ts';
import type { RunPlan } from '../../runtime/run-plan.ts';
import { assertAppendable } from '../../runtime/log-checks.ts';
import { producerIdOf } from '../../runtime/ids.ts';
import { messageOf } from './kafka-records.ts';
import { offsetsOf, oversizedAppendText, splitIntoRequests } from './kafka-batch-limits.ts';
import { kafkaErrorText } from './kafka-errors.ts';
import { FETCH_RETRIES, bootstrapBrokers, bootstrapText, clientConnection } from './kafka-client.ts';
import { checkConnectionSecurity, securityFailure, type KafkaSecurityOptions } from './kafka-security.ts';
import { TopicCatalog, checkTopicDurability, kafkaTopics } from './kafka-topics.ts';
import { KafkaReader } from './kafka-reader.ts';
import { KafkaTaskStore } from './kafka-task-store.ts';
import { KafkaTransactions } from './kafka-transactions.ts';
import { KafkaGroupCatchUps } from './kafka-catch-up.ts';
import { KafkaAppender } from './kafka-append.ts';
import type { RestoreProgress } from './kafka-restore.ts';
import { resolve } from 'node:path';
import type { GroupCatchUpState } from '../../runtime/group-catch-up.ts';

export { kafkaTopics, topicSafe } from './kafka-topics.ts';
export type { RestoreProgress } from './kafka-restore.ts';

/** Where task state lives by default, under the working directory. */
const DEFAULT_STATE_DIR = '.tidemark-state';

/** How {@link KafkaLog.open} connects. */
export interface KafkaLogOptions extends KafkaSecurityOptions {
  /**
   * `host:port` of a broker, e.g. `127.0.0.1:9092`, or several, comma-separated
   * (`k1:9092,k2:9092`) or as a list: the client tries them in turn until one
   * answers, and learns the rest of the cluster from it.
   */
  readonly bootstrap: string | readonly string[];
  /** The client id the broker sees (default `tidemark`); each task's transactional producer is `<clientId>-<taskId>`. */
  readonly clientId?: string;
  /** Longest a fetch waits for data at the end of a partition (default 50 ms). */
  readonly maxWaitMs?: number;
  /**
   * Replicas of each partition of every topic tidemark creates (outputs,
   * repartition and dead-letter topics, changelogs, checkpoints, audit):
   * a positive integer, or -1 (the default) for the broker's
   * `default.replication.factor`. Topics that exist are left as they are.
   */
  readonly replicationFactor?: number;
  /**
   * The `min.insync.replicas` of every topic tidemark creates: how many
   * replicas must have a write before it is acknowledged (tidemark writes
   * with acks=all). Default: none set, the broker's own.
   */
  readonly minInsyncReplicas?: number;
  /**
   * The directory task state is kept in on local disk (LMDB, one
   * environment per application in `<stateDir>/<application>`, locked by
   * the process using it). Default: `$TIDEMARK_KAFKA_STATE_DIR`, else
   * `.tidemark-state` under the working directory. The changelog topics stay
   * the source of truth: a restart restores only what the changelog has past
   * the local store, a new machine all of it.
   */
  readonly stateDir?: string;
  /** Told how each task store's restore from its changelog goes: at its start, after each batch, and at its end (a store already up to date says nothing). */
  readonly onRestore?: (progress: RestoreProgress) => void;
}

/** The state directory of `options` (see {@link KafkaLogOptions.stateDir}). */
export function kafkaStateDir(options: Pick<KafkaLogOptions, 'stateDir'>): string {
  return resolve(options.stateDir ?? process.env['TIDEMARK_KAFKA_STATE_DIR'] ?? DEFAULT_STATE_DIR);
}

/**
 * Apache Kafka as tidemark's log and task storage, exactly once, through
 * `@platformatic/kafka`:
 *
 * - reads are raw fetches under read_committed, done ahead in the
 *   background and served to the (synchronous) runtime from a cache, with
 *   each partition's last stable offset as its end ("may still have data" is
 *   exactly the lag);
 * - a commit is one Kafka transaction per task, holding its outputs, its
 *   state changes (to compacted changelog topics), its checkpoint
 *   (positions, stream time, watermarks, timers) and its audit; the
 *   transactional id is the task's, so a new owner of a task fences the old;
 * - before a run, `prepare` creates the topics, reads end offsets and
 *   restores each task's checkpoint and state from those topics.
 *
 * @example
 * const log = await KafkaLog.open({ bootstrap: '127.0.0.1:9092' });
 * const summary = await new Application(topology, { applicationId: 'counts', log }).run({ mode: 'catch-up' });
 * await log.close();
 */
export class KafkaLog implements Log, TaskStorage {
  // The concerns live in their own files: topics and their limits (kafka-topics.ts), reading
  // (kafka-reader.ts), the tasks' checkpoints, state and audit (kafka-task-store.ts), and the
  // transactions (kafka-transactions.ts); this class ties them together.
  readonly #admin: Admin;
  /** DescribeConfigs' client: few retries of its own, the catalog tries again on a fresh connection (TopicCatalog.limits). */
  readonly #configAdmin: Admin;
  readonly #consumer: Consumer;
  /** The raw fetches' client: few retries of its own, the reader re-routes (see FETCH_RETRIES). */
  readonly #fetcher: Consumer;
  /** Appends and the group catch-up records: its own producer, for its InitProducerId and connections only (kafka-append.ts). */
  readonly #appendProducer: Producer;
  readonly #appender: KafkaAppender;
  readonly #topics: TopicCatalog;
  readonly #reader: KafkaReader;
  readonly #store: KafkaTaskStore;
  readonly #transactions: KafkaTransactions;
  readonly #catchUps: KafkaGroupCatchUps;
  /** What each task of this process reads (by `application/task`), to stop reading it when the task moves away. */
  readonly #taskSources = new Map<string, { sources: readonly string[]; partition: number }>();

  private constructor(options: KafkaLogOptions) {
    // Both checked before any client is made: a bad option is a RangeError naming it, not a failed connection.
    const brokers = bootstrapBrokers(options.bootstrap);
    const durability = checkTopicDurability(options);
    const clientId = options.clientId ?? 'tidemark';
    // Retries and the connection's security (TLS, SASL): the same for every client, the task producers' too.
    const connection = clientConnection(options);
    const base = { clientId, bootstrapBrokers: brokers, ...connection };
    this.#admin = new Admin(base);
    this.#configAdmin = new Admin({ ...base, ...FETCH_RETRIES });
    this.#consumer = new Consumer({ ...base, groupId: `${clientId}-reader` });
    this.#fetcher = new Consumer({ ...base, ...FETCH_RETRIES, groupId: `${clientId}-fetcher` });
    this.#topics = new TopicCatalog(this.#admin, this.#configAdmin, this.#consumer, bootstrapText(options.bootstrap), durability);
    // acks=all and idempotence: a write is acknowledged once min.insync.replicas replicas have it, and a resent one is not written twice.
    this.#appendProducer = new Producer({ ...base, ...FETCH_RETRIES, idempotent: true, acks: -1 });
    this.#appender = new KafkaAppender(this.#appendProducer, this.#topics);
    this.#reader = new KafkaReader(this.#consumer, this.#fetcher, this.#topics, options.maxWaitMs ?? 50);
    this.#store = new KafkaTaskStore(this.#reader, this.#topics, { stateDir: kafkaStateDir(options), onRestore: options.onRestore });
    this.#catchUps = new KafkaGroupCatchUps(this.#reader, this.#appender);
    this.#transactions = new KafkaTransactions({ clientId, bootstrapBrokers: brokers, connection, topics: this.#topics, reader: this.#reader, store: this.#store });
  }

  /** Connects and loads the metadata of every topic. */
  static async open(options: KafkaLogOptions): Promise<KafkaLog> {
    const log = new KafkaLog(options);
    // The login is checked once, on the first bootstrap broker: a refused one fails here at once, not after the client's retries.
    await checkConnectionSecurity(bootstrapBrokers(options.bootstrap)[0]!, options, options.clientId ?? 'tidemark');
    try {
      await log.#topics.refresh();
    } catch (e) {
      // A refused login or certificate is said as such, naming the broker (never the password).
      throw securityFailure(e, bootstrapText(options.bootstrap), options) ?? e;
    }
    return log;
  }

  // ---------------------------------------------------------------------------
  // Streams
  // ---------------------------------------------------------------------------

  ensureStream(stream: string, partitions: number): void {
    this.#topics.ensureStream(stream, partitions);
  }

  /** Creates the topics that do not exist yet (LogAppendTime; `compact` where asked), and waits for their metadata. */
  async createStreams(streams: readonly { stream: string; partitions: number; compact?: boolean }[]): Promise<void> {
    await this.#topics.createStreams(streams);
  }

  /** Reloads the list of topics and their partition counts (topics created elsewhere since). */
  async refreshStreams(): Promise<void> {
    await this.#topics.refresh();
  }

  partitionCount(stream: string): number | undefined {
    return this.#topics.partitionCount(stream);
  }

  streams(): string[] {
    return this.#topics.streams();
  }

  // ---------------------------------------------------------------------------
  // Reading
  // ---------------------------------------------------------------------------

  /**
   * The last stable offset last seen — or, past it, the end of what this
   * process itself committed there: a downstream task of the same process
   * then waits for those records (their transaction markers may still be on
   * the way) instead of taking the partition for quiet.
   */
  endOffset(stream: string, partition: number): number {
    return this.#reader.endOffset(stream, partition);
  }

  /** Reads what was fetched ahead from `fromOffset` on; asks for more in the background. Never waits. */
  read(stream: string, partition: number, fromOffset: number, max: number): LogRecord[] {
    return this.#reader.read(stream, partition, fromOffset, max);
  }

  /** The first offset at or after `from` that may hold a data record: transaction markers and aborted records are stepped over. */
  skipTo(stream: string, partition: number, from: number): number {
    return this.#reader.skipTo(stream, partition, from);
  }

  /**
   * Appends idempotently, in as many produce requests as the topics'
   * max.message.bytes need (in order; atomic per partition batch, not
   * across them). Through a broker's failure, each partition's batch is
   * resent to its new leader until acknowledged, written once
   * (kafka-append.ts). A record too large for its topic even alone fails
   * the call before anything is sent.
   */
  async append(records: readonly AppendRecord[]): Promise<LogRecord[]> {
    for (const r of records) assertAppendable(r, this.#topics.partitionCount(r.stream));
    if (records.length === 0) return [];
    const streams = [...new Set(records.map((r) => r.stream))];
    const messages = records.map(messageOf);
    const { requests, oversized } = splitIntoRequests(messages, await this.#topics.limits(streams));
    if (oversized.length > 0) throw new Error(oversizedAppendText(oversized));
    const bases = await this.#appender.send(requests).catch((e: unknown) => {
      const done = (e as { appendedRequests?: number }).appendedRequests ?? 0;
      const appended = requests.slice(0, done).reduce((n, r) => n + r.length, 0);
      const note = done === 0 ? '' : ` (the first ${appended} records were appended)`;
      throw new Error(`appending ${records.length} records to ${streams.join(', ')}${note}: ${kafkaErrorText(e)}`, { cause: e });
    });
    const offsets = requests.flatMap((request, i) => offsetsOf(request, bases[i]!));
    return records.map((r, i) => ({ ...r, headers: r.headers ?? {}, offset: offsets[i]!, brokerTime: null }));
  }

  // ---------------------------------------------------------------------------
  // Task storage
  // ---------------------------------------------------------------------------

  /**
   * Creates the run's topics (outputs, internal streams, dead letters, and
   * the application's changelog, checkpoint and audit topics), reads the end
   * offsets of its inputs, and restores each of its tasks: the checkpoint,
   * and the state on local disk brought up to the changelog's end, read
   * under read_committed. Opens
   * each task's transactional producer, which fences any other process still
   * holding the task.
   */
  async prepare(plan: RunPlan): Promise<void> {
    const app = plan.applicationId;
    this.#store.openLocal(app);
    // A sub-topology fed by an internal stream has as many tasks as that stream will have partitions: it may not exist yet.
    const planned = new Map(plan.streams.map((s) => [s.stream, s.partitions]));
    const storeTopics = plan.subTopologies.flatMap((sub) =>
      sub.stores.map((store) => ({ stream: kafkaTopics.changelog(app, store), partitions: this.#subTopologyTasks(sub.id, sub.sources.map((s) => s.stream), planned), compact: true })),
    );
    await this.createStreams([
      ...plan.streams,
      ...storeTopics,
      { stream: kafkaTopics.checkpoints(app), partitions: 1, compact: true },
      { stream: kafkaTopics.audit(app), partitions: 1 },
    ]);
    await this.#reader.refreshEnds(plan.streams.map((s) => s.stream));
    // Known before the run, so that a task can tell an output record too large for its topic (tooLarge);
    // and every topic a commit writes is read now, not at its first commit, which may come in a broker's failure.
    await this.#topics.limits([...plan.streams.map((s) => s.stream), ...storeTopics.map((s) => s.stream), kafkaTopics.checkpoints(app), kafkaTopics.audit(app)]);
    await this.acquireTasks(plan, plan.tasks);
  }

  /** An output record over its topic's max.message.bytes even in a batch of its own: the reason; undefined where it fits or the limit is not read yet. */
  tooLarge(record: AppendRecord): string | undefined {
    return this.#topics.tooLarge(record);
  }

  /**
   * Takes tasks over: opens each one's transactional producer, which fences
   * any other process still holding the task and waits for its open
   * transaction to end, then restores the tasks' checkpoints and state from
   * what is committed. A run calls it through `prepare`, and again for the
   * tasks a group hands it in a rebalance.
   */
  async acquireTasks(plan: RunPlan, tasks: RunPlan['tasks']): Promise<void> {
    if (tasks.length === 0) return;
    const app = plan.applicationId;
    // The state dir before anything else: a second process on it is refused before it fences the first one's tasks.
    this.#store.openLocal(app);
    await this.#reader.refreshEnds(tasks.flatMap((t) => t.sources));
    // Fence first: a zombie's open transaction is aborted before the restore reads what was committed.
    await Promise.all(tasks.map((t) => this.#transactions.openTaskProducer(app, t.taskId)));
    await this.#store.restoreCheckpoints(app, new Set(tasks.map((t) => t.taskId)));
    for (const t of tasks) {
      this.#taskSources.set(producerIdOf(app, t.taskId), { sources: t.sources, partition: t.partition });
      for (const store of t.stores) await this.#store.restoreState(app, t.taskId, store, kafkaTopics.changelog(app, store), t.partition);
    }
  }

  /**
   * Lets go of tasks that moved to another instance: closes their producers
   * (already fenced, or about to be), stops fetching their input partitions
   * and forgets their checkpoints; their state stays on local disk, brought
   * up to the changelog's end if the tasks come back.
   */
  async releaseTasks(applicationId: string, taskIds: readonly string[]): Promise<void> {
    for (const taskId of taskIds) {
      const key = producerIdOf(applicationId, taskId);
      await this.#transactions.release(applicationId, taskId);
      this.#store.forget(applicationId, taskId);
      const read = this.#taskSources.get(key);
      this.#taskSources.delete(key);
      for (const stream of read?.sources ?? []) this.#reader.stopReading(stream, read!.partition);
    }
  }

  #subTopologyTasks(_id: number, sources: readonly string[], planned: ReadonlyMap<string, number>): number {
    const n = sources.map((s) => this.#topics.partitionCount(s) ?? planned.get(s)).find((x) => x !== undefined);
    return n ?? 1;
  }

  /**
   * Refreshes the end offsets of `streams` once their writers have
   * committed (catch-up's stages, for internal streams): the last stable
   * offsets, once they have reached the log ends seen at the call (a
   * commit's markers may still be on the way).
   */
  async refreshEnds(streams: readonly string[]): Promise<void> {
    await this.#reader.settle(streams);
  }

  /** Every record of `stream` committed before the call, one array per partition: to fingerprint or inspect it. */
  async readStream(stream: string): Promise<LogRecord[][]> {
    return this.#reader.readStream(stream);
  }

  readCheckpoint(applicationId: string, taskId: string): TaskCheckpoint | undefined {
    return this.#store.readCheckpoint(applicationId, taskId);
  }

  stateBackend(applicationId: string, taskId: string): StateBackend {
    return this.#store.stateBackend(applicationId, taskId);
  }

  /**
   * One transaction per task: outputs, changelog, checkpoint and audit, all
   * or nothing. Every unit is tried; when the only failures are tasks fenced
   * by a new owner, a `TaskMigratedError` names them (the others are
   * committed), else the first other error is thrown.
   */
  async commit(units: readonly CommitUnit[]): Promise<void> {
    await this.#transactions.commit(units);
  }

  /** A catch-up shared by a group: the one under way, or the next (a record in the checkpoints topic). */
  async beginGroupCatchUp(applicationId: string): Promise<number> {
    return this.#catchUps.begin(applicationId);
  }

  /** The committed catch-up state of each of `taskIds`, read afresh from the checkpoints topic. */
  async readGroupCatchUp(applicationId: string, taskIds: readonly string[]): Promise<ReadonlyMap<string, GroupCatchUpState>> {
    return this.#catchUps.read(applicationId, taskIds);
  }

  /** Records that group catch-up `id` is over. */
  async endGroupCatchUp(applicationId: string, id: number): Promise<void> {
    await this.#catchUps.end(applicationId, id);
  }

  /**
   * What {@link loadAudit} read of the application's audit topic, and the
   * audit this process committed since: the audit is not read at each
   * take-over, only when asked.
   */
  readAudit(applicationId: string): AuditEntry[] {
    return this.#store.readAudit(applicationId);
  }

  /** Reads the application's audit topic up to its end (on from where the last call stopped), for {@link readAudit}. */
  async loadAudit(applicationId: string): Promise<void> {
    await this.#store.loadAudit(applicationId);
  }

  resetApplication(applicationId: string): void {
    throw new Error(`resetting ${applicationId} on Kafka: delete its topics (${kafkaTopics.checkpoints(applicationId)}, ${kafkaTopics.audit(applicationId)}, its changelogs) with the admin tools`);
  }

  async close(): Promise<void> {
    await this.#reader.close();
    await this.#transactions.close();
    await this.#store.close();
    await this.#appendProducer.close();
    await this.#fetcher.close();
    await this.#consumer.close();
    await this.#configAdmin.close();
    await this.#admin.close();
  }
}
