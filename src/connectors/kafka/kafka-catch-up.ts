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

/**
 * Catch-ups shared by a group, on Kafka: which one is under way is one
 * record in the application's (compacted) checkpoints topic, next to the
 * tasks' checkpoints, which say how far each task has come in it.
 */
export class KafkaGroupCatchUps {
  readonly #reader: KafkaReader;
  /** Writes go the appends' way: through a broker's failure, resent to the new leader and written once. */
  readonly #appender: KafkaAppender;

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

  /** The newest catch-up record and the newest checkpoint of each task, as committed. */
  async #latest(app: string): Promise<{ catchUp: CatchUpRecord | undefined; checkpoints: Map<string, TaskCheckpoint> }> {
    let catchUp: CatchUpRecord | undefined;
    const checkpoints = new Map<string, TaskCheckpoint>();
    for (const r of await this.#reader.readAll(kafkaTopics.checkpoints(app), 0)) {
      if (r.key === null || r.value === null || r.value.byteLength === 0) continue;
      const key = decoder.decode(r.key);
      const value = JSON.parse(decoder.decode(r.value)) as unknown;
      if (key === CATCH_UP_KEY) catchUp = value as CatchUpRecord;
      else checkpoints.set(key, value as TaskCheckpoint);
    }
    return { catchUp, checkpoints };
  }

  async #write(app: string, record: CatchUpRecord): Promise<void> {
    const topic = kafkaTopics.checkpoints(app);
    await this.#appender.send([[{ topic, partition: 0, key: Buffer.from(CATCH_UP_KEY, 'utf8'), value: Buffer.from(JSON.stringify(record), 'utf8') }]]).catch((e: unknown) => {
      throw new Error(`writing the group catch-up record of ${app} to ${topic}: ${kafkaErrorText(e)}`, { cause: e });
    });
  }
}
