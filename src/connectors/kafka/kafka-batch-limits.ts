/**
 * Produce requests sized to what Kafka accepts. The client puts all the
 * records of one `send` to one partition into a single record batch, and
 * the broker refuses a batch larger than the topic's `max.message.bytes`
 * (whose default is the broker's `message.max.bytes`, 1 MB + 12 bytes) with
 * `MESSAGE_TOO_LARGE` — every time, so a commit bigger than that would fail
 * on every retry. Here a list of messages is split, in order, into requests
 * whose batches fit; a single record that cannot fit is reported, to be
 * refused before anything is sent, with the one line (here too) naming it.
 *
 * @module
 */
import type { Admin } from '@platformatic/kafka';
import type { AuditEntry, CommitUnit, TaskCheckpoint } from '../../runtime/log.ts';

/** A message as the client's `send` takes it (the parts that count towards its size). */
export interface OutgoingMessage {
  readonly topic: string;
  readonly partition: number;
  readonly key?: Buffer | undefined;
  readonly value?: Buffer | undefined;
  readonly headers?: Map<Buffer, Buffer>;
}

/**
 * Bytes of a record batch (v2) without its records: offset, length, leader
 * epoch, magic, CRC, attributes, last offset delta, two timestamps,
 * producer id and epoch, base sequence and record count. The broker counts
 * them towards `max.message.bytes`.
 */
export const RECORD_BATCH_OVERHEAD = 61;

/**
 * At most this many bytes of batches in one produce request, unless a single
 * batch is larger: well below the broker's `socket.request.max.bytes`
 * (100 MB by default), and small enough that one request does not hold a
 * transaction up for long.
 */
export const MAX_REQUEST_BYTES = 8 << 20;

const decoder = new TextDecoder();
const VARINT_MAX = 5;
const VARLONG_MAX = 10;

/**
 * An upper bound of the bytes `m` takes in an uncompressed record batch:
 * its length, attributes, timestamp and offset deltas (counted at their
 * largest varint sizes), key, value and headers.
 */
export function recordBytes(m: OutgoingMessage): number {
  let n = VARINT_MAX + 1 + VARLONG_MAX + VARINT_MAX;
  n += VARINT_MAX + (m.key?.byteLength ?? 0);
  n += VARINT_MAX + (m.value?.byteLength ?? 0);
  n += VARINT_MAX;
  for (const [k, v] of m.headers ?? []) n += VARINT_MAX + k.byteLength + VARINT_MAX + v.byteLength;
  return n;
}

/** The bytes of a batch holding `m` alone: what to compare with the topic's limit. */
export function singleRecordBatchBytes(m: OutgoingMessage): number {
  return RECORD_BATCH_OVERHEAD + recordBytes(m);
}

/** A message too large for its topic even alone in a batch. */
export interface OversizedMessage<M extends OutgoingMessage> {
  readonly message: M;
  /** Its index in the list given. */
  readonly index: number;
  /** The bytes of a batch holding it alone (an upper bound). */
  readonly bytes: number;
  /** The topic's `max.message.bytes`. */
  readonly limit: number;
}

/**
 * Splits `messages` into produce requests, keeping their order: within a
 * request, the records to each partition make a batch of at most
 * `limitOf(topic)` bytes, and the batches together at most
 * {@link MAX_REQUEST_BYTES} (a single larger batch goes alone). Messages
 * that exceed their topic's limit alone are returned in `oversized`
 * instead, and the split is then not to be sent.
 */
export function splitIntoRequests<M extends OutgoingMessage>(messages: readonly M[], limitOf: (topic: string) => number): { requests: M[][]; oversized: OversizedMessage<M>[] } {
  const requests: M[][] = [];
  const oversized: OversizedMessage<M>[] = [];
  let current: M[] = [];
  let batches = new Map<string, number>();
  let total = 0;
  messages.forEach((m, index) => {
    const size = recordBytes(m);
    const limit = limitOf(m.topic);
    if (RECORD_BATCH_OVERHEAD + size > limit) {
      oversized.push({ message: m, index, bytes: RECORD_BATCH_OVERHEAD + size, limit });
      return;
    }
    const key = `${m.topic}/${m.partition}`;
    const open = batches.get(key);
    const grows = (open === undefined ? RECORD_BATCH_OVERHEAD : 0) + size;
    if (current.length > 0 && ((open ?? RECORD_BATCH_OVERHEAD) + size > limit || total + grows > MAX_REQUEST_BYTES)) {
      requests.push(current);
      current = [];
      batches = new Map();
      total = 0;
    }
    const batch = batches.get(key);
    batches.set(key, (batch ?? RECORD_BATCH_OVERHEAD) + size);
    total += (batch === undefined ? RECORD_BATCH_OVERHEAD : 0) + size;
    current.push(m);
  });
  if (current.length > 0) requests.push(current);
  return { requests, oversized };
}

/** Kafka's default `max.message.bytes` (1 MB + 12 bytes of log overhead): the limit of a topic whose config cannot be read. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

const TOPIC_RESOURCE = 2;

/**
 * The effective `max.message.bytes` of each of `topics`, by DescribeConfigs:
 * the topic's own setting, else the broker's `message.max.bytes`, which the
 * broker reports as the topic's value.
 */
export async function describeMaxMessageBytes(admin: Admin, topics: readonly string[]): Promise<Map<string, number>> {
  const described = await admin.describeConfigs({ resources: topics.map((t) => ({ resourceType: TOPIC_RESOURCE, resourceName: t, configurationKeys: ['max.message.bytes'] })) });
  const limits = new Map<string, number>();
  for (const d of described) {
    const value = Number(d.configs.find((c) => c.name === 'max.message.bytes')?.value);
    limits.set(d.resourceName, Number.isSafeInteger(value) && value > 0 ? value : DEFAULT_MAX_MESSAGE_BYTES);
  }
  return limits;
}

/** The offset each message of a produce request got, from the base offset of each partition's batch. */
export function offsetsOf(request: readonly OutgoingMessage[], bases: readonly { topic: string; partition: number; offset: bigint }[]): number[] {
  const next = new Map(bases.map((o) => [`${o.topic}/${o.partition}`, Number(o.offset)]));
  return request.map((m) => {
    const key = `${m.topic}/${m.partition}`;
    const offset = next.get(key) ?? -1;
    next.set(key, offset + 1);
    return offset;
  });
}

/**
 * The audit entries of a commit as records of at most `limit` bytes (a
 * batch each, at worst): JSON arrays that restore concatenates in order.
 */
export function auditRecords(topic: string, taskId: string, entries: readonly AuditEntry[], limit: number): OutgoingMessage[] {
  if (entries.length === 0) return [];
  const key = Buffer.from(taskId, 'utf8');
  const budget = limit - RECORD_BATCH_OVERHEAD - recordBytes({ topic, partition: 0, key, value: Buffer.alloc(2) });
  const records: OutgoingMessage[] = [];
  let chunk: string[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (chunk.length > 0) records.push({ topic, partition: 0, key, value: Buffer.from(`[${chunk.join(',')}]`, 'utf8') });
    chunk = [];
    bytes = 0;
  };
  for (const entry of entries) {
    const json = JSON.stringify(entry);
    const size = Buffer.byteLength(json, 'utf8') + 1;
    if (chunk.length > 0 && bytes + size > budget) flush();
    chunk.push(json);
    bytes += size;
  }
  flush();
  return records;
}

/** A record's key for an error message: its text, cut short. */
function keyText(key: Buffer | undefined): string {
  if (key === undefined) return 'null key';
  const text = decoder.decode(key);
  return `key ${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)}`;
}

function overLimitText(o: OversizedMessage<OutgoingMessage>): string {
  return `is ${o.bytes} bytes as a Kafka record batch, over the max.message.bytes ${o.limit} of topic ${o.message.topic}`;
}

function moreText(oversized: readonly unknown[]): string {
  return oversized.length > 1 ? ` (and ${oversized.length - 1} more records over their topics' limits)` : '';
}

/** The input a commit covers: per input partition, from the last checkpoint's position (when known) to the new one. */
function inputRangeText(last: TaskCheckpoint | undefined, next: TaskCheckpoint): string {
  const ranges = Object.entries(next.positions).flatMap(([partition, position]) => {
    const from = last?.positions[partition]?.next;
    if (from === position.next) return [];
    return [from === undefined ? `${partition} below offset ${position.next}` : `${partition} offsets ${from}..${position.next - 1}`];
  });
  return ranges.length === 0 ? 'no input records (timers or watermarks only)' : ranges.join(', ');
}

/** Why an append was refused before anything was sent: the first record too large for its topic. */
export function oversizedAppendText(oversized: readonly OversizedMessage<OutgoingMessage>[]): string {
  const o = oversized[0]!;
  return `appending to ${o.message.topic}/${o.message.partition}: record ${o.index} (${keyText(o.message.key)}) ${overLimitText(o)}${moreText(oversized)}; nothing was appended`;
}

/**
 * Why a commit was refused before it was sent: the first record too large
 * for its topic, what it is (an output, a store's change, the checkpoint),
 * and the input whose processing the commit holds (from the task's last
 * checkpoint `last` to the commit's).
 */
export function oversizedCommitText(u: CommitUnit, last: TaskCheckpoint | undefined, checkpointTopic: string, oversized: readonly OversizedMessage<OutgoingMessage>[]): string {
  const o = oversized[0]!;
  const m = o.message;
  const changes = u.outputs.length + u.stateWrites.length;
  const what =
    o.index < u.outputs.length
      ? `the output record to ${m.topic}/${m.partition} (${keyText(m.key)})`
      : o.index < changes
        ? `the change of store ${u.stateWrites[o.index - u.outputs.length]!.store} (${keyText(m.key)}, changelog ${m.topic}/${m.partition})`
        : m.topic === checkpointTopic
          ? `the checkpoint record (${m.topic})`
          : `an audit entry (${m.topic})`;
  return `committing task ${u.taskId} of ${u.applicationId}: ${what} ${overLimitText(o)}${moreText(oversized)}; the commit holds the processing of ${inputRangeText(last, u.checkpoint)}, and nothing of it was written. Raise the topic's max.message.bytes, or make the record smaller`;
}
