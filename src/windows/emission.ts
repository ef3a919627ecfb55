/**
 * When a windowed aggregation emits:
 * - `final`: one result per window, when it closes (Kafka Streams'
 *   `suppress(untilWindowCloses)` / `EmitStrategy.onWindowClose`, Flink's
 *   default trigger);
 * - `updates`: a result on every change; a session merged away is retracted
 *   with a tombstone.
 * Either way emission is driven by the event clock only, never by wall-clock
 * time, so the output is the same in every run.
 */
export type EmitStrategy = 'final' | 'updates';

/**
 * What to do with a late record: `drop` (the default; counted
 * and audited with its position) or send it, untouched, to a stream of its
 * own.
 */
export type LatePolicy =
  | 'drop'
  | {
      /** The stream late records are written to, each as it arrived. */
      readonly sideOutput: string;
    };
