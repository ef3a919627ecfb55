/**
 * Task ids and producer ids: built and read here only. Their text is written
 * into logs (the `tidemark.producer` header, watermark records, audit),
 * checkpoints and traces, so it never changes:
 *
 * - a task id is `<subTopology>_<partition>`, both non-negative integers
 *   (`0_1`: partition 1 of sub-topology 0);
 * - a producer id is `<application>/<task>` (`counts/0_1`, or `A/A0` for a
 *   `StreamProducer`). An application may hold a `/` (the library does not
 *   restrict it); a producer task may not, so the id reads back at its last
 *   `/` as exactly the parts it was built from.
 *
 * @module
 */

/** Partition `partition` of sub-topology `subTopology` as a task. */
export interface TaskIdParts {
  readonly subTopology: number;
  readonly partition: number;
}

/** A producer task of a producing application (a tidemark application, or a group of external producers). */
export interface ProducerIdParts {
  readonly application: string;
  readonly task: string;
}

const TASK_ID = /^(0|[1-9][0-9]*)_(0|[1-9][0-9]*)$/;

/** The task id of partition `partition` of sub-topology `subTopology`: `0_1`. */
export function taskIdOf(subTopology: number, partition: number): string {
  if (!isIndex(subTopology) || !isIndex(partition)) throw new RangeError(`a task is a sub-topology and a partition, both non-negative integers: got ${subTopology} and ${partition}`);
  return `${subTopology}_${partition}`;
}

/** The sub-topology and partition of task id `id` (`0_1`); a one-line error for anything `taskIdOf` does not build. */
export function parseTaskId(id: string): TaskIdParts {
  const m = TASK_ID.exec(id);
  const parts = m === null ? undefined : { subTopology: Number(m[1]), partition: Number(m[2]) };
  if (parts === undefined || !isIndex(parts.subTopology) || !isIndex(parts.partition)) throw new Error(`not a task id: ${JSON.stringify(id)} (a task id is <sub-topology>_<partition>, as 0_1)`);
  return parts;
}

/** Whether `task` may be the task of a producer id: it holds no `/`, where the id splits. */
export function isProducerTask(task: string): boolean {
  return !task.includes('/');
}

/**
 * The producer id of task `task` of `application`, `application/task`: the
 * value of the `tidemark.producer` header on what it writes. Refuses a task
 * holding a `/`, whose id would read back as another application's task.
 */
export function producerIdOf(application: string, task: string): string {
  if (!isProducerTask(task)) throw new Error(`producer task ${JSON.stringify(task)} of application ${JSON.stringify(application)} holds a "/": its producer id would read back as task ${JSON.stringify(task.slice(task.lastIndexOf('/') + 1))} of another application`);
  return `${application}/${task}`;
}

/** The application and task of producer id `id`; a one-line error for an id without a `/`. */
export function parseProducerId(id: string): ProducerIdParts {
  const slash = id.lastIndexOf('/');
  if (slash < 0) throw new Error(`not a producer id: ${JSON.stringify(id)} (a producer id is <application>/<task>)`);
  return { application: id.slice(0, slash), task: id.slice(slash + 1) };
}

/**
 * The producer of a record, from its `tidemark.producer` header as found in
 * the log. tidemark always writes a producer id there; a value without a `/`
 * (another writer's) is read as an application with one unnamed task (`''`),
 * rather than refused: the record is data all the same.
 */
export function producerOfHeader(value: string): ProducerIdParts {
  return value.includes('/') ? parseProducerId(value) : { application: value, task: '' };
}

function isIndex(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}
