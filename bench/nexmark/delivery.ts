/**
 * The generator's events in arrival order: event n arrives at its
 * undelayed event time `timestampOf(n)` plus its delivery delay; ties go
 * by event number. The held-back events wait in a heap; an event is
 * released once no later event can arrive before it (arrival times without
 * delay never decrease), so memory is bounded by the events of one
 * `occasionalDelaySec`.
 */
import { deliveryDelayOf, eventAt, timestampOf, type GeneratorConfig } from './generator.ts';
import type { NexmarkEvent } from './model.ts';

interface Held {
  readonly arrival: number;
  readonly n: number;
}

const before = (a: Held, b: Held): boolean => a.arrival < b.arrival || (a.arrival === b.arrival && a.n < b.n);

/** A binary min-heap of held-back events. */
class HeldHeap {
  readonly #items: Held[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): Held | undefined {
    return this.#items[0];
  }

  push(h: Held): void {
    const xs = this.#items;
    xs.push(h);
    let i = xs.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(xs[i]!, xs[p]!)) break;
      [xs[i], xs[p]] = [xs[p]!, xs[i]!];
      i = p;
    }
  }

  pop(): Held {
    const xs = this.#items;
    const top = xs[0]!;
    const last = xs.pop()!;
    if (xs.length > 0) {
      xs[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < xs.length && before(xs[l]!, xs[m]!)) m = l;
        if (r < xs.length && before(xs[r]!, xs[m]!)) m = r;
        if (m === i) break;
        [xs[i], xs[m]] = [xs[m]!, xs[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** The events of a run in arrival order (the events file's order). */
export function* deliveredEvents(c: GeneratorConfig): Generator<NexmarkEvent> {
  const held = new HeldHeap();
  for (let n = 0; n < c.events; n++) {
    const arrival = timestampOf(c, n);
    while (held.size > 0 && held.peek()!.arrival <= arrival) yield eventAt(c, held.pop().n);
    const delay = deliveryDelayOf(c, n);
    if (delay === 0) yield eventAt(c, n);
    else held.push({ arrival: arrival + delay, n });
  }
  while (held.size > 0) yield eventAt(c, held.pop().n);
}
