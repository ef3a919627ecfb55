import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SortedKeys } from '../../src/state/ordered-store.ts';

// The sorted key index under every ordered store's range scans, against a sorted array: random
// inserts and deletes, runs of keys in increasing order (the append path), and slices.
test('SortedKeys keeps every key in order through inserts, deletes and appends, and slices as a sorted array does', () => {
  const key = fc.integer({ min: 0, max: 5000 }).map((n) => n.toString(16).padStart(4, '0'));
  const op = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), key }),
    fc.record({ kind: fc.constant('delete' as const), key }),
    fc.record({ kind: fc.constant('append' as const), count: fc.integer({ min: 1, max: 600 }) }),
    fc.record({ kind: fc.constant('slice' as const), from: key, to: key }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), fc.integer({ min: 2, max: 16 }), (ops, load) => {
      const keys = new SortedKeys(load);
      let model: string[] = [];
      let next = 0;
      for (const o of ops) {
        if (o.kind === 'insert' && !model.includes(o.key)) {
          keys.insert(o.key);
          model = [...model, o.key].sort();
        } else if (o.kind === 'delete') {
          keys.delete(o.key);
          model = model.filter((k) => k !== o.key);
        } else if (o.kind === 'append') {
          for (let i = 0; i < o.count; i++) {
            const k = `z${(next++).toString(16).padStart(8, '0')}`;
            keys.insert(k);
            model.push(k);
          }
        } else if (o.kind === 'slice') {
          assert.deepEqual(keys.slice(o.from, o.to), model.filter((k) => k >= o.from && k < o.to));
        }
        assert.equal(keys.size, model.length);
      }
      assert.deepEqual(keys.slice('', '~'), model);
    }),
    { numRuns: 300 },
  );
});
