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
 * Rule (stream-time mode): a record is out of order when its
 * timestamp is below the stream time of the task that processes it.
 */
export function isOutOfOrder(timestamp: number, streamTime: number): boolean {
  return timestamp < streamTime;
}
