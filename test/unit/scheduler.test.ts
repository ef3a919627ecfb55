import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PartitionBuffer } from '../../src/scheduling/partition-buffer.ts';
import { compareHeads, decideNext, oldestHead } from '../../src/scheduling/scheduler.ts';
import type { StreamRecord } from '../../src/records/record.ts';

const rec = (stream: string, partition: number, offset: number, timestamp: number): StreamRecord => ({
  stream,
  partition,
  offset,
  key: null,
  value: `${stream}/${partition}@${offset}`,
  headers: {},
  eventTime: timestamp,
  brokerTime: timestamp,
  ingestTime: 0,
  timestamp,
});

/** A buffer holding records with the given timestamps at offsets from `firstOffset`. */
function buffer(stream: string, partition: number, sourceIndex: number, timestamps: number[], opts: { producer?: string; firstOffset?: number; atEnd?: boolean; unfetched?: number } = {}): PartitionBuffer {
  const b = new PartitionBuffer(stream, partition, sourceIndex, opts.producer ?? '');
  timestamps.forEach((t, i) => b.push(rec(stream, partition, (opts.firstOffset ?? 0) + i, t)));
  b.atEnd = opts.atEnd ?? true;
  b.unfetched = opts.unfetched ?? 0;
  return b;
}

const headOrder = (buffers: PartitionBuffer[]): string | undefined => {
  const b = oldestHead(buffers);
  return b === undefined ? undefined : `${b.stream}/${b.partition}${b.producer ? `:${b.producer}` : ''}`;
};

// ---------------------------------------------------------------------------
// 4.2 the next record is the head with the smallest timestamp; ties by
// (source declaration order, partition, producer, offset)
// ---------------------------------------------------------------------------

test('scheduling order: the head with the smallest timestamp goes first, whatever the source or partition', () => {
  const a = buffer('a', 0, 0, [20]);
  const b = buffer('b', 3, 1, [10]);
  assert.equal(headOrder([a, b]), 'b/3');
  assert.ok(compareHeads(b.head()!, b, a.head()!, a) < 0);
  assert.ok(compareHeads(a.head()!, a, b.head()!, b) > 0);
});

test('scheduling order: on equal timestamps the source declared first goes first', () => {
  const later = buffer('a', 0, 1, [10]);
  const first = buffer('z', 5, 0, [10], { firstOffset: 99 });
  assert.equal(headOrder([later, first]), 'z/5');
});

test('scheduling order: on equal timestamp and source the lower partition goes first', () => {
  const p1 = buffer('s', 1, 0, [10]);
  const p2 = buffer('s', 2, 0, [10]);
  assert.equal(headOrder([p2, p1]), 's/1');
});

test('scheduling order: on equal timestamp, source and partition the producer name decides', () => {
  const x = buffer('s', 0, 0, [10], { producer: 'app/0_1', firstOffset: 0 });
  const y = buffer('s', 0, 0, [10], { producer: 'app/0_0', firstOffset: 5 });
  assert.equal(headOrder([x, y]), 's/0:app/0_0');
});

test('scheduling order: on equal timestamp, source, partition and producer the lower offset goes first', () => {
  const b = buffer('s', 0, 0, [10]);
  const h = b.head()!;
  assert.ok(compareHeads(h, b, rec('s', 0, 1, 10), b) < 0);
  assert.equal(compareHeads(h, b, h, b), 0);
});

test('scheduling order: oldestHead ignores empty buffers and returns undefined when all are empty', () => {
  const empty = buffer('a', 0, 0, []);
  const full = buffer('b', 0, 1, [99]);
  assert.equal(oldestHead([empty, full]), full);
  assert.equal(oldestHead([empty]), undefined);
  assert.equal(oldestHead([]), undefined);
});

// ---------------------------------------------------------------------------
// 4.2 waiting for partitions that may still have data
// ---------------------------------------------------------------------------

test('scheduler waits: with every partition buffered it processes the oldest head and passes over nothing', () => {
  const a = buffer('a', 0, 0, [5], { atEnd: false });
  const b = buffer('b', 0, 1, [3], { atEnd: false });
  const d = decideNext([a, b], 100, undefined, 0);
  assert.deepEqual(d, { kind: 'process', buffer: b, passedOver: [] });
});

test('scheduler waits: nothing buffered anywhere is empty, not a wait', () => {
  const a = buffer('a', 0, 0, [], { atEnd: false });
  assert.deepEqual(decideNext([a], 100, undefined, 0), { kind: 'empty' });
});

test('scheduler waits (not idle) when an empty partition has unfetched records, however long it has waited', () => {
  const a = buffer('a', 0, 0, [5]);
  const lagging = buffer('b', 0, 1, [], { atEnd: false, unfetched: 3 });
  for (const [maxIdleMs, idleSince, now] of [[0, 0, 1_000_000], [100, undefined, 0], [Infinity, 0, 1e12]] as const) {
    const d = decideNext([a, lagging], maxIdleMs, idleSince, now);
    assert.deepEqual(d, { kind: 'wait', blockedBy: [lagging], idle: false });
  }
});

test('scheduler waits (not idle) for an empty share whose writer task is moving between members, however long it has waited', () => {
  const a = buffer('a', 0, 0, [5]);
  const moving = buffer('r', 0, 1, [], { atEnd: false, unfetched: 0, producer: 'app/0_1' });
  moving.writerMoving = true;
  for (const [maxIdleMs, idleSince, now] of [[0, 0, 1_000_000], [500, 0, 60_000]] as const) {
    assert.deepEqual(decideNext([a, moving], maxIdleMs, idleSince, now), { kind: 'wait', blockedBy: [moving], idle: false });
  }
  // Once its writer has written again, an empty share is idle as any other.
  moving.writerMoving = false;
  assert.deepEqual(decideNext([a, moving], 500, 0, 60_000), { kind: 'process', buffer: a, passedOver: [moving] });
});

test('scheduler waits idle in real-time mode until maxIdleMs have passed, then proceeds reporting the passed-over partition', () => {
  const a = buffer('a', 0, 0, [5]);
  const idle = buffer('b', 0, 1, [], { atEnd: false, unfetched: 0 });
  assert.deepEqual(decideNext([a, idle], 100, undefined, 1_000), { kind: 'wait', blockedBy: [idle], idle: true }, 'the wait starts idle');
  assert.deepEqual(decideNext([a, idle], 100, 1_000, 1_099), { kind: 'wait', blockedBy: [idle], idle: true }, '99 ms is not enough');
  assert.deepEqual(decideNext([a, idle], 100, 1_000, 1_100), { kind: 'process', buffer: a, passedOver: [idle] }, 'at maxIdleMs it proceeds');
});

test('scheduler waits: proceeding past an idle partition still takes the oldest buffered head', () => {
  const a = buffer('a', 0, 0, [50]);
  const c = buffer('c', 0, 2, [40]);
  const idle = buffer('b', 0, 1, [], { atEnd: false });
  const d = decideNext([a, idle, c], 0, 0, 0);
  assert.equal(d.kind, 'process');
  assert.equal((d as { buffer: PartitionBuffer }).buffer, c);
  assert.deepEqual((d as { passedOver: readonly PartitionBuffer[] }).passedOver, [idle]);
});

test('scheduler waits forever in catch-up mode (maxIdleMs Infinity): it never proceeds past a partition that may have data', () => {
  const a = buffer('a', 0, 0, [5]);
  const idle = buffer('b', 0, 1, [], { atEnd: false });
  for (const now of [0, 1e6, Number.MAX_SAFE_INTEGER]) {
    assert.deepEqual(decideNext([a, idle], Infinity, 0, now), { kind: 'wait', blockedBy: [idle], idle: true });
  }
});

test('scheduler waits: a partition known to be at its end is not waited for', () => {
  const a = buffer('a', 0, 0, [5]);
  const done = buffer('b', 0, 1, [], { atEnd: true });
  assert.deepEqual(decideNext([a, done], Infinity, undefined, 0), { kind: 'process', buffer: a, passedOver: [] });
});

test('scheduler waits: a buffered partition is never blocking, even when it is not at its end', () => {
  const a = buffer('a', 0, 0, [5], { atEnd: false, unfetched: 10 });
  const b = buffer('b', 0, 1, [7], { atEnd: false, unfetched: 10 });
  assert.deepEqual(decideNext([a, b], Infinity, undefined, 0), { kind: 'process', buffer: a, passedOver: [] });
});

test('partition buffer: take() on an empty buffer throws; take keeps offset order across compaction', () => {
  const b = buffer('s', 0, 0, []);
  assert.throws(() => b.take(), /empty buffer/);
  for (let i = 0; i < 5000; i++) b.push(rec('s', 0, i, i % 7));
  for (let i = 0; i < 5000; i++) assert.equal(b.take().offset, i);
  assert.equal(b.isEmpty(), true);
});

// ---------------------------------------------------------------------------
// 4.2 never reorders within a partition; deterministic across fetch sizes
// ---------------------------------------------------------------------------

interface PartitionSpec {
  readonly stream: string;
  readonly partition: number;
  readonly sourceIndex: number;
  readonly timestamps: number[];
}

/** The reference merge: repeatedly take the smallest (timestamp, source, partition, offset) head. */
function referenceMerge(specs: readonly PartitionSpec[]): string[] {
  const pos = specs.map(() => 0);
  const out: string[] = [];
  for (;;) {
    let best = -1;
    for (let i = 0; i < specs.length; i++) {
      const s = specs[i]!;
      if (pos[i]! >= s.timestamps.length) continue;
      if (best < 0) {
        best = i;
        continue;
      }
      const b = specs[best]!;
      const key = [s.timestamps[pos[i]!]!, s.sourceIndex, s.partition, pos[i]!];
      const bestKey = [b.timestamps[pos[best]!]!, b.sourceIndex, b.partition, pos[best]!];
      for (let k = 0; k < 4; k++) {
        if (key[k] !== bestKey[k]) {
          if (key[k]! < bestKey[k]!) best = i;
          break;
        }
      }
    }
    if (best < 0) return out;
    out.push(`${specs[best]!.stream}/${specs[best]!.partition}@${pos[best]}`);
    pos[best]!++;
  }
}

/**
 * Drains the partitions through decideNext in catch-up mode, fetching them
 * in chunks chosen by `choices` (which partition, how many), as a task does
 * when fetches return at different times and sizes.
 */
function drainWithFetches(specs: readonly PartitionSpec[], choices: readonly (readonly [number, number])[]): StreamRecord[] {
  const buffers = specs.map((s) => new PartitionBuffer(s.stream, s.partition, s.sourceIndex));
  const fetched = specs.map(() => 0);
  const refresh = (i: number): void => {
    buffers[i]!.unfetched = specs[i]!.timestamps.length - fetched[i]!;
    buffers[i]!.atEnd = fetched[i] === specs[i]!.timestamps.length;
  };
  specs.forEach((_, i) => refresh(i));
  const fetch = (i: number, n: number): void => {
    const s = specs[i]!;
    const upTo = Math.min(s.timestamps.length, fetched[i]! + n);
    for (let o = fetched[i]!; o < upTo; o++) buffers[i]!.push(rec(s.stream, s.partition, o, s.timestamps[o]!));
    fetched[i] = upTo;
    refresh(i);
  };
  let c = 0;
  const out: StreamRecord[] = [];
  for (let guard = 0; guard < 100_000; guard++) {
    const [which, n] = choices[c++ % Math.max(1, choices.length)] ?? [0, 1];
    // Fetch now and then even when not blocked: arrival timing must not matter.
    if (guard % 3 === 0) fetch(which % specs.length, n);
    const d = decideNext(buffers, Infinity, guard, guard + 1_000_000);
    if (d.kind === 'process') {
      assert.deepEqual(d.passedOver, [], 'catch-up never passes over a partition');
      out.push(d.buffer.take());
    } else if (d.kind === 'wait') {
      assert.equal(d.idle, false, 'with lag known, a catch-up wait is never idle');
      const blocked = d.blockedBy[which % d.blockedBy.length]!;
      fetch(buffers.indexOf(blocked), n);
    } else {
      const remaining = specs.findIndex((s, i) => fetched[i]! < s.timestamps.length);
      if (remaining < 0) return out;
      fetch(remaining, n);
    }
  }
  throw new Error('did not drain');
}

const partitionSpecs = (timestamps: fc.Arbitrary<number[]>): fc.Arbitrary<PartitionSpec[]> =>
  fc
    .array(fc.record({ sourceIndex: fc.integer({ min: 0, max: 2 }), partition: fc.integer({ min: 0, max: 3 }), timestamps }), { minLength: 1, maxLength: 5 })
    .map((ps) => {
      // One buffer per (source, partition).
      const seen = new Set<string>();
      return ps
        .filter((p) => {
          const k = `${p.sourceIndex}/${p.partition}`;
          if (seen.has(k)) return false;
          seen.add(k);
          return true;
        })
        .map((p) => ({ ...p, stream: `s${p.sourceIndex}` }));
    });

const fetchChoices = fc.array(fc.tuple(fc.nat(10), fc.integer({ min: 1, max: 4 })), { minLength: 1, maxLength: 30 });

test('never reorders within a partition: each partition comes out in offset order, and the merge does not depend on fetch sizes or arrival order (property)', () => {
  fc.assert(
    fc.property(partitionSpecs(fc.array(fc.nat(20), { maxLength: 15 })), fetchChoices, (specs, choices) => {
      const out = drainWithFetches(specs, choices);
      const lastOffset = new Map<string, number>();
      for (const r of out) {
        const k = `${r.stream}/${r.partition}`;
        assert.equal(r.offset, (lastOffset.get(k) ?? -1) + 1, `${k} out of offset order`);
        lastOffset.set(k, r.offset);
      }
      assert.equal(out.length, specs.reduce((n, s) => n + s.timestamps.length, 0), 'no record lost or duplicated');
      assert.deepEqual(out.map((r) => `${r.stream}/${r.partition}@${r.offset}`), referenceMerge(specs));
    }),
    { numRuns: 300 },
  );
});

test('scheduling order: with every partition in timestamp order, the merged order is sorted by (timestamp, source, partition, offset) (property)', () => {
  const sorted = fc.array(fc.nat(20), { maxLength: 15 }).map((ts) => [...ts].sort((a, b) => a - b));
  fc.assert(
    fc.property(partitionSpecs(sorted), fetchChoices, (specs, choices) => {
      const out = drainWithFetches(specs, choices);
      const sourceOf = (r: StreamRecord): number => Number(r.stream.slice(1));
      for (let i = 1; i < out.length; i++) {
        const a = out[i - 1]!;
        const b = out[i]!;
        const ka = [a.timestamp, sourceOf(a), a.partition, a.offset];
        const kb = [b.timestamp, sourceOf(b), b.partition, b.offset];
        const cmp = ka.findIndex((v, k) => v !== kb[k]);
        assert.ok(cmp >= 0 && ka[cmp]! < kb[cmp]!, `${JSON.stringify(ka)} before ${JSON.stringify(kb)}`);
      }
    }),
    { numRuns: 300 },
  );
});
