/**
 * `KafkaLog.append` through a broker's failure, exactly once: per-partition
 * record batches under tidemark's own idempotent producer id, epoch and
 * sequence numbers (KIP-98), each resent — to the partition's leader of
 * fresh metadata — until acknowledged.
 *
 * Why not the client's producer: its retries of a produce refresh the
 * metadata only after the first stale-leader error and then go to the same
 * dead leader (NOT_LEADER_OR_FOLLOWER until they run out), and after a
 * failed send its idempotent producer drops its sequence numbers, so a
 * resend of the failed records could be written twice
 * (docs/kafka-clients.md). Here a batch keeps its sequence numbers until it
 * is acknowledged: if an earlier attempt did reach the log, the leader
 * recognises the resend as a duplicate and answers with the first
 * attempt's offset.
 *
 * @module
 */
import { kGetApi, kGetConnection, type API, type Broker, type Connection, type Producer } from '@platformatic/kafka';
import type { OutgoingMessage } from './kafka-batch-limits.ts';
import { isTransientKafkaError, NoLeaderError } from './kafka-routing.ts';
import { CLIENT_RETRIES } from './kafka-client.ts';
import type { TopicCatalog } from './kafka-topics.ts';

/** How long a batch is resent through a failover before the append fails: an election and a broker restart fit. */
export const APPEND_RETRY_MS = 60_000;
const ACKS_ALL = -1;

/**
 * Rule (append resend): an unacknowledged batch is sent again, with the
 * same sequence numbers, after a transient failure ({@link isTransientKafkaError})
 * within `budgetMs` since the append began; anything else fails the append.
 */
export function isResendable(e: unknown, elapsedMs: number, budgetMs = APPEND_RETRY_MS): boolean {
  return elapsedMs < budgetMs && isTransientKafkaError(e);
}

interface Identity {
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

/** One partition's records of a request, and the sequence number of the first. */
interface Batch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: OutgoingMessage[];
  readonly firstSequence: number;
}

type ProduceApi = API<[number, number, OutgoingMessage[], Record<string, unknown>], { responses: { partitionResponses: { baseOffset: bigint }[] }[] }>;

/**
 * The appending side of a {@link KafkaLog}: requests sent one after the
 * other (an append waits for the one before), each request's partition
 * batches at once, each resent until acknowledged.
 */
export class KafkaAppender {
  readonly #producer: Producer;
  readonly #topics: TopicCatalog;
  #identity: Identity | undefined;
  /** The next sequence number of each `topic/partition` under {@link #identity}. */
  readonly #sequences = new Map<string, number>();
  #queue: Promise<unknown> = Promise.resolve();

  /** @param producer an idempotent producer: its InitProducerId, connections and API versions are used, not its send. */
  constructor(producer: Producer, topics: TopicCatalog) {
    this.#producer = producer;
    this.#topics = topics;
  }

  /**
   * Sends `requests` in order; resolves with the base offset of each
   * partition batch of each request. A failure's error carries
   * `appendedRequests`: how many requests before it were appended.
   */
  async send(requests: readonly (readonly OutgoingMessage[])[]): Promise<{ topic: string; partition: number; offset: bigint }[][]> {
    const run = this.#queue.then(() => this.#sendAll(requests));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #sendAll(requests: readonly (readonly OutgoingMessage[])[]): Promise<{ topic: string; partition: number; offset: bigint }[][]> {
    const out: { topic: string; partition: number; offset: bigint }[][] = [];
    for (const [i, request] of requests.entries()) {
      try {
        const identity = await this.#identityNow();
        const batches = this.#batches(request);
        out.push(await Promise.all(batches.map(async (b) => ({ topic: b.topic, partition: b.partition, offset: await this.#sendBatch(identity, b) }))));
      } catch (e) {
        // Which of this request's batches reached the log is unknown now: a new producer id starts from sequence 0 everywhere.
        this.#identity = undefined;
        this.#sequences.clear();
        throw Object.assign(e instanceof Error ? e : new Error(String(e)), { appendedRequests: i });
      }
    }
    return out;
  }

  async #identityNow(): Promise<Identity> {
    if (this.#identity !== undefined) return this.#identity;
    const started = Date.now();
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        const info = await this.#producer.initIdempotentProducer({});
        this.#identity = { producerId: info.producerId, producerEpoch: info.producerEpoch };
        this.#sequences.clear();
        return this.#identity;
      } catch (e) {
        if (!isResendable(e, Date.now() - started + delay)) throw e;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** The request's records by partition, in order, each batch numbered on from the partition's last. */
  #batches(request: readonly OutgoingMessage[]): Batch[] {
    const by = new Map<string, OutgoingMessage[]>();
    for (const m of request) {
      const key = `${m.topic}/${m.partition}`;
      const list = by.get(key) ?? [];
      // A copy: the client's request encoder stamps a timestamp on each message, the same on every resend.
      list.push({ ...m });
      by.set(key, list);
    }
    return [...by.entries()].map(([key, messages]) => {
      const firstSequence = this.#sequences.get(key) ?? 0;
      // Kafka's sequence numbers wrap at 2^31 - 1.
      this.#sequences.set(key, (firstSequence + messages.length) % 2 ** 31);
      return { topic: messages[0]!.topic, partition: messages[0]!.partition, messages, firstSequence };
    });
  }

  /** Sends one partition's batch to its leader until acknowledged, on fresh metadata after each transient failure: its base offset. */
  async #sendBatch(identity: Identity, b: Batch): Promise<bigint> {
    const started = Date.now();
    const options = { ...identity, compression: 'none', sequences: { getWithDefault: () => b.firstSequence } };
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        const metadata = this.#topics.metadata;
        const leader = metadata?.topics.get(b.topic)?.partitions[b.partition]?.leader ?? -1;
        const broker = metadata?.brokers.get(leader);
        if (broker === undefined) throw new NoLeaderError(`${b.topic}/${b.partition} has no leader in the metadata (${leader < 0 ? 'an election' : `broker ${leader} unknown`})`);
        const connection = await this.#connection(broker);
        const api = await this.#produceApi();
        const response = await api.async(connection, ACKS_ALL, CLIENT_RETRIES.timeout, b.messages, options);
        const offset = response.responses[0]?.partitionResponses[0]?.baseOffset;
        if (offset === undefined) throw new Error(`the produce response for ${b.topic}/${b.partition} names no partition`);
        return offset;
      } catch (e) {
        if (!isResendable(e, Date.now() - started + delay)) throw e;
        await new Promise((r) => setTimeout(r, delay));
        // The leader may have moved, or its broker be gone: ask again (the reader does the same, kafka-reader.ts).
        await this.#topics.refresh([b.topic]).catch(() => undefined);
      }
    }
  }

  #connection(broker: Broker): Promise<Connection> {
    return new Promise((resolve, reject) => this.#producer[kGetConnection](broker, (e, c) => (e !== null && e !== undefined ? reject(e) : resolve(c!))));
  }

  #produceApi(): Promise<ProduceApi> {
    return new Promise((resolve, reject) => this.#producer[kGetApi]('Produce', (e, api) => (e !== null && e !== undefined ? reject(e) : resolve(api as unknown as ProduceApi))));
  }
}
