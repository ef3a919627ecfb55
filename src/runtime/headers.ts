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
