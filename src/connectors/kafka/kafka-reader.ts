import type { Consumer } from '@platformatic/kafka';
import type { LogRecord } from '../../records/record.ts';
import { committedRecords, listedUpTo, type FetchedBatch, type FetchedPartition } from './kafka-records.ts';
import { kafkaErrorText, retryWhile } from './kafka-errors.ts';
import { FETCH_RETRY_TIMEOUT_MS, METADATA_TIMEOUT_MS } from './kafka-client.ts';
import { NoLeaderError, brokerText, byLeader, isStaleRouteError } from './kafka-routing.ts';
import type { TopicCatalog } from './kafka-topics.ts';

const READ_UNCOMMITTED = 0;
const READ_COMMITTED = 1;
/** Longer than the task producers' transaction timeout (70 s, kafka-commit-retry.ts), after which the broker aborts an open transaction. */
const SETTLE_TIMEOUT_MS = 80_000;

/** A partition to fetch, and its cache. */
interface Wanted {
  readonly topic: string;
  readonly partition: number;
  readonly cache: PartitionCache;
}

/**
 * What is known of one partition being read: every offset in
 * `[start, nextFetch)` was fetched, and its data records not yet read past
 * are in `records`.
 */
export interface PartitionCache {
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
 * The reading side of a {@link KafkaLog}: raw fetches under read_committed,
 * done ahead in the background and served to the (synchronous) runtime from
 * a cache per partition, with each partition's last stable offset as its end.
 */
export class KafkaReader {
  readonly #consumer: Consumer;
  readonly #fetcher: Consumer;
  readonly #topics: TopicCatalog;
  readonly #maxWaitMs: number;
  readonly #caches = new Map<string, PartitionCache>();
  #fetching: Promise<void> | undefined;
  #fetchError: unknown;
  #closed = false;

  /** @param fetcher the client of the raw fetches, with few retries of its own (FETCH_RETRIES in kafka-client.ts). */
  constructor(consumer: Consumer, fetcher: Consumer, topics: TopicCatalog, maxWaitMs: number) {
    this.#consumer = consumer;
    this.#fetcher = fetcher;
    this.#topics = topics;
    this.#maxWaitMs = maxWaitMs;
  }

  #cache(stream: string, partition: number): PartitionCache {
    const key = `${stream}/${partition}`;
    let c = this.#caches.get(key);
    if (c === undefined) {
      c = { records: [], start: undefined, nextFetch: 0, end: 0, committedEnd: 0 };
      this.#caches.set(key, c);
    }
    return c;
  }

  /** See {@link KafkaLog.endOffset}. */
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

  /** Records that this process committed `stream/partition` up to `end` (exclusive): see {@link KafkaLog.endOffset}. */
  noteCommitted(stream: string, partition: number, end: number): void {
    const c = this.#cache(stream, partition);
    c.committedEnd = Math.max(c.committedEnd, end);
  }

  /** Stops fetching `stream/partition` and drops what was fetched of it. */
  stopReading(stream: string, partition: number): void {
    const c = this.#cache(stream, partition);
    c.records = [];
    c.start = undefined;
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

  /**
   * One Fetch per leader of the wanted partitions, concurrently. Where a
   * broker answers that it does not lead a partition (any more), is not in
   * the metadata, or cannot be reached, the metadata of those partitions'
   * topics is read again and their fetch resent to the leaders it names,
   * until {@link FETCH_RETRY_TIMEOUT_MS} has passed; what the other brokers
   * sent meanwhile is kept.
   */
  async #fetch(wanted: [string, PartitionCache][]): Promise<void> {
    let pending: Wanted[] = wanted.map(([key, cache]) => {
      const slash = key.lastIndexOf('/');
      return { topic: key.slice(0, slash), partition: Number(key.slice(slash + 1)), cache };
    });
    const deadline = Date.now() + FETCH_RETRY_TIMEOUT_MS;
    for (let attempt = 1, delay = 100; ; attempt++, delay = Math.min(delay * 2, 1000)) {
      const groups = [...byLeader(this.#topics.metadata!, pending)];
      const results = await Promise.allSettled(groups.map(([node, parts]) => this.#fetchFrom(node, parts)));
      const failed: { node: number; parts: Wanted[]; error: unknown }[] = [];
      results.forEach((r, i) => {
        if (r.status === 'rejected') failed.push({ node: groups[i]![0], parts: groups[i]![1], error: r.reason });
      });
      if (failed.length === 0) return;
      const fatal = failed.find((f) => !isStaleRouteError(f.error)) ?? (Date.now() + delay > deadline ? failed[0] : undefined);
      if (fatal !== undefined) {
        const tried = fatal === failed[0] && isStaleRouteError(fatal.error) ? ` (${attempt} attempts in ${Math.round(FETCH_RETRY_TIMEOUT_MS / 1000)} s, the metadata read again before each)` : '';
        throw new Error(`fetching ${fatal.parts.map((p) => `${p.topic}/${p.partition}`).join(', ')} from ${brokerText(this.#topics.metadata, fatal.node)}${tried}: ${kafkaErrorText(fatal.error)}`, { cause: fatal.error });
      }
      await new Promise((r) => setTimeout(r, delay));
      pending = failed.flatMap((f) => f.parts);
      // The fetching client's own broker list is read again too: a broker it does not know cannot be fetched from.
      this.#fetcher.clearMetadata();
      await this.#topics.refresh([...new Set(pending.map((p) => p.topic))]).catch(() => undefined); // still failing: the next round tells
    }
  }

  /** One Fetch of `parts` from their leader `node`, its records into their caches. */
  async #fetchFrom(node: number, parts: readonly Wanted[]): Promise<void> {
    const metadata = this.#topics.metadata!;
    if (node < 0 || !metadata.brokers.has(node)) throw new NoLeaderError(`no leader known for ${parts.map((p) => `${p.topic}/${p.partition}`).join(', ')}${node < 0 ? '' : ` (broker ${node} is not in the metadata)`}`);
    const byTopic = new Map<string, Wanted[]>();
    for (const p of parts) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
    const topicIds = new Map<string, string>();
    const topics = [...byTopic].map(([topic, list]) => {
      const meta = metadata.topics.get(topic)!;
      topicIds.set(meta.id, topic);
      return { topicId: meta.id, partitions: list.map((p) => ({ partition: p.partition, currentLeaderEpoch: -1, fetchOffset: BigInt(p.cache.nextFetch), lastFetchedEpoch: -1, partitionMaxBytes: 1 << 20 })) };
    });
    // Where each partition's fetch starts: a read that moves the cache meanwhile makes the answer stale.
    const requested = new Map(parts.map((p) => [p.cache, p.cache.nextFetch]));
    const response = await this.#fetcher.fetch({ node, topics, isolationLevel: READ_COMMITTED, maxWaitTime: this.#maxWaitMs, minBytes: 1, maxBytes: 8 << 20 });
    for (const t of response.responses) {
      const topic = topicIds.get(t.topicId)!;
      for (const p of t.partitions) {
        const cache = byTopic.get(topic)!.find((x) => x.partition === p.partitionIndex)!.cache;
        const from = requested.get(cache)!;
        if (p.errorCode !== 0) throw new Error(`fetching ${topic}/${p.partitionIndex} at ${from}: Kafka error code ${p.errorCode}`);
        let batches = (p.records ?? []) as unknown as FetchedPartition['batches'];
        if ((p.abortedTransactions?.length ?? 0) > 0) batches = await this.#unfilteredBatches(t.topicId, node, p.partitionIndex, from, listedUpTo(batches, p.lastStableOffset));
        cache.end = Number(p.lastStableOffset >= 0n ? p.lastStableOffset : p.highWatermark);
        if (isStaleFetch(cache, from)) continue;
        const { records, next } = committedRecords(topic, p.partitionIndex, { batches, abortedTransactions: p.abortedTransactions });
        // A batch may start before the fetch offset: keep what is at or after it.
        for (const r of records) if (r.offset >= cache.nextFetch) cache.records.push(r);
        if (next !== undefined && Number(next) > cache.nextFetch) cache.nextFetch = Number(next);
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
   * range from `from` to `upTo` (exclusive) is read again
   * read_uncommitted, unfiltered, and {@link committedRecords} applies
   * Kafka's rule to it — from `node`, the partition's leader the first
   * fetch went to (a leader moved meanwhile fails the round, resent).
   */
  async #unfilteredBatches(topicId: string, node: number, partition: number, from: number, upTo: bigint): Promise<FetchedPartition['batches']> {
    const end = upTo - 1n;
    const out: FetchedBatch[] = [];
    for (let offset = BigInt(from); offset <= end; ) {
      const response = await this.#fetcher.fetch({
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
   * Sets each partition's end to its last stable offset once that has
   * reached the log end seen at the call. A transaction's commit returns
   * before the broker has written its markers into every partition, and
   * until then the last stable offset stops short of the committed
   * records; so what was committed before this call is all below the ends
   * after it. Waits at most until the broker's transaction timeout would
   * have aborted any other writer's open transaction.
   */
  async settle(streams: readonly string[]): Promise<void> {
    const topics = [...new Set(streams)].filter((s) => this.#topics.partitionCount(s) !== undefined);
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
    // The client sends one ListOffsets per leader; after a stale leader's answer, its metadata is read anew for the next try.
    let attempt = 0;
    const list = (): Promise<Map<string, bigint[]>> => {
      if (attempt++ > 0) this.#consumer.clearMetadata();
      return this.#consumer.listOffsets({ topics: [...topics], isolationLevel });
    };
    return retryWhile(isStaleRouteError, METADATA_TIMEOUT_MS, list).catch((e: unknown) => {
      throw new Error(`listing the end offsets of ${topics.join(', ')}: ${kafkaErrorText(e)}`, { cause: e });
    });
  }

  /** Sets each partition's end of `streams` to its last stable offset now (without waiting for open transactions, unlike {@link settle}). */
  async refreshEnds(streams: readonly string[]): Promise<void> {
    const topics = [...new Set(streams)].filter((s) => this.#topics.partitionCount(s) !== undefined);
    if (topics.length === 0) return;
    const offsets = await this.#listOffsets(topics, READ_COMMITTED);
    for (const [topic, ends] of offsets) ends.forEach((end, p) => (this.#cache(topic, p).end = Number(end)));
  }

  /** The partition's last stable offset as last read (settle, refreshEnds), without this process's own commits past it. */
  stableEnd(topic: string, partition: number): number {
    return this.#cache(topic, partition).end;
  }

  /** Reads a whole partition, committed records only, to its current end. */
  async readAll(topic: string, partition: number): Promise<LogRecord[]> {
    const out: LogRecord[] = [];
    await this.scan(topic, partition, 0, (records) => void out.push(...records));
    return out;
  }

  /**
   * Reads a partition from `from` to its last stable offset (once settled),
   * committed records only, handing each fetch's records (at most a fetch's
   * bytes) to `onBatch` with the offset read up to: memory stays bounded by
   * a fetch however long the partition is. Returns the end. `settled`: the
   * caller has just settled the topic, and it is not done again.
   */
  async scan(topic: string, partition: number, from: number, onBatch: (records: LogRecord[], next: number, end: number) => void, settled = false): Promise<number> {
    if (!settled) await this.settle([topic]);
    const c = this.#cache(topic, partition);
    const end = c.end;
    this.#seek(c, from);
    try {
      while (c.nextFetch < end) {
        const before = c.nextFetch;
        await this.#fetch([[`${topic}/${partition}`, c]]);
        const records = c.records;
        c.records = [];
        if (c.nextFetch === before) throw new Error(`reading ${topic}/${partition}: no progress at offset ${before} (end ${end})`);
        onBatch(records, Math.min(c.nextFetch, end), end);
      }
    } finally {
      c.start = undefined;
    }
    return end;
  }

  /** The first offset of each partition of `topic` (records before it were deleted). */
  async logStarts(topic: string): Promise<number[]> {
    const offsets = await retryWhile(isStaleRouteError, METADATA_TIMEOUT_MS, () => this.#consumer.listOffsets({ topics: [topic], timestamp: -2n, isolationLevel: READ_UNCOMMITTED })).catch((e: unknown) => {
      throw new Error(`listing the start offsets of ${topic}: ${kafkaErrorText(e)}`, { cause: e });
    });
    return (offsets.get(topic) ?? []).map(Number);
  }

  /** Every record of `stream` committed before the call, one array per partition. */
  async readStream(stream: string): Promise<LogRecord[][]> {
    const partitions = this.#topics.partitionCount(stream);
    if (partitions === undefined) throw new Error(`no Kafka topic ${stream}`);
    const out: LogRecord[][] = [];
    for (let p = 0; p < partitions; p++) out.push(await this.readAll(stream, p));
    return out;
  }

  /** Stops fetching ahead, once the fetch under way is done. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#fetching;
  }
}

/**
 * Rule: a fetch's answer for a partition is kept only if the partition is
 * still read from where the fetch started. A task that moves its read
 * meanwhile — a share of an internal stream read again from where it was
 * left, a task rewinding to its checkpoint — or stops reading makes it
 * stale: kept, its records would stand right after the new position, and
 * every record in between would be skipped. The next fetch starts from the
 * new position.
 */
function isStaleFetch(cache: PartitionCache, requestedFrom: number): boolean {
  return cache.start === undefined || cache.nextFetch !== requestedFrom;
}
