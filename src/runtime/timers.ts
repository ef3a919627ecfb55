import type { OrderedStore } from '../state/ordered-store.ts';
import { decodeTime, encodeTime } from '../state/time-key.ts';
import { isTimerDue } from '../time/event-clock.ts';
import { utf8Bytes, utf8Text } from '../records/utf8.ts';

/** The hidden store a processor's timers live in (committed, and changelogged, like any state). */
export function timerStoreName(node: string): string {
  return `${TIMER_STORE_PREFIX}${node}`;
}

const TIMER_STORE_PREFIX = '__timers/';

/** Whether `store` is a processor's timer store (made by the task, not declared by the user). */
export function isTimerStore(store: string): boolean {
  return store.startsWith(TIMER_STORE_PREFIX);
}

/** Which clock a timer waits for. */
export type TimerDomain = 'event-time' | 'processing-time';

/** A timer that fired: its domain, time and (optional) name. */
export interface Timer {
  /** Whether it waited for event time or the wall clock. */
  readonly domain: TimerDomain;
  /** The time it was registered for. */
  readonly time: number;
  /** Its name (`''` when registered without one): timers of one time fire in name order. */
  readonly name: string;
}

/**
 * Timers a processor registers (Flink's `TimerService`). Event-time timers
 * fire, in time order (then name order), once event time now (stream time,
 * or the processor's input watermark plus one in watermark mode) reaches
 * their time; they are state, committed with the task's outputs, so after a crash
 * each fires exactly once. Processing-time timers fire by the wall clock:
 * each firing is a nondeterministic decision, counted and audited.
 *
 * @example
 * process(record, ctx) {
 *   ctx.timers.registerEventTimeTimer(record.timestamp + 60_000, String(record.key));
 * },
 * onTimer(timer, ctx) {
 *   ctx.forward({ ...someRecord, value: `no activity since ${timer.time - 60_000}` });
 * }
 */
export interface TimerService {
  /**
   * Registers an event-time timer: it fires once event time now reaches
   * `time` (stream time `>= time`, or the watermark `>= time − 1`).
   * Registering the same time and name again changes nothing.
   */
  registerEventTimeTimer(time: number, name?: string): void;
  /** Deletes an event-time timer that has not fired; it never will. */
  deleteEventTimeTimer(time: number, name?: string): void;
  /** Registers a processing-time timer: it fires once the wall clock reaches `time`, audited as a nondeterministic decision. */
  registerProcessingTimeTimer(time: number, name?: string): void;
  /** Deletes a processing-time timer that has not fired. */
  deleteProcessingTimeTimer(time: number, name?: string): void;
}

const PREFIX: Readonly<Record<TimerDomain, string>> = { 'event-time': 'e', 'processing-time': 'p' };
const MARK = Uint8Array.of(1);

/** Store key of a timer: domain, time (so a range scan finds the due ones in time order), then the name's bytes in hex. */
function timerKey(domain: TimerDomain, time: number, name: string): string {
  return `${PREFIX[domain]}${encodeTime(time)}${Buffer.from(utf8Bytes(name)).toString('hex')}`;
}

/** The timers of one processor of one task, kept in an ordered store. */
export class ProcessorTimers implements TimerService {
  readonly #store: OrderedStore;
  readonly #node: string;

  constructor(store: OrderedStore, node: string) {
    this.#store = store;
    this.#node = node;
  }

  registerEventTimeTimer(time: number, name = ''): void {
    this.#store.put(timerKey('event-time', this.#checked(time), name), MARK);
  }

  deleteEventTimeTimer(time: number, name = ''): void {
    this.#store.delete(timerKey('event-time', this.#checked(time), name));
  }

  registerProcessingTimeTimer(time: number, name = ''): void {
    this.#store.put(timerKey('processing-time', this.#checked(time), name), MARK);
  }

  deleteProcessingTimeTimer(time: number, name = ''): void {
    this.#store.delete(timerKey('processing-time', this.#checked(time), name));
  }

  #checked(time: number): number {
    if (!Number.isSafeInteger(time)) throw new RangeError(`processor ${this.#node}: a timer's time must be an integer, got ${time}`);
    return time;
  }

  /**
   * Removes and returns the earliest timer of `domain` due at `now`
   * (`isTimerDue`: time <= now), or undefined. Called until it returns undefined, so a
   * timer registered while others fire fires too, when it is due.
   */
  takeDue(domain: TimerDomain, now: number): Timer | undefined {
    const prefix = PREFIX[domain];
    for (const [k] of this.#store.range(prefix, `${prefix}\uffff`)) {
      const time = decodeTime(k.slice(1, 17));
      // Timers are kept in time order: the first one not due ends the search.
      if (!isTimerDue(time, now)) return undefined;
      this.#store.delete(k);
      return { domain, time, name: utf8Text(Buffer.from(k.slice(17), 'hex')) };
    }
    return undefined;
  }

  /** Whether any timer of `domain` is registered. */
  has(domain: TimerDomain): boolean {
    const prefix = PREFIX[domain];
    for (const _ of this.#store.range(prefix, `${prefix}\uffff`)) return true;
    return false;
  }
}
