/**
 * Generated events with their meta, for whoever consumes them in this
 * process (the generate CLI's sinks, the bench, the tests): each event as
 * its NDJSON line, and the meta measured over them in arrival order.
 */
import { readFileSync } from 'node:fs';
import { defaultConfig, type GeneratorConfig } from './generator.ts';
import { deliveredEvents } from './delivery.ts';
import { dateTimeOf, eventLine, metaPath, parseMeta, type EventsMeta, type NexmarkEvent } from './model.ts';

/** Measures the meta of events seen in arrival order. */
export class MetaTracker {
  #events = 0;
  #maxSeen = -Infinity;
  #min = Infinity;
  #maxDelay = 0;

  /** Counts one event, delivered after all those seen before. */
  see(dateTime: number): void {
    this.#events++;
    if (dateTime < this.#min) this.#min = dateTime;
    if (dateTime > this.#maxSeen) this.#maxSeen = dateTime;
    else if (this.#maxSeen - dateTime > this.#maxDelay) this.#maxDelay = this.#maxSeen - dateTime;
  }

  get events(): number {
    return this.#events;
  }

  meta(c: GeneratorConfig): EventsMeta {
    if (this.#events === 0) return { events: 0, seed: c.seed, firstEventRate: c.firstEventRate, maxDelayMs: 0, firstDateTime: c.baseTime, lastDateTime: c.baseTime };
    return { events: this.#events, seed: c.seed, firstEventRate: c.firstEventRate, maxDelayMs: this.#maxDelay, firstDateTime: this.#min, lastDateTime: this.#maxSeen };
  }
}

/** An events data set held in memory: the lines as the file holds them, and its meta. */
export interface EventsData {
  readonly lines: string[];
  readonly meta: EventsMeta;
}

/** Generates `events` events of `seed` (Beam's defaults otherwise) in memory. */
export function generateData(events: number, seed: number, overrides: Partial<GeneratorConfig> = {}): EventsData {
  const c = defaultConfig(events, seed, overrides);
  const t = new MetaTracker();
  const lines: string[] = [];
  for (const e of deliveredEvents(c)) {
    t.see(dateTimeOf(e));
    lines.push(eventLine(e));
  }
  return { lines, meta: t.meta(c) };
}

/** Reads an events file and its meta, checking that they agree. */
export function readData(file: string): EventsData {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const meta = parseMeta(readFileSync(metaPath(file), 'utf8'), metaPath(file));
  if (meta.events !== lines.length) throw new Error(`${file}: ${lines.length} lines, its meta says ${meta.events} events`);
  return { lines, meta };
}

/** Parses the lines of a data set (the reference works on the parsed events). */
export function parseEvents(lines: readonly string[]): NexmarkEvent[] {
  return lines.map((l, i) => {
    try {
      return JSON.parse(l) as NexmarkEvent;
    } catch (e) {
      throw new Error(`events line ${i + 1}: ${(e as Error).message}`, { cause: e });
    }
  });
}
