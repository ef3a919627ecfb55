/** Header naming the application and task that wrote a record: `<applicationId>/<taskId>`. */
export const PRODUCER_HEADER = 'tidemark.producer';
/**
 * Headers of a dead-letter record: why the input record could not be used
 * and where it was. The dead-letter record's key and value are the input's
 * raw bytes.
 *
 * @example
 * for (const r of log.read('counts.dead-letter', 0, 0, 100)) console.log(r.headers[DEAD_LETTER_HEADERS.error]);
 */
export const DEAD_LETTER_HEADERS = {
  /** The error, in one line. */
  error: 'tidemark.error',
  /** The part of the record at fault: `key`, `value`, `value.ts`, `timestamp`, … */
  field: 'tidemark.error.field',
  /** The stream the record was read from. */
  stream: 'tidemark.source.stream',
  /** Its partition (decimal). */
  partition: 'tidemark.source.partition',
  /** Its offset (decimal). */
  offset: 'tidemark.source.offset',
} as const;

/**
 * Header a producer puts on a record it wrote at or below its own last
 * watermark, when told to write such records (`lateRecords: 'write'`): the
 * watermark it had written there. Consumers audit the record as
 * `producer-late` when they process it.
 */
export const PRODUCER_LATE_HEADER = 'tidemark.producer-late';
