import { NO_TIMESTAMP } from '../time/timestamp.ts';
import type { InputPosition, TaskCheckpoint } from './log.ts';
import { CHECKPOINT_FORMAT, partitionKey } from './log.ts';
import type { TaskWatermarks } from './task-watermarks.ts';
import type { BufferedRecord } from './task-admission.ts';
import type { InputStart, TaskInput } from './task-inputs.ts';
import type { GroupCatchUpState } from './group-catch-up.ts';

/** A task's clocks as its checkpoint holds them. */
export interface TaskClocks {
  readonly streamTime: number;
  readonly commits: number;
}

/**
 * A checkpoint this tidemark can restore: one of its own format or an
 * earlier one (their fields are a subset). A later format — written by a
 * newer tidemark — is refused with one line, rather than read wrongly.
 */
export function checkedCheckpoint(checkpoint: TaskCheckpoint | undefined, applicationId: string, taskId: string): TaskCheckpoint | undefined {
  const format = checkpoint?.format ?? 1;
  if (!Number.isInteger(format) || format < 1 || format > CHECKPOINT_FORMAT) {
    throw new Error(`the checkpoint of task ${taskId} of application ${applicationId} has format ${JSON.stringify(checkpoint?.format)}, and this tidemark reads formats 1 to ${CHECKPOINT_FORMAT}: run the application with the tidemark version that wrote it`);
  }
  return checkpoint;
}

/** The clocks a task resumes with: its checkpoint's, or none yet. */
export function restoredClocks(checkpoint: TaskCheckpoint | undefined): TaskClocks | undefined {
  if (checkpoint === undefined) return undefined;
  return { streamTime: checkpoint.streamTime, commits: checkpoint.commits };
}

/** Where input `stream`/`partition` resumes: at its checkpoint's position, or at `startOffset` without one. */
export function restoredInput(checkpoint: TaskCheckpoint | undefined, stream: string, partition: number, startOffset: (stream: string, partition: number) => number): InputStart {
  const key = partitionKey(stream, partition);
  const saved: InputPosition | undefined = checkpoint?.positions[key];
  return {
    next: saved?.next ?? startOffset(stream, partition),
    skipBelow: new Map(Object.entries(saved?.producers ?? {})),
    partitionTime: checkpoint?.partitionTimes[key] ?? NO_TIMESTAMP,
    passedAtEnd: saved?.passedAtEnd,
    moving: saved?.moving ?? [],
  };
}

/**
 * The checkpoint of a task now: per input, the first offset not processed
 * (its buffers' heads, or where it was fetched up to), the offsets past it
 * that each producer share already processed, and the partition time there;
 * then the task's clocks and watermarks.
 */
export function buildCheckpoint(inputs: readonly TaskInput[], clocks: TaskClocks, watermarks: TaskWatermarks, generation: number, catchUp?: GroupCatchUpState): TaskCheckpoint {
  const positions: Record<string, InputPosition> = {};
  const partitionTimes: Record<string, number> = {};
  for (const input of inputs) {
    let next = input.fetchPosition;
    let partitionTime = input.partitionTime;
    for (const b of input.buffers.values()) {
      const h = b.head() as BufferedRecord | undefined;
      if (h !== undefined && h.offset < next) {
        next = h.offset;
        partitionTime = h.partitionTimeBefore;
      }
    }
    const producers: Record<string, number> = {};
    for (const p of new Set([...input.skipBelow.keys(), ...input.processedUpTo.keys()])) {
      const below = Math.max(input.skipBelow.get(p) ?? 0, input.processedUpTo.get(p) ?? 0);
      if (below > next) producers[p] = below;
    }
    const key = partitionKey(input.stream, input.partition);
    positions[key] = {
      next,
      ...(Object.keys(producers).length > 0 ? { producers } : {}),
      ...(input.passedAtEnd !== undefined ? { passedAtEnd: input.passedAtEnd } : {}),
      ...(input.moving.size > 0 ? { moving: [...input.moving].sort() } : {}),
    };
    partitionTimes[key] = partitionTime;
  }
  return { format: CHECKPOINT_FORMAT, positions, streamTime: clocks.streamTime, partitionTimes, commits: clocks.commits, watermarks: watermarks.snapshot(), generation, ...(catchUp === undefined ? {} : { catchUp }) };
}
