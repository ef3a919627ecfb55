import type { LogRecord } from '../records/record.ts';
import { describePosition } from '../records/record.ts';
import type { WatermarkReport } from '../time/producer-watermarks.ts';
import { NO_WATERMARK } from '../time/watermark.ts';
import type { AppendRecord } from './log.ts';
import { PRODUCER_HEADER } from './headers.ts';
import { isProducerTask, producerIdOf } from './ids.ts';
import { utf8Bytes, utf8Text } from '../records/utf8.ts';


/**
 * A watermark record for one partition (docs/watermarks.md, "Watermarks across services"): flagged as control on
 * the log, its value the JSON of the report, its producer header the
 * producing task — like the data that task writes — and its event time the
 * watermark, so a plain reader sees W(t) at t.
 */
export function watermarkRecord(stream: string, partition: number, report: WatermarkReport): AppendRecord {
  const value = utf8Bytes(
    JSON.stringify({
      application: report.application,
      task: report.task,
      tasks: report.tasks,
      watermark: report.watermark,
      stopped: report.stopped,
      ...(report.generation === undefined ? {} : { generation: report.generation }),
      ...(report.members === undefined ? {} : { members: report.members }),
      ...(report.released === true ? { released: true } : {}),
      ...(report.endOfCatchUp === undefined ? {} : { endOfCatchUp: report.endOfCatchUp }),
      ...(report.move === undefined ? {} : { move: report.move }),
    }),
  );
  return { stream, partition, key: null, value, eventTime: Math.max(0, report.watermark), control: 'watermark', headers: { [PRODUCER_HEADER]: producerIdOf(report.application, report.task) } };
}

/**
 * A release of producer task `application/task` on one partition, written by
 * an operator (`tidemark release`) for a task that no longer exists: its
 * consumers stop waiting for it when they process it, and audit it. It
 * carries the released task's producer header, so it is read in that
 * task's place among the partition's records.
 */
export function releaseRecord(stream: string, partition: number, application: string, task: string): AppendRecord {
  return watermarkRecord(stream, partition, { application, task, tasks: 1, watermark: NO_WATERMARK, stopped: true, released: true });
}

/** Reads a watermark record's report; a clear error names the record's position and the field at fault. */
export function readWatermarkRecord(r: LogRecord): WatermarkReport {
  const fail = (why: string): never => {
    throw new Error(`watermark record ${describePosition(r)}: ${why}`);
  };
  let v: unknown;
  try {
    v = JSON.parse(utf8Text(r.value ?? new Uint8Array(0)));
  } catch (e) {
    return fail(`value is not JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null) return fail('value is not an object');
  const o = v as Record<string, unknown>;
  if (typeof o.application !== 'string' || o.application === '') fail('"application" must be a non-empty string');
  if (typeof o.task !== 'string' || !isProducerTask(o.task)) fail('"task" must be a string without "/"');
  if (!Number.isSafeInteger(o.tasks) || (o.tasks as number) < 1) fail('"tasks" must be a positive integer');
  if (!Number.isSafeInteger(o.watermark)) fail('"watermark" must be an integer');
  if (o.generation !== undefined && !Number.isSafeInteger(o.generation)) fail('"generation" must be an integer');
  if (o.move !== undefined && o.move !== 'leaving' && o.move !== 'arrived') fail('"move" must be "leaving" or "arrived"');
  if (o.endOfCatchUp !== undefined && !(Number.isSafeInteger(o.endOfCatchUp) && (o.endOfCatchUp as number) >= 1)) fail('"endOfCatchUp" must be a positive integer');
  if (o.members !== undefined && !(Array.isArray(o.members) && o.members.every((m) => typeof m === 'string' && isProducerTask(m)))) fail('"members" must be a list of task ids');
  return {
    application: o.application as string,
    task: o.task as string,
    tasks: o.tasks as number,
    watermark: o.watermark as number,
    stopped: o.stopped === true,
    ...(o.generation === undefined ? {} : { generation: o.generation as number }),
    ...(o.members === undefined ? {} : { members: o.members as string[] }),
    ...(o.released === true ? { released: true } : {}),
    ...(o.endOfCatchUp === undefined ? {} : { endOfCatchUp: o.endOfCatchUp as number }),
    ...(o.move === undefined ? {} : { move: o.move as 'leaving' | 'arrived' }),
  };
}

/** A move of task `application/task` on one partition of an internal stream: see {@link WatermarkReport.move}. */
export function moveRecord(stream: string, partition: number, application: string, task: string, move: 'leaving' | 'arrived'): AppendRecord {
  return watermarkRecord(stream, partition, { application, task, tasks: 1, watermark: NO_WATERMARK, stopped: false, move });
}

/**
 * The end of task `application/task`'s share of one partition of an
 * internal stream in group catch-up number `catchUp`: see
 * {@link WatermarkReport.endOfCatchUp}. It carries the task's producer
 * header, so it is read in that task's place among the partition's records.
 */
export function endOfCatchUpRecord(stream: string, partition: number, application: string, task: string, catchUp: number): AppendRecord {
  return watermarkRecord(stream, partition, { application, task, tasks: 1, watermark: NO_WATERMARK, stopped: false, endOfCatchUp: catchUp });
}

/**
 * What a control record is, for readers that show or fingerprint them:
 * a watermark, a stop, an announcement of a run's tasks, a release, the
 * end of a task's share in a group catch-up, or a task's move between the
 * members of a group. All but watermarks mark where runs began and ended
 * (or an operator's decision), so the watermark fingerprint leaves them out.
 */
export function watermarkRecordKind(report: WatermarkReport): 'watermark' | 'stop' | 'announce' | 'release' | 'end-of-catch-up' | 'move' {
  if (report.move !== undefined) return 'move';
  if (report.endOfCatchUp !== undefined) return 'end-of-catch-up';
  if (report.released === true) return 'release';
  if (report.members !== undefined) return 'announce';
  return report.stopped ? 'stop' : 'watermark';
}
