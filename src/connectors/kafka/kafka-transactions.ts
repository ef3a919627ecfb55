import { Producer } from '@platformatic/kafka';
import type { CommitUnit } from '../../runtime/log.ts';
import { TaskMigratedError } from '../../runtime/task-group.ts';
import { parseTaskId, producerIdOf } from '../../runtime/ids.ts';
import { messageOf } from './kafka-records.ts';
import { auditRecords, offsetsOf, oversizedCommitText, splitIntoRequests, type OutgoingMessage } from './kafka-batch-limits.ts';
import { isFencedKafkaError, isFencingRaceKafkaError, isRetriableKafkaError, kafkaErrorText, retryWhile } from './kafka-errors.ts';
import type { clientConnection } from './kafka-client.ts';
import { kafkaTopics, type TopicCatalog } from './kafka-topics.ts';
import { isTransientKafkaError } from './kafka-routing.ts';
import { TASK_PRODUCER_RETRIES, TRANSACTION_TIMEOUT_MS, commitWithRetries } from './kafka-commit-retry.ts';
import type { KafkaReader } from './kafka-reader.ts';
import type { KafkaTaskStore } from './kafka-task-store.ts';

/** How long a new owner of a task waits for the transaction of the last one to end (its abort or commit markers). */
const TRANSACTION_INIT_TIMEOUT_MS = 60_000;

/**
 * The tasks' transactional producers and their commits: the transactional
 * id is the task's, so opening a task's producer fences any other process
 * still holding it, and each commit is one Kafka transaction per task.
 */
export class KafkaTransactions {
  readonly #clientId: string;
  readonly #bootstrapBrokers: readonly string[];
  /** Retries, TLS and SASL, as every client of the log has them. */
  readonly #connection: ReturnType<typeof clientConnection>;
  readonly #topics: TopicCatalog;
  readonly #reader: KafkaReader;
  readonly #store: KafkaTaskStore;
  /** By producer id (`application/task`). */
  readonly #taskProducers = new Map<string, Producer>();

  constructor(options: { clientId: string; bootstrapBrokers: readonly string[]; connection: ReturnType<typeof clientConnection>; topics: TopicCatalog; reader: KafkaReader; store: KafkaTaskStore }) {
    this.#clientId = options.clientId;
    this.#bootstrapBrokers = options.bootstrapBrokers;
    this.#connection = options.connection;
    this.#topics = options.topics;
    this.#reader = options.reader;
    this.#store = options.store;
  }

  /** Opens the task's transactional producer (unless open): fences its last owner and waits for that one's open transaction to end. */
  async openTaskProducer(app: string, taskId: string): Promise<void> {
    const key = producerIdOf(app, taskId);
    if (this.#taskProducers.has(key)) return;
    // Few retries of its own (a commit is retried on fresh metadata, kafka-commit-retry.ts), and a transaction timeout longer than those retries.
    const producer = new Producer({ clientId: `${this.#clientId}-${taskId}`, bootstrapBrokers: [...this.#bootstrapBrokers], transactionalId: `${app}-${taskId}`, producerId: -1n, producerEpoch: -1, idempotent: true, acks: -1, ...this.#connection, ...TASK_PRODUCER_RETRIES, timeout: TRANSACTION_TIMEOUT_MS });
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

  /** Closes the task's producer (already fenced, or about to be). */
  async release(app: string, taskId: string): Promise<void> {
    const key = producerIdOf(app, taskId);
    const producer = this.#taskProducers.get(key);
    this.#taskProducers.delete(key);
    await producer?.close().catch(() => undefined);
  }

  /** See {@link KafkaLog.commit}. */
  async commit(units: readonly CommitUnit[]): Promise<void> {
    const results = await Promise.allSettled(units.map((u) => this.#commitUnit(u)));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    const other = failures.find((e) => !(e instanceof TaskMigratedError));
    if (other !== undefined) throw other;
    if (failures.length > 0) throw new TaskMigratedError(failures.flatMap((e) => (e as TaskMigratedError).taskIds), { cause: failures[0] });
  }

  async #commitUnit(u: CommitUnit): Promise<void> {
    if (!this.#taskProducers.has(producerIdOf(u.applicationId, u.taskId))) throw new Error(`task ${u.taskId} of ${u.applicationId} was not prepared on Kafka`);
    const { partition } = parseTaskId(u.taskId);
    const checkpoints = kafkaTopics.checkpoints(u.applicationId);
    const auditTopic = kafkaTopics.audit(u.applicationId);
    const changes = u.stateWrites.map((w) => ({
      topic: kafkaTopics.changelog(u.applicationId, w.store),
      partition,
      key: Buffer.from(w.key, 'utf8'),
      value: w.value === null ? undefined : Buffer.from(w.value.buffer, w.value.byteOffset, w.value.byteLength),
    }));
    const limitOf = await this.#topics.limits([...u.outputs.map((o) => o.stream), ...changes.map((c) => c.topic), checkpoints, ...(u.audit.length > 0 ? [auditTopic] : [])]);
    const messages: OutgoingMessage[] = [
      ...u.outputs.map(messageOf),
      ...changes,
      { topic: checkpoints, partition: 0, key: Buffer.from(u.taskId, 'utf8'), value: Buffer.from(JSON.stringify(u.checkpoint), 'utf8') },
      ...auditRecords(auditTopic, u.taskId, u.audit, limitOf(auditTopic)),
    ];
    // The transaction is as large as the commit; each produce request in it is as large as the topics allow.
    const { requests, oversized } = splitIntoRequests(messages, limitOf);
    if (oversized.length > 0) throw new Error(oversizedCommitText(u, this.#store.readCheckpoint(u.applicationId, u.taskId), checkpoints, oversized));
    const written: { topic: string; partition: number; end: number }[] = [];
    let tx: Awaited<ReturnType<Producer['beginTransaction']>> | undefined;
    const key = producerIdOf(u.applicationId, u.taskId);
    try {
      // Through a broker's failure the unit is sent again in a new transaction, or only its commit is (kafka-commit-retry.ts).
      await commitWithRetries({
        send: async () => {
          written.length = 0;
          const producer = this.#taskProducers.get(key)!;
          // After a reset its new transaction is open already.
          tx = producer.transaction ?? (await producer.beginTransaction());
          for (const request of requests) {
            const offsets = offsetsOf(request, (await tx.send({ messages: request })).offsets ?? []);
            request.forEach((m, i) => written.push({ topic: m.topic, partition: m.partition, end: offsets[i]! + 1 }));
          }
        },
        commit: async () => tx!.commit(),
        reset: async () => {
          const producer = this.#taskProducers.get(key)!;
          await producer.transaction?.cancel();
          tx = await producer.beginTransaction();
          // InitProducerId with the producer's own id and epoch (KIP-360) bumps the epoch, which aborts the open
          // transaction and starts the sequence numbers afresh — or is refused (fenced) if another instance took the
          // task meanwhile. A producer opened anew would fence that owner instead, and commit work it has redone.
          await producer.initIdempotentProducer({ producerId: producer.producerId, producerEpoch: producer.producerEpoch });
        },
      });
    } catch (e) {
      await tx?.abort().catch(() => undefined);
      // Fenced, or caught in the fencing: either way the task's work since its last commit may be void,
      // and only a restore from what is committed (by the new owner, or by this process again) is safe.
      if (isFencedKafkaError(e) || isFencingRaceKafkaError(e)) throw new TaskMigratedError([u.taskId], { cause: e });
      // A topic's limit may have been lowered meanwhile: read it again next time (not after a failover: the limits stand).
      if (!isTransientKafkaError(e)) this.#topics.forgetLimits(messages.map((m) => m.topic));
      throw new Error(`committing the transaction of task ${u.taskId} (${messages.length} records in ${requests.length} produce requests to ${[...new Set(messages.map((m) => m.topic))].join(', ')}): ${kafkaErrorText(e)}`, { cause: e });
    }
    for (const o of written) this.#reader.noteCommitted(o.topic, o.partition, o.end);
    this.#store.applyCommit(u, written);
  }

  /** Closes every task's producer. */
  async close(): Promise<void> {
    for (const p of this.#taskProducers.values()) await p.close();
  }
}
