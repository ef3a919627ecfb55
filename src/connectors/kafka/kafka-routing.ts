/**
 * Where a partition's requests go on a cluster: to its leader, as the
 * metadata last read says, and which errors mean that the metadata is stale
 * (the leader moved, the broker is gone or down) so that reading the
 * metadata again and resending can succeed.
 */
import type { ClusterMetadata } from '@platformatic/kafka';
import { brokerErrors, isRetriableKafkaError } from './kafka-errors.ts';

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
