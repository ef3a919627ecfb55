/**
 * Rule: a task's stream time is the largest `timestamp` it has
 * processed; it never decreases. It is advanced by a record *before* that
 * record is processed, so an operator sees the stream time including the
 * record in hand.
 */
export function advanceStreamTime(streamTime: number, timestamp: number): number {
  return timestamp > streamTime ? timestamp : streamTime;
}

/**
 * Rule: a partition's time is the largest timestamp admitted from it so far
 * (Kafka Streams' partition time), by the stream-time rule: it never
 * decreases. An invalid timestamp may fall back to it, and a failed record is
 * scheduled at it, so it keeps its place among its partition's records.
 */
export function advancePartitionTime(partitionTime: number, timestamp: number): number {
  return advanceStreamTime(partitionTime, timestamp);
}

/**
 * Rule (stream-time mode): a record is out of order when its
 * timestamp is below the stream time of the task that processes it.
 */
export function isOutOfOrder(timestamp: number, streamTime: number): boolean {
  return timestamp < streamTime;
}
