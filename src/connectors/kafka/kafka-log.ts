import { Admin, Consumer, Producer, type ClusterMetadata } from '@platformatic/kafka';
import type { LogRecord } from '../../time/record.ts';
import type { StateBackend } from '../../state/key-value-store.ts';
import type { AppendRecord, AuditEntry, CommitUnit, Log, TaskCheckpoint, TaskStorage } from '../../runtime/log.ts';
import type { RunPlan } from '../../runtime/application.ts';
import { assertAppendable } from '../../runtime/log-checks.ts';
import { committedRecords, messageOf, type FetchedBatch, type FetchedPartition } from './kafka-records.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, auditRecords, describeMaxMessageBytes, offsetsOf, oversizedAppendText, oversizedCommitText, singleRecordBatchBytes, splitIntoRequests, type OutgoingMessage } from './kafka-batch-limits.ts';
import { isFencedKafkaError, isFencingRaceKafkaError, isRetriableKafkaError, kafkaErrorText, retryWhile, topicCreationError } from './kafka-errors.ts';
import { TaskMigratedError } from '../../runtime/task-group.ts';

export interface KafkaLogOptions {
  /** `host:port` of a broker, e.g. `127.0.0.1:9092`. */
  readonly bootstrap: string;
  readonly clientId?: string;
  /** Longest a fetch waits for data at the end of a partition (default 50 ms). */
  readonly maxWaitMs?: number;
}

/**
 * A name Kafka accepts in a topic name: characters other than ASCII letters,
 * digits, `.`, `_` and `-` (a timer store's `/`, say) become `_` and their
 * code in hex (`__timers/alerts` → `__timers_2falerts`).
 */
export function topicSafe(name: string): string {
  return name.replace(/[^a-zA-Z0-9._-]/g, (c) => `_${c.codePointAt(0)!.toString(16)}`);
}

/** Names of the topics tidemark keeps an application's state in (docs/kafka.md). */
export const kafkaTopics = {
  /** A store's changelog: compacted, one partition per task of the store's sub-topology. */
  changelog: (applicationId: string, store: string): string => `${applicationId}-${topicSafe(store)}-changelog`,
  /** Task checkpoints (positions, stream time, watermarks): compacted, keyed by task. */
  checkpoints: (applicationId: string): string => `${applicationId}-checkpoints`,
  /** The audit log of the application. */
  audit: (applicationId: string): string => `${applicationId}-audit`,
};

/** Configs of every topic tidemark creates: the broker stamps append time, so `brokerTime` is known. */
const LOG_APPEND_TIME = { name: 'message.timestamp.type', value: 'LogAppendTime' };
const COMPACT = { name: 'cleanup.policy', value: 'compact' };
const READ_UNCOMMITTED = 0;
const READ_COMMITTED = 1;
/** Longer than the broker's default transaction timeout (60 s), after which it aborts an open transaction. */
const SETTLE_TIMEOUT_MS = 70_000;
const METADATA_TIMEOUT_MS = 30_000;
/**
 * Every request is retried for about 30 s (120 × 250 ms) before a run fails:
 * long enough to ride out a broker restart (5–10 s here) in the middle of a
 * fetch or a transaction, which then goes on where it was.
 */
const CLIENT_RETRIES = { retries: 120, retryDelay: 250, timeout: 10_000 };
const decoder = new TextDecoder();
/** How long a new owner of a task waits for the transaction of the last one to end (its abort or commit markers). */
const TRANSACTION_INIT_TIMEOUT_MS = 60_000;

/**
 * What is known of one partition being read: every offset in
 * `[start, nextFetch)` was fetched, and its data records not yet read past
 * are in `records`.
 */
interface PartitionCache {
  records: LogRecord[];
  /** Undefined: nothing fetched (the partition is not being read). */
  start: number | undefined;
  nextFetch: number;
  /** Last stable offset: the end of the committed data. */
  end: number;
  /** One past the last record this process committed here (0: none). */
  committedEnd: number;
}

/**
 * Apache Kafka as tidemark's log and task storage (DESIGN 4.8, §5), through
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
  readonly #admin: Admin;
  readonly #consumer: Consumer;
  readonly #producer: Producer;
  readonly #maxWaitMs: number;
  readonly #clientId: string;
  readonly #bootstrap: string;
  #metadata: ClusterMetadata | undefined;
  readonly #partitions = new Map<string, number>();
  readonly #caches = new Map<string, PartitionCache>();
  readonly #checkpoints = new Map<string, TaskCheckpoint>();
  readonly #state = new Map<string, Map<string, Uint8Array>>();
  readonly #audit = new Map<string, AuditEntry[]>();
  readonly #taskProducers = new Map<string, Producer>();
  /** Each topic's effective max.message.bytes, read once (DescribeConfigs): the largest record batch its partitions take. */
  readonly #maxMessageBytes = new Map<string, number>();
  /** What each task of this process reads (by `application/task`), to stop reading it when the task moves away. */
  readonly #taskSources = new Map<string, { sources: readonly string[]; partition: number }>();
  #fetching: Promise<void> | undefined;
  #fetchError: unknown;
  #closed = false;

  private constructor(options: KafkaLogOptions) {
    this.#bootstrap = options.bootstrap;
    this.#clientId = options.clientId ?? 'tidemark';
    const base = { clientId: this.#clientId, bootstrapBrokers: [options.bootstrap], ...CLIENT_RETRIES };
    this.#admin = new Admin(base);
    this.#consumer = new Consumer({ ...base, groupId: `${this.#clientId}-reader` });
    this.#producer = new Producer({ ...base, idempotent: true, acks: -1 });
    this.#maxWaitMs = options.maxWaitMs ?? 50;
  }

  /** Connects and loads the metadata of every topic. */
  static async open(options: KafkaLogOptions): Promise<KafkaLog> {
    const log = new KafkaLog(options);
    await log.#refreshMetadata();
    return log;
  }

  async #refreshMetadata(topics?: readonly string[]): Promise<void> {
    // A topic being created or deleted meanwhile answers with a retriable error for a moment.
    await retryWhile(isRetriableKafkaError, METADATA_TIMEOUT_MS, async () => {
      const names = topics ?? (await this.#admin.listTopics()).filter((t) => !t.startsWith('__'));
      if (names.length === 0) return;
      this.#metadata = await this.#consumer.metadata({ topics: [...names], forceUpdate: true });
      for (const [name, t] of this.#metadata.topics) this.#partitions.set(name, t.partitionsCount);
    }).catch((e: unknown) => {
      throw new Error(`reading Kafka's metadata${topics === undefined ? '' : ` of ${topics.join(', ')}`} from ${this.#bootstrap}: ${kafkaErrorText(e)}`, { cause: e });
    });
  }

  // ---------------------------------------------------------------------------
  // Streams
  // ---------------------------------------------------------------------------

  ensureStream(stream: string, partitions: number): void {
    const existing = this.#partitions.get(stream);
    if (existing === undefined) throw new Error(`stream ${stream} does not exist on Kafka yet: create it with createStreams() (a run's prepare() does)`);
    if (existing !== partitions) throw new Error(`stream ${stream} exists with ${existing} partitions, not ${partitions}`);
  }

  /** Creates the topics that do not exist yet (LogAppendTime; `compact` where asked), and waits for their metadata. */
  async createStreams(streams: readonly { stream: string; partitions: number; compact?: boolean }[]): Promise<void> {
    await this.#refreshMetadata();
    const missing = streams.filter((s) => !this.#partitions.has(s.stream));
    for (const s of streams) {
      const n = this.#partitions.get(s.stream);
      if (n !== undefined && n !== s.partitions) throw new Error(`stream ${s.stream} exists with ${n} partitions, not ${s.partitions}`);
    }
    // One request per distinct config: createTopics takes one config list for all its topics.
    const failures: { error: Error; refused: ReadonlySet<string> }[] = [];
    for (const compact of [false, true]) {
      const group = missing.filter((s) => (s.compact ?? false) === compact);
      if (group.length === 0) continue;
      try {
        await this.#admin.createTopics({ topics: group.map((s) => ({ topic: s.stream, partitions: s.partitions, replicas: 1 })), configs: compact ? [LOG_APPEND_TIME, COMPACT] : [LOG_APPEND_TIME] });
      } catch (e) {
        // Another instance may have created some meanwhile: the metadata below decides.
        const failure = topicCreationError(e, group.map((s) => s.stream));
        if (failure !== undefined) failures.push(failure);
      }
    }
    // The topics Kafka did create (it creates topic by topic) are known to this log before a refusal is thrown.
    const created = missing.map((s) => s.stream).filter((t) => !failures.some((f) => f.refused.has(t)));
    if (created.length > 0) await this.#waitForTopics(created);
    if (failures.length > 0) throw failures.length === 1 ? failures[0]!.error : new Error(failures.map((f) => f.error.message).join('; '), { cause: failures[0]!.error });
  }

  async #waitForTopics(topics: readonly string[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#refreshMetadata([...new Set([...this.#partitions.keys(), ...topics])]);
        const ready = topics.every((t) => this.#metadata?.topics.get(t)?.partitions.every((p) => p.leader >= 0));
        if (ready) return;
      } catch (e) {
        if (attempt > 50) throw e;
      }
      if (attempt > 50) throw new Error(`topics ${topics.join(', ')} were created but have no leader after 10 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Reloads the list of topics and their partition counts (topics created elsewhere since). */
  async refreshStreams(): Promise<void> {
    await this.#refreshMetadata();
  }

  partitionCount(stream: string): number | undefined {
    return this.#partitions.get(stream);
  }

  streams(): string[] {
    return [...this.#partitions.keys()].sort();
  }

  // ---------------------------------------------------------------------------
  // Reading
  // ---------------------------------------------------------------------------

  #cache(stream: string, partition: number): PartitionCache {
    const key = `${stream}/${partition}`;
    let c = this.#caches.get(key);
    if (c === undefined) {
      c = { records: [], start: undefined, nextFetch: 0, end: 0, committedEnd: 0 };
      this.#caches.set(key, c);
    }
    return c;
  }

  /**
   * The last stable offset last seen — or, past it, the end of what this
   * process itself committed there: a downstream task of the same process
   * then waits for those records (their transaction markers may still be on
   * the way) instead of taking the partition for quiet.
   */
  endOffset(stream: string, partition: number): number {
    this.#throwFetchError();
    const c = this.#cache(stream, partition);
    return Math.max(c.end, c.committedEnd);
  }

  /** Reads what was fetched ahead from `fromOffset` on; asks for more in the background. Never waits. */
  read(stream: string, partition: number, fromOffset: number, max: number): LogRecord[] {
    this.#throwFetchError();
    const c = this.#cache(stream, partition);
    // Outside what was fetched (a first read, or a task rewinding to its checkpoint): fetch from there.
    if (c.start === undefined || fromOffset < c.start || fromOffset > c.nextFetch) this.#seek(c, fromOffset);
    let i = 0;
    while (i < c.records.length && c.records[i]!.offset < fromOffset) i++;
    if (i > 0) c.records.splice(0, i);
    c.start = fromOffset;
    const out = c.records.slice(0, max);
    this.#pump();
    return out;
  }

  #seek(c: PartitionCache, offset: number): void {
    c.records = [];
    c.start = offset;
    c.nextFetch = offset;
  }

  /** The first offset at or after `from` that may hold a data record: transaction markers and aborted records are stepped over. */
  skipTo(stream: string, partition: number, from: number): number {
    const c = this.#cache(stream, partition);
    if (c.start === undefined || from < c.start || from > c.nextFetch) return from;
    return c.records.find((r) => r.offset >= from)?.offset ?? c.nextFetch;
  }

  #throwFetchError(): void {
    if (this.#fetchError !== undefined) {
      const e = this.#fetchError;
      this.#fetchError = undefined;
      throw e;
    }
  }

  /** Starts a background fetch of every partition that is read and running low, unless one is under way. */
  #pump(): void {
    if (this.#fetching !== undefined || this.#closed) return;
    const wanted = [...this.#caches].filter(([, c]) => c.start !== undefined && c.records.length < 2000);
    if (wanted.length === 0) return;
    this.#fetching = this.#fetch(wanted)
      .catch((e: unknown) => {
        this.#fetchError = e;
      })
      .finally(() => {
        this.#fetching = undefined;
      });
  }

  async #fetch(wanted: [string, PartitionCache][]): Promise<void> {
    const byTopic = new Map<string, { partition: number; cache: PartitionCache }[]>();
    for (const [key, cache] of wanted) {
      const slash = key.lastIndexOf('/');
      const topic = key.slice(0, slash);
      const list = byTopic.get(topic) ?? [];
      list.push({ partition: Number(key.slice(slash + 1)), cache });
      byTopic.set(topic, list);
    }
    const metadata = this.#metadata!;
    const topicIds = new Map<string, string>();
    const topics = [...byTopic].map(([topic, parts]) => {
      const meta = metadata.topics.get(topic);
      if (meta === undefined) throw new Error(`no Kafka topic ${topic}`);
      topicIds.set(meta.id, topic);
      return { topicId: meta.id, partitions: parts.map((p) => ({ partition: p.partition, currentLeaderEpoch: -1, fetchOffset: BigInt(p.cache.nextFetch), lastFetchedEpoch: -1, partitionMaxBytes: 1 << 20 })) };
    });
    const node = metadata.topics.get([...byTopic.keys()][0]!)!.partitions[0]!.leader;
    const response = await this.#consumer.fetch({ node, topics, isolationLevel: READ_COMMITTED, maxWaitTime: this.#maxWaitMs, minBytes: 1, maxBytes: 8 << 20 }).catch((e: unknown) => {
      throw new Error(`fetching from ${[...byTopic.keys()].join(', ')}: ${kafkaErrorText(e)}`, { cause: e });
    });
    for (const t of response.responses) {
      const topic = topicIds.get(t.topicId)!;
      for (const p of t.partitions) {
        const cache = byTopic.get(topic)!.find((x) => x.partition === p.partitionIndex)!.cache;
        if (p.errorCode !== 0) throw new Error(`fetching ${topic}/${p.partitionIndex} at ${cache.nextFetch}: Kafka error code ${p.errorCode}`);
        let batches = (p.records ?? []) as unknown as FetchedPartition['batches'];
        if ((p.abortedTransactions?.length ?? 0) > 0) batches = await this.#unfilteredBatches(t.topicId, node, p.partitionIndex, cache.nextFetch, p.lastStableOffset);
        const { records, next } = committedRecords(topic, p.partitionIndex, { batches, abortedTransactions: p.abortedTransactions });
        // A batch may start before the fetch offset: keep what is at or after it.
        for (const r of records) if (r.offset >= cache.nextFetch) cache.records.push(r);
        if (next !== undefined && Number(next) > cache.nextFetch) cache.nextFetch = Number(next);
        cache.end = Number(p.lastStableOffset >= 0n ? p.lastStableOffset : p.highWatermark);
      }
    }
  }

  /**
   * The batches of a read_committed fetch, as the broker sent them. The
   * client filters a read_committed response itself before returning it,
   * and wrongly (@platformatic/kafka 2.12.1): per producer, it drops every
   * batch from the first offset of an aborted transaction it is told of to
   * that producer's last abort marker in the response — so a committed
   * transaction between two aborts of one producer is lost, when the later
   * abort has no records in the partition (a task's transaction killed after
   * registering its partitions and before writing, aborted by the next
   * owner's fencing). Where the broker lists aborted transactions, the
   * range from `from` to the last stable offset is read again
   * read_uncommitted, unfiltered, and {@link committedRecords} applies
   * Kafka's rule to it.
   */
  async #unfilteredBatches(topicId: string, node: number, partition: number, from: number, lastStable: bigint): Promise<FetchedPartition['batches']> {
    const end = lastStable - 1n;
    const out: FetchedBatch[] = [];
    for (let offset = BigInt(from); offset <= end; ) {
      const response = await this.#consumer.fetch({
        node,
        topics: [{ topicId, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, partitionMaxBytes: 1 << 20 }] }],
        isolationLevel: READ_UNCOMMITTED,
        maxWaitTime: 0,
        minBytes: 1,
        maxBytes: 8 << 20,
      });
      const batches = (response.responses[0]?.partitions.find((p) => p.partitionIndex === partition)?.records ?? []) as unknown as FetchedBatch[];
      const before = offset;
      for (const b of batches) {
        const lastOffset = b.firstOffset + BigInt(b.lastOffsetDelta);
        if (lastOffset >= offset && lastOffset <= end) out.push(b);
        if (lastOffset + 1n > offset) offset = lastOffset + 1n;
      }
      if (offset === before) throw new Error(`re-reading partition ${partition} of topic ${topicId} at ${offset}: no progress (up to ${end})`);
    }
    return out;
  }

  /**
   * Appends with the idempotent producer, in as many produce requests as
   * the topics' max.message.bytes need (in order; atomic per request, not
   * across them). A record too large for its topic even alone fails the
   * call before anything is sent.
   */
  async append(records: readonly AppendRecord[]): Promise<LogRecord[]> {
    for (const r of records) assertAppendable(r, this.#partitions.get(r.stream));
    if (records.length === 0) return [];
    const streams = [...new Set(records.map((r) => r.stream))];
    const messages = records.map(messageOf);
    const { requests, oversized } = splitIntoRequests(messages, await this.#limits(streams));
    if (oversized.length > 0) throw new Error(oversizedAppendText(oversized));
    const offsets: number[] = [];
    for (const [i, request] of requests.entries()) {
      const result = await this.#producer.send({ messages: request }).catch((e: unknown) => {
        const done = i === 0 ? '' : ` (the first ${offsets.length} records were appended)`;
        throw new Error(`appending ${records.length} records to ${streams.join(', ')}${done}: ${kafkaErrorText(e)}`, { cause: e });
      });
      offsets.push(...offsetsOf(request, result.offsets ?? []));
    }
    return records.map((r, i) => ({ ...r, headers: r.headers ?? {}, offset: offsets[i]!, brokerTime: null }));
  }

  /** The max.message.bytes of each of `topics` (read from the broker the first time a topic is written). */
  async #limits(topics: Iterable<string>): Promise<(topic: string) => number> {
    const missing = [...new Set(topics)].filter((t) => !this.#maxMessageBytes.has(t));
    if (missing.length > 0) {
      const read = await retryWhile(isRetriableKafkaError, METADATA_TIMEOUT_MS, () => describeMaxMessageBytes(this.#admin, missing)).catch((e: unknown) => {
        throw new Error(`reading max.message.bytes of ${missing.join(', ')}: ${kafkaErrorText(e)}`, { cause: e });
      });
      for (const [topic, limit] of read) this.#maxMessageBytes.set(topic, limit);
    }
    return (topic) => this.#maxMessageBytes.get(topic) ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  // ---------------------------------------------------------------------------
  // Task storage
  // ---------------------------------------------------------------------------

  /**
   * Creates the run's topics (outputs, internal streams, dead letters, and
   * the application's changelog, checkpoint and audit topics), reads the end
   * offsets of its inputs, and restores each of its tasks: the checkpoint,
   * the state and the audit, read to their ends under read_committed. Opens
   * each task's transactional producer, which fences any other process still
   * holding the task.
   */
  async prepare(plan: RunPlan): Promise<void> {
    const app = plan.applicationId;
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
    await this.#refreshEnds(plan.streams.map((s) => s.stream));
    // Known before the run, so that a task can tell an output record too large for its topic (tooLarge).
    await this.#limits(plan.streams.map((s) => s.stream));
    await this.acquireTasks(plan, plan.tasks);
  }

  /** An output record over its topic's max.message.bytes even in a batch of its own: the reason; undefined where it fits or the limit is not read yet. */
  tooLarge(record: AppendRecord): string | undefined {
    const limit = this.#maxMessageBytes.get(record.stream);
    if (limit === undefined) return undefined;
    const bytes = singleRecordBatchBytes(messageOf(record));
    return bytes > limit ? `${bytes} bytes as a Kafka record batch, over the max.message.bytes ${limit} of topic ${record.stream}` : undefined;
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
    await this.#refreshEnds(tasks.flatMap((t) => t.sources));
    // Fence first: a zombie's open transaction is aborted before the restore reads what was committed.
    await Promise.all(tasks.map((t) => this.#openTaskProducer(app, t.taskId)));
    await this.#restoreCheckpoints(app, new Set(tasks.map((t) => t.taskId)));
    for (const t of tasks) {
      this.#taskSources.set(`${app}/${t.taskId}`, { sources: t.sources, partition: t.partition });
      for (const store of t.stores) await this.#restoreState(app, t.taskId, store, kafkaTopics.changelog(app, store), t.partition);
    }
  }

  /**
   * Lets go of tasks that moved to another instance: closes their producers
   * (already fenced, or about to be), stops fetching their input partitions
   * and forgets their state and checkpoint, which are restored afresh if the
   * tasks come back.
   */
  async releaseTasks(applicationId: string, taskIds: readonly string[]): Promise<void> {
    for (const taskId of taskIds) {
      const key = `${applicationId}/${taskId}`;
      const producer = this.#taskProducers.get(key);
      this.#taskProducers.delete(key);
      await producer?.close().catch(() => undefined);
      this.#checkpoints.delete(key);
      for (const stateKey of [...this.#state.keys()]) if (stateKey.startsWith(`${key}/`)) this.#state.delete(stateKey);
      const read = this.#taskSources.get(key);
      this.#taskSources.delete(key);
      for (const stream of read?.sources ?? []) {
        const c = this.#cache(stream, read!.partition);
        c.records = [];
        c.start = undefined;
      }
    }
  }

  #subTopologyTasks(_id: number, sources: readonly string[], planned: ReadonlyMap<string, number>): number {
    const n = sources.map((s) => this.#partitions.get(s) ?? planned.get(s)).find((x) => x !== undefined);
    return n ?? 1;
  }

  /**
   * Refreshes the end offsets of `streams` once their writers have
   * committed (catch-up's stages, for internal streams): see {@link #settle}.
   */
  async refreshEnds(streams: readonly string[]): Promise<void> {
    await this.#settle(streams);
  }

  /**
   * Sets each partition's end to its last stable offset once that has
   * reached the log end seen at the call. A transaction's commit returns
   * before the broker has written its markers into every partition, and
   * until then the last stable offset stops short of the committed
   * records; so what was committed before this call is all below the ends
   * after it. Waits at most until the broker's transaction timeout would
   * have aborted any other writer's open transaction.
   */
  async #settle(streams: readonly string[]): Promise<void> {
    const topics = [...new Set(streams)].filter((s) => this.#partitions.has(s));
    if (topics.length === 0) return;
    const latest = await this.#listOffsets(topics, READ_UNCOMMITTED);
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    for (;;) {
      const stable = await this.#listOffsets(topics, READ_COMMITTED);
      const open = [...stable].flatMap(([topic, ends]) => ends.flatMap((end, p) => (end < (latest.get(topic)?.[p] ?? end) ? [`${topic}/${p}`] : [])));
      if (open.length === 0) {
        for (const [topic, ends] of stable) ends.forEach((end, p) => (this.#cache(topic, p).end = Number(end)));
        return;
      }
      if (Date.now() > deadline) throw new Error(`partitions ${open.join(', ')} still hold an open transaction after ${SETTLE_TIMEOUT_MS / 1000} s: another instance of the application is writing them`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The end offsets of every partition of `topics`: the last stable ones (read_committed), or the log ends. */
  async #listOffsets(topics: readonly string[], isolationLevel: typeof READ_COMMITTED | typeof READ_UNCOMMITTED): Promise<Map<string, bigint[]>> {
    return retryWhile(isRetriableKafkaError, METADATA_TIMEOUT_MS, () => this.#consumer.listOffsets({ topics: [...topics], isolationLevel })).catch((e: unknown) => {
      throw new Error(`listing the end offsets of ${topics.join(', ')}: ${kafkaErrorText(e)}`, { cause: e });
    });
  }

  async #refreshEnds(streams: readonly string[]): Promise<void> {
    const topics = [...new Set(streams)].filter((s) => this.#partitions.has(s));
    if (topics.length === 0) return;
    const offsets = await this.#listOffsets(topics, READ_COMMITTED);
    for (const [topic, ends] of offsets) ends.forEach((end, p) => (this.#cache(topic, p).end = Number(end)));
  }

  /** Reads a whole partition, committed records only, to its current end. */
  async #readAll(topic: string, partition: number): Promise<LogRecord[]> {
    await this.#settle([topic]);
    const c = this.#cache(topic, partition);
    const end = c.end;
    this.#seek(c, 0);
    const out: LogRecord[] = [];
    while (c.nextFetch < end) {
      const before = c.nextFetch;
      await this.#fetch([[`${topic}/${partition}`, c]]);
      out.push(...c.records);
      c.records = [];
      if (c.nextFetch === before) throw new Error(`reading ${topic}/${partition}: no progress at offset ${before} (end ${end})`);
    }
    c.start = undefined;
    return out;
  }

  /** Every record of `stream` committed before the call, one array per partition: to fingerprint or inspect it. */
  async readStream(stream: string): Promise<LogRecord[][]> {
    const partitions = this.#partitions.get(stream);
    if (partitions === undefined) throw new Error(`no Kafka topic ${stream}`);
    const out: LogRecord[][] = [];
    for (let p = 0; p < partitions; p++) out.push(await this.#readAll(stream, p));
    return out;
  }

  /** Reads the checkpoints of `tasks` and the whole audit log. */
  async #restoreCheckpoints(app: string, tasks: ReadonlySet<string>): Promise<void> {
    for (const task of tasks) this.#checkpoints.delete(`${app}/${task}`);
    for (const r of await this.#readAll(kafkaTopics.checkpoints(app), 0)) {
      if (r.key === null) continue;
      const task = decoder.decode(r.key);
      if (!tasks.has(task)) continue;
      if (r.value === null || r.value.byteLength === 0) this.#checkpoints.delete(`${app}/${task}`);
      else this.#checkpoints.set(`${app}/${task}`, JSON.parse(decoder.decode(r.value)) as TaskCheckpoint);
    }
    const audit: AuditEntry[] = [];
    for (const r of await this.#readAll(kafkaTopics.audit(app), 0)) if (r.value !== null) audit.push(...(JSON.parse(decoder.decode(r.value)) as AuditEntry[]));
    this.#audit.set(app, audit);
  }

  async #restoreState(app: string, taskId: string, store: string, topic: string, partition: number): Promise<void> {
    const state = new Map<string, Uint8Array>();
    for (const r of await this.#readAll(topic, partition)) {
      if (r.key === null) continue;
      const key = decoder.decode(r.key);
      if (r.value === null) state.delete(key);
      else state.set(key, r.value);
    }
    this.#state.set(`${app}/${taskId}/${store}`, state);
  }

  async #openTaskProducer(app: string, taskId: string): Promise<void> {
    const key = `${app}/${taskId}`;
    if (this.#taskProducers.has(key)) return;
    const producer = new Producer({ clientId: `${this.#clientId}-${taskId}`, bootstrapBrokers: [this.#bootstrap], transactionalId: `${app}-${taskId}`, producerId: -1n, producerEpoch: -1, idempotent: true, acks: -1, ...CLIENT_RETRIES });
    // An empty transaction registers the transactional id now, bumping its epoch: a zombie still holding the task is fenced before this one reads anything.
    // The coordinator answers CONCURRENT_TRANSACTIONS while it completes (or times out) the last owner's transaction: wait for it.
    await retryWhile(isRetriableKafkaError, TRANSACTION_INIT_TIMEOUT_MS, async () => {
      const tx = await producer.beginTransaction();
      await tx.cancel();
    }).catch((e: unknown) => {
      throw new Error(`opening the transactional producer of task ${taskId} (transactional id ${app}-${taskId}): ${kafkaErrorText(e)}`, { cause: e });
    });
    this.#taskProducers.set(key, producer);
  }

  readCheckpoint(applicationId: string, taskId: string): TaskCheckpoint | undefined {
    return this.#checkpoints.get(`${applicationId}/${taskId}`);
  }

  stateBackend(applicationId: string, taskId: string): StateBackend {
    const of = (store: string): Map<string, Uint8Array> => {
      const key = `${applicationId}/${taskId}/${store}`;
      let m = this.#state.get(key);
      if (m === undefined) this.#state.set(key, (m = new Map()));
      return m;
    };
    return {
      get: (store, key) => of(store).get(key),
      *entries(store, from = '', to = '\uffff') {
        const m = of(store);
        for (const k of [...m.keys()].filter((k) => k >= from && k < to).sort()) yield [k, m.get(k)!] as const;
      },
      count: (store) => of(store).size,
    };
  }

  /**
   * One transaction per task: outputs, changelog, checkpoint and audit, all
   * or nothing. Every unit is tried; when the only failures are tasks fenced
   * by a new owner, a {@link TaskMigratedError} names them (the others are
   * committed), else the first other error is thrown.
   */
  async commit(units: readonly CommitUnit[]): Promise<void> {
    const results = await Promise.allSettled(units.map((u) => this.#commitUnit(u)));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    const other = failures.find((e) => !(e instanceof TaskMigratedError));
    if (other !== undefined) throw other;
    if (failures.length > 0) throw new TaskMigratedError(failures.flatMap((e) => (e as TaskMigratedError).taskIds), { cause: failures[0] });
  }

  async #commitUnit(u: CommitUnit): Promise<void> {
    const producer = this.#taskProducers.get(`${u.applicationId}/${u.taskId}`);
    if (producer === undefined) throw new Error(`task ${u.taskId} of ${u.applicationId} was not prepared on Kafka`);
    const partition = Number(u.taskId.slice(u.taskId.indexOf('_') + 1));
    const checkpoints = kafkaTopics.checkpoints(u.applicationId);
    const auditTopic = kafkaTopics.audit(u.applicationId);
    const changes = u.stateWrites.map((w) => ({
      topic: kafkaTopics.changelog(u.applicationId, w.store),
      partition,
      key: Buffer.from(w.key, 'utf8'),
      value: w.value === null ? undefined : Buffer.from(w.value.buffer, w.value.byteOffset, w.value.byteLength),
    }));
    const limitOf = await this.#limits([...u.outputs.map((o) => o.stream), ...changes.map((c) => c.topic), checkpoints, ...(u.audit.length > 0 ? [auditTopic] : [])]);
    const messages: OutgoingMessage[] = [
      ...u.outputs.map(messageOf),
      ...changes,
      { topic: checkpoints, partition: 0, key: Buffer.from(u.taskId, 'utf8'), value: Buffer.from(JSON.stringify(u.checkpoint), 'utf8') },
      ...auditRecords(auditTopic, u.taskId, u.audit, limitOf(auditTopic)),
    ];
    // The transaction is as large as the commit; each produce request in it is as large as the topics allow.
    const { requests, oversized } = splitIntoRequests(messages, limitOf);
    if (oversized.length > 0) throw new Error(oversizedCommitText(u, this.#checkpoints.get(`${u.applicationId}/${u.taskId}`), checkpoints, oversized));
    const written: { topic: string; partition: number; end: number }[] = [];
    let tx: Awaited<ReturnType<Producer['beginTransaction']>> | undefined;
    try {
      tx = await producer.beginTransaction();
      for (const request of requests) {
        const offsets = offsetsOf(request, (await tx.send({ messages: request })).offsets ?? []);
        request.forEach((m, i) => written.push({ topic: m.topic, partition: m.partition, end: offsets[i]! + 1 }));
      }
      await tx.commit();
    } catch (e) {
      await tx?.abort().catch(() => undefined);
      // Fenced, or caught in the fencing: either way the task's work since its last commit may be void,
      // and only a restore from what is committed (by the new owner, or by this process again) is safe.
      if (isFencedKafkaError(e) || isFencingRaceKafkaError(e)) throw new TaskMigratedError([u.taskId], { cause: e });
      // A topic's limit may have been lowered meanwhile: read it again next time.
      for (const m of messages) this.#maxMessageBytes.delete(m.topic);
      throw new Error(`committing the transaction of task ${u.taskId} (${messages.length} records in ${requests.length} produce requests to ${[...new Set(messages.map((m) => m.topic))].join(', ')}): ${kafkaErrorText(e)}`, { cause: e });
    }
    for (const o of written) {
      const c = this.#cache(o.topic, o.partition);
      c.committedEnd = Math.max(c.committedEnd, o.end);
    }
    // Committed: the task's own view of its state and checkpoint moves on.
    for (const w of u.stateWrites) {
      const m = this.#state.get(`${u.applicationId}/${u.taskId}/${w.store}`) ?? new Map<string, Uint8Array>();
      this.#state.set(`${u.applicationId}/${u.taskId}/${w.store}`, m);
      if (w.value === null) m.delete(w.key);
      else m.set(w.key, w.value);
    }
    this.#checkpoints.set(`${u.applicationId}/${u.taskId}`, u.checkpoint);
    if (u.audit.length > 0) this.#audit.set(u.applicationId, [...(this.#audit.get(u.applicationId) ?? []), ...u.audit]);
  }

  readAudit(applicationId: string): AuditEntry[] {
    return [...(this.#audit.get(applicationId) ?? [])];
  }

  resetApplication(applicationId: string): void {
    throw new Error(`resetting ${applicationId} on Kafka: delete its topics (${kafkaTopics.checkpoints(applicationId)}, ${kafkaTopics.audit(applicationId)}, its changelogs) with the admin tools`);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#fetching;
    for (const p of this.#taskProducers.values()) await p.close();
    await this.#producer.close();
    await this.#consumer.close();
    await this.#admin.close();
  }
}

