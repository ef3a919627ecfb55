import { isValidTimestamp, whyInvalidTimestamp } from './timestamp.ts';

/**
 * What to do with a record whose extracted timestamp is invalid (DESIGN 4.1):
 * - `fail`: stop with an error naming stream, partition, offset and field;
 * - `skip`: count it, audit it and send it to the dead-letter stream;
 * - `brokerTime`: use the broker's append time instead (the default, as the
 *   source notes advise);
 * - `streamTime`: use the partition's time, the largest timestamp of this
 *   partition's earlier records (like Kafka Streams'
 *   `UsePartitionTimeOnInvalidTimestamp`; the task-wide stream time would
 *   depend on how far other partitions happened to be fetched).
 */
export type InvalidTimestampPolicy = 'fail' | 'skip' | 'brokerTime' | 'streamTime';

export type TimestampResolution =
  | { readonly kind: 'valid'; readonly timestamp: number }
  | { readonly kind: 'fallback'; readonly timestamp: number; readonly reason: string; readonly used: 'brokerTime' | 'streamTime' }
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'fail'; readonly reason: string };

/**
 * Rule (DESIGN 4.1): a valid extracted timestamp is used as is; an invalid
 * one is resolved by the policy. A fallback whose own time is invalid (no
 * broker time; no earlier record in the partition) cannot be used, and the
 * record is skipped to the dead-letter stream rather than given a made-up time.
 */
export function resolveTimestamp(
  extracted: unknown,
  policy: InvalidTimestampPolicy,
  brokerTime: number | null,
  partitionTime: number,
): TimestampResolution {
  if (isValidTimestamp(extracted)) return { kind: 'valid', timestamp: extracted };
  const reason = `timestamp ${whyInvalidTimestamp(extracted)}`;
  switch (policy) {
    case 'fail':
      return { kind: 'fail', reason };
    case 'skip':
      return { kind: 'skip', reason };
    case 'brokerTime':
      return isValidTimestamp(brokerTime)
        ? { kind: 'fallback', timestamp: brokerTime, reason, used: 'brokerTime' }
        : { kind: 'skip', reason: `${reason}, and no valid broker time to fall back to` };
    case 'streamTime':
      return isValidTimestamp(partitionTime)
        ? { kind: 'fallback', timestamp: partitionTime, reason, used: 'streamTime' }
        : { kind: 'skip', reason: `${reason}, and no partition time yet to fall back to` };
  }
}
