/**
 * Where a partition's requests go on a cluster: to its leader, as the
 * metadata last read says, and which errors mean that the metadata is stale
 * (the leader moved, the broker is gone or down) so that reading the
 * metadata again and resending can succeed.
 */
import type { ClusterMetadata } from '@platformatic/kafka';
import { brokerErrors, isFencedKafkaError, isFencingRaceKafkaError, isRetriableKafkaError } from './kafka-errors.ts';

/** Broker answers that mean "ask the partition's (new) leader": the client's metadata is stale. */
const STALE_LEADER_CODES = new Set(['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'UNKNOWN_TOPIC_OR_PARTITION', 'NOT_CONTROLLER']);

/** A partition without a leader in the metadata (an election under way), or led by a broker the metadata does not list. */
export class NoLeaderError extends Error {}

/**
 * True when resending `e`'s request to the leaders of fresh metadata can
 * succeed: a stale leader, a broker the client's metadata does not know
 * (`Cannot find broker with node id`), no leader, a dropped connection or
 * any other error Kafka marks retriable.
 */
export function isStaleRouteError(e: unknown): boolean {
  if (e instanceof NoLeaderError || isRetriableKafkaError(e)) return true;
  if (brokerErrors(e).some((b) => STALE_LEADER_CODES.has(b.code))) return true;
  return messagesOf(e).some((m) => m.includes('Cannot find broker with node id'));
}

/**
 * Broker answers a failover ends by itself: a leader or coordinator moving
 * (its election, the load of its state), fewer replicas in sync for a
 * moment, a request timing out on the way.
 */
const TRANSIENT_CODES = new Set([
  ...STALE_LEADER_CODES,
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'CONCURRENT_TRANSACTIONS',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'BROKER_NOT_AVAILABLE',
  'KAFKA_STORAGE_ERROR',
]);

/** The client's network errors (a closed connection, a request timed out): its TimeoutError says `canRetry: false` but has this code too. */
const NETWORK_CODE = 'PLT_KFK_NETWORK';

/**
 * Rule (failover): true when every error inside `e` is one a broker's
 * failure or restart causes and the election after it ends — a stale
 * leader, a coordinator not available or moved, a closed connection or a
 * timed-out request, a broker the metadata does not know, fewer replicas
 * in sync — so that the same work sent again on fresh metadata and a fresh
 * connection can succeed. A fenced producer (or a fencing race) is never
 * transient: the task moved, and only its restore is safe.
 */
export function isTransientKafkaError(e: unknown): boolean {
  if (isFencedKafkaError(e) || isFencingRaceKafkaError(e)) return false;
  const leaves = leavesOf(e);
  return leaves.length > 0 && leaves.every(isTransientLeaf);
}

function isTransientLeaf(x: unknown): boolean {
  if (x instanceof NoLeaderError) return true;
  if (typeof x !== 'object' || x === null) return false;
  const err = x as { code?: unknown; apiId?: unknown; canRetry?: unknown; message?: unknown };
  if (typeof err.apiId === 'string') return TRANSIENT_CODES.has(err.apiId);
  if (err.code === NETWORK_CODE) return true;
  const message = typeof err.message === 'string' ? err.message : '';
  if (message.includes('Cannot find broker with node id') || message.includes('Cannot connect to any broker')) return true;
  return err.canRetry === true;
}

/** The innermost errors of `e`: through the client's aggregates (`errors`) and tidemark's wrappers (a plain Error's `cause`). */
function leavesOf(e: unknown): unknown[] {
  if (typeof e !== 'object' || e === null) return [e];
  const err = e as { errors?: readonly unknown[]; cause?: unknown; code?: unknown; apiId?: unknown };
  if (err.errors !== undefined && err.errors.length > 0) return err.errors.flatMap(leavesOf);
  if (err.code === undefined && err.apiId === undefined && err.cause !== undefined && !(e instanceof NoLeaderError)) return leavesOf(err.cause);
  return [e];
}

function messagesOf(e: unknown): string[] {
  if (typeof e !== 'object' || e === null) return [String(e)];
  const err = e as { message?: unknown; errors?: readonly unknown[] };
  return [typeof err.message === 'string' ? err.message : '', ...(err.errors ?? []).flatMap(messagesOf)];
}

/** One partition to send a request for. */
export interface Routed {
  readonly topic: string;
  readonly partition: number;
}

/** `items` by the broker leading their partition (-1: no leader known); a topic the metadata lacks is an error. */
export function byLeader<T extends Routed>(metadata: ClusterMetadata, items: readonly T[]): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const item of items) {
    const topic = metadata.topics.get(item.topic);
    if (topic === undefined) throw new Error(`no Kafka topic ${item.topic}`);
    const leader = topic.partitions[item.partition]?.leader ?? -1;
    const list = out.get(leader) ?? [];
    list.push(item);
    out.set(leader, list);
  }
  return out;
}

/** `node 2 (127.0.0.1:9093)`, for errors. */
export function brokerText(metadata: ClusterMetadata | undefined, node: number): string {
  if (node < 0) return 'no leader';
  const b = metadata?.brokers.get(node);
  return b === undefined ? `broker ${node}` : `broker ${node} (${b.host}:${b.port})`;
}
