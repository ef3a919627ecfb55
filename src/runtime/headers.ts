/** Header naming the application and task that wrote a record: `<applicationId>/<taskId>`. */
export const PRODUCER_HEADER = 'tidemark.producer';
/** Headers of a dead-letter record. */
export const DEAD_LETTER_HEADERS = {
  error: 'tidemark.error',
  field: 'tidemark.error.field',
  stream: 'tidemark.source.stream',
  partition: 'tidemark.source.partition',
  offset: 'tidemark.source.offset',
} as const;

/**
 * Header a producer puts on a record it wrote at or below its own last
 * watermark, when told to write such records (`lateRecords: 'write'`): the
 * watermark it had written there. Consumers audit the record as
 * `producer-late` when they process it.
 */
export const PRODUCER_LATE_HEADER = 'tidemark.producer-late';
