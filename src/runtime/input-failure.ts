import { describeThrown } from './describe-thrown.ts';
import type { LogRecord } from '../records/record.ts';

/**
 * A record that could not enter the topology (undecodable, invalid timestamp,
 * too large). It keeps its place in its partition's buffer so that it is
 * dead-lettered, or fails the run, at the same point of the processing order
 * in every run.
 */
export interface InputFailure {
  /** The record as the log holds it: its position and raw bytes. */
  readonly raw: LogRecord;
  /** What is wrong with it, in one line. */
  readonly error: string;
  /** The part of the record at fault: `key`, `value`, `value.ts`, `timestamp`, … */
  readonly field: string;
  /** True when the user chose `fail`: the run stops here. */
  readonly fatal: boolean;
}

/** A run stopped on bad input under the `fail` policy; the message names stream, partition, offset and field. */
export class BadInputError extends Error {
  /** The record at fault, and why. */
  readonly failure: InputFailure;
  /** @param failure the record at fault, and why. */
  constructor(failure: InputFailure) {
    const r = failure.raw;
    super(`bad input at stream ${r.stream}, partition ${r.partition}, offset ${r.offset}, field ${failure.field}: ${failure.error}`);
    this.name = 'BadInputError';
    this.failure = failure;
  }
}

/** A processor threw; the message names the processor and the record's position. */
export class ProcessingError extends Error {
  /**
   * @param processor the processor's node name.
   * @param where the position of the record it failed on.
   * @param cause what it threw (kept as the error's `cause`).
   */
  constructor(processor: string, where: { stream: string; partition: number; offset: number }, cause: unknown) {
    const msg = describeThrown(cause);
    super(`processor ${processor} failed on stream ${where.stream}, partition ${where.partition}, offset ${where.offset}: ${msg}`, { cause });
    this.name = 'ProcessingError';
  }
}
