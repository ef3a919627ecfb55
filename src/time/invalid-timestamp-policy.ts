import { isValidTimestamp, whyInvalidTimestamp } from './timestamp.ts';

/**
 * What to do with a record whose extracted timestamp is invalid (missing,
 * negative, not an integer):
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

/** What {@link resolveTimestamp} decided for a record: the timestamp to process it at, or why it is skipped or stops the run. */
export type TimestampResolution =
  | {
      /** The extracted timestamp is valid. */
      readonly kind: 'valid';
      /** The timestamp to use. */
      readonly timestamp: number;
    }
  | {
      /** The extracted timestamp is invalid and the policy's fallback is used (counted and audited). */
      readonly kind: 'fallback';
      /** The fallback's timestamp. */
      readonly timestamp: number;
      /** Why the extracted one is invalid. */
      readonly reason: string;
      /** Which fallback. */
      readonly used: 'brokerTime' | 'streamTime';
    }
  | {
      /** The record goes to the dead-letter stream. */
      readonly kind: 'skip';
      /** Why. */
      readonly reason: string;
    }
  | {
      /** The run stops at this record. */
      readonly kind: 'fail';
      /** Why. */
      readonly reason: string;
    };

/**
 * Rule: a valid extracted timestamp is used as is; an invalid
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
