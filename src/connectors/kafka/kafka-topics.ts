import type { Admin, Consumer, ClusterMetadata } from '@platformatic/kafka';
import type { AppendRecord } from '../../runtime/log.ts';
import { messageOf } from './kafka-records.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, describeMaxMessageBytes, singleRecordBatchBytes } from './kafka-batch-limits.ts';
import { isRetriableKafkaError, kafkaErrorText, retryWhile, topicCreationError } from './kafka-errors.ts';
import { METADATA_TIMEOUT_MS } from './kafka-client.ts';
import { isTransientKafkaError } from './kafka-routing.ts';

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

/** How durable the topics tidemark creates are (the options of the same names of `KafkaLogOptions`). */
export interface TopicDurability {
  /** Replicas of each partition; -1, the default, is the broker's `default.replication.factor` (CreateTopics v4+, Kafka 2.4+). */
  readonly replicationFactor?: number;
  /** The topic's `min.insync.replicas`; absent, the default, is the broker's. */
  readonly minInsyncReplicas?: number;
}

/** Checks the durability options: a RangeError naming the option, before anything is created. */
export function checkTopicDurability(d: TopicDurability): TopicDurability {
  const rf = d.replicationFactor ?? -1;
  if (!Number.isSafeInteger(rf) || (rf < 1 && rf !== -1)) throw new RangeError(`replicationFactor must be a positive integer or -1 (the broker's default), got ${String(d.replicationFactor)}`);
  const isr = d.minInsyncReplicas;
  if (isr !== undefined && (!Number.isSafeInteger(isr) || isr < 1)) throw new RangeError(`minInsyncReplicas must be a positive integer, got ${String(isr)}`);
  // acks=all writes would then always fail with NOT_ENOUGH_REPLICAS: refuse it up front.
  if (isr !== undefined && rf !== -1 && isr > rf) throw new RangeError(`minInsyncReplicas ${isr} is more than replicationFactor ${rf}: no write could ever be acknowledged`);
  return { replicationFactor: rf, ...(isr === undefined ? {} : { minInsyncReplicas: isr }) };
}

/**
 * What a {@link KafkaLog} knows of the broker's topics: their metadata and
 * partition counts, their creation, and each one's max.message.bytes.
 */
export class TopicCatalog {
  readonly #admin: Admin;
  /** The admin of the DescribeConfigs reads: few retries of its own (see {@link limits}). */
  readonly #configAdmin: Admin;
  readonly #consumer: Consumer;
  readonly #bootstrap: string;
  readonly #replicas: number;
  readonly #configs: readonly { name: string; value: string }[];
  #metadata: ClusterMetadata | undefined;
  readonly #partitions = new Map<string, number>();
  /** Each topic's effective max.message.bytes, read once (DescribeConfigs): the largest record batch its partitions take. */
  readonly #maxMessageBytes = new Map<string, number>();

  /**
   * @param configAdmin the client of the max.message.bytes reads, with few retries of its own (FETCH_RETRIES in kafka-client.ts)
   * @param bootstrap the bootstrap option as given, for messages; @param durability already checked ({@link checkTopicDurability}).
   */
  constructor(admin: Admin, configAdmin: Admin, consumer: Consumer, bootstrap: string, durability: TopicDurability = {}) {
    this.#admin = admin;
    this.#configAdmin = configAdmin;
    this.#consumer = consumer;
    this.#bootstrap = bootstrap;
    this.#replicas = durability.replicationFactor ?? -1;
    const isr = durability.minInsyncReplicas;
    this.#configs = [LOG_APPEND_TIME, ...(isr === undefined ? [] : [{ name: 'min.insync.replicas', value: String(isr) }])];
  }

  /** The metadata last read (undefined before any topic was seen). */
  get metadata(): ClusterMetadata | undefined {
    return this.#metadata;
  }

  /**
   * Reloads the metadata of `topics` (merged into what is known of the
   * others: the brokers and these topics' leaders are new), or of every
   * topic but Kafka's own.
   */
  async refresh(topics?: readonly string[]): Promise<void> {
    // A topic being created or deleted meanwhile answers with a retriable error for a moment.
    await retryWhile(isRetriableKafkaError, METADATA_TIMEOUT_MS, async () => {
      const names = topics ?? (await this.#admin.listTopics()).filter((t) => !t.startsWith('__'));
      if (names.length === 0) return;
      const fresh = await this.#consumer.metadata({ topics: [...names], forceUpdate: true });
      const known = topics === undefined ? undefined : this.#metadata;
      this.#metadata = known === undefined ? fresh : { ...fresh, topics: new Map([...known.topics, ...fresh.topics]) };
      for (const [name, t] of fresh.topics) this.#partitions.set(name, t.partitionsCount);
    }).catch((e: unknown) => {
      throw new Error(`reading Kafka's metadata${topics === undefined ? '' : ` of ${topics.join(', ')}`} from ${this.#bootstrap}: ${kafkaErrorText(e)}`, { cause: e });
    });
  }

  ensureStream(stream: string, partitions: number): void {
    const existing = this.#partitions.get(stream);
    if (existing === undefined) throw new Error(`stream ${stream} does not exist on Kafka yet: create it with createStreams() (a run's prepare() does)`);
    if (existing !== partitions) throw new Error(`stream ${stream} exists with ${existing} partitions, not ${partitions}`);
  }

  /**
   * Creates the topics that do not exist yet (LogAppendTime; `compact` where
   * asked; the replication factor and min.insync.replicas of the log's
   * options), and waits for their metadata. Topics that exist are left as
   * they are.
   */
  async createStreams(streams: readonly { stream: string; partitions: number; compact?: boolean }[]): Promise<void> {
    await this.refresh();
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
        const topics = group.map((s) => ({ topic: s.stream, partitions: s.partitions, replicas: this.#replicas }));
        await this.#admin.createTopics({ topics, configs: compact ? [...this.#configs, COMPACT] : [...this.#configs] });
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
        await this.refresh([...new Set([...this.#partitions.keys(), ...topics])]);
        const ready = topics.every((t) => this.#metadata?.topics.get(t)?.partitions.every((p) => p.leader >= 0));
        if (ready) return;
      } catch (e) {
        if (attempt > 50) throw e;
      }
      if (attempt > 50) throw new Error(`topics ${topics.join(', ')} were created but have no leader after 10 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  partitionCount(stream: string): number | undefined {
    return this.#partitions.get(stream);
  }

  streams(): string[] {
    return [...this.#partitions.keys()].sort();
  }

  /**
   * The max.message.bytes of each of `topics`, read from the broker the
   * first time (a run's prepare reads those of every topic it writes).
   * The client's DescribeConfigs retries on the one connection it took
   * first, even once that broker is dead (docs/kafka-clients.md): its own
   * retries are few, and the read is tried again here, each time on a
   * connection taken afresh.
   */
  async limits(topics: Iterable<string>): Promise<(topic: string) => number> {
    const missing = [...new Set(topics)].filter((t) => !this.#maxMessageBytes.has(t));
    if (missing.length > 0) {
      const read = await retryWhile(isTransientKafkaError, METADATA_TIMEOUT_MS, () => describeMaxMessageBytes(this.#configAdmin, missing)).catch((e: unknown) => {
        throw new Error(`reading max.message.bytes of ${missing.join(', ')}: ${kafkaErrorText(e)}`, { cause: e });
      });
      for (const [topic, limit] of read) this.#maxMessageBytes.set(topic, limit);
    }
    return (topic) => this.#maxMessageBytes.get(topic) ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Forgets the max.message.bytes of `topics`: read again the next time they are written. */
  forgetLimits(topics: Iterable<string>): void {
    for (const topic of topics) this.#maxMessageBytes.delete(topic);
  }

  /** An output record over its topic's max.message.bytes even in a batch of its own: the reason; undefined where it fits or the limit is not read yet. */
  tooLarge(record: AppendRecord): string | undefined {
    const limit = this.#maxMessageBytes.get(record.stream);
    if (limit === undefined) return undefined;
    const bytes = singleRecordBatchBytes(messageOf(record));
    return bytes > limit ? `${bytes} bytes as a Kafka record batch, over the max.message.bytes ${limit} of topic ${record.stream}` : undefined;
  }
}
