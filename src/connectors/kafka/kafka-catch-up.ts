import type { GroupCatchUpState } from '../../runtime/group-catch-up.ts';
import type { TaskCheckpoint } from '../../runtime/log.ts';
import { kafkaErrorText } from './kafka-errors.ts';
import { kafkaTopics } from './kafka-topics.ts';
import type { KafkaReader } from './kafka-reader.ts';
import type { KafkaAppender } from './kafka-append.ts';

const decoder = new TextDecoder();

/** Key of the application's catch-up record in its checkpoints topic; task ids (`0_3`) never take this form. */
const CATCH_UP_KEY = 'group-catch-up';

/** The application's last group catch-up: its number, and whether it is over. */
interface CatchUpRecord {
  readonly catchUp: number;
  readonly over: boolean;
}

/** What the checkpoints topic held up to offset `next`: its newest catch-up record, each task's newest checkpoint. */
interface Latest {
  next: number;
  catchUp: CatchUpRecord | undefined;
  readonly checkpoints: Map<string, TaskCheckpoint>;
}

/**
 * Catch-ups shared by a group, on Kafka: which one is under way is one
 * record in the application's (compacted) checkpoints topic, next to the
 * tasks' checkpoints, which say how far each task has come in it.
 */
export class KafkaGroupCatchUps {
  readonly #reader: KafkaReader;
  /** Writes go the appends' way: through a broker's failure, resent to the new leader and written once. */
  readonly #appender: KafkaAppender;
  /** Per application, what was read of its checkpoints topic so far. */
  readonly #latestOf = new Map<string, Latest>();

  constructor(reader: KafkaReader, appender: KafkaAppender) {
    this.#reader = reader;
    this.#appender = appender;
  }

  /**
   * The catch-up under way, or the next one after the last is over. Members
   * beginning at once all read the same last record, so they propose and
   * write the same next number.
   */
  async begin(app: string): Promise<number> {
    const last = (await this.#latest(app)).catchUp;
    if (last !== undefined && !last.over) return last.catchUp;
    const next = (last?.catchUp ?? 0) + 1;
    await this.#write(app, { catchUp: next, over: false });
    return next;
  }

  /** The catch-up state in the committed checkpoint of each of `taskIds` that has one. */
  async read(app: string, taskIds: readonly string[]): Promise<Map<string, GroupCatchUpState>> {
    const wanted = new Set(taskIds);
    const out = new Map<string, GroupCatchUpState>();
    for (const [task, checkpoint] of (await this.#latest(app)).checkpoints) {
      if (wanted.has(task) && checkpoint.catchUp !== undefined) out.set(task, checkpoint.catchUp);
    }
    return out;
  }

  /** Catch-up `id` is over (written by every member that sees it so: the same record each time). */
  async end(app: string, id: number): Promise<void> {
    await this.#write(app, { catchUp: id, over: true });
  }

  /**
   * The newest catch-up record and the newest checkpoint of each task, as
   * committed. Members poll it while they wait for the others, so it is
   * read on from where the last call stopped, not from the beginning: a
   * record read is the newest of its key until a later one comes.
   */
  async #latest(app: string): Promise<Latest> {
    const seen = this.#latestOf.get(app) ?? { next: 0, catchUp: undefined, checkpoints: new Map() };
    this.#latestOf.set(app, seen);
    const end = await this.#reader.scan(kafkaTopics.checkpoints(app), 0, seen.next, (records) => {
      for (const r of records) {
        if (r.key === null || r.value === null || r.value.byteLength === 0) continue;
        const key = decoder.decode(r.key);
        const value = JSON.parse(decoder.decode(r.value)) as unknown;
        if (key === CATCH_UP_KEY) seen.catchUp = value as CatchUpRecord;
        else seen.checkpoints.set(key, value as TaskCheckpoint);
      }
    });
    // Shorter than what was read: the topic was made anew, and what was read of it is gone.
    if (end < seen.next) {
      this.#latestOf.delete(app);
      return this.#latest(app);
    }
    seen.next = end;
    return seen;
  }

  async #write(app: string, record: CatchUpRecord): Promise<void> {
    const topic = kafkaTopics.checkpoints(app);
    await this.#appender.send([[{ topic, partition: 0, key: Buffer.from(CATCH_UP_KEY, 'utf8'), value: Buffer.from(JSON.stringify(record), 'utf8') }]]).catch((e: unknown) => {
      throw new Error(`writing the group catch-up record of ${app} to ${topic}: ${kafkaErrorText(e)}`, { cause: e });
    });
  }
}
