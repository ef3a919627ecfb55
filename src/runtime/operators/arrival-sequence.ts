import type { OrderedStore } from '../../state/ordered-store.ts';
import { utf8Bytes, utf8Text } from '../../records/utf8.ts';
import { KeptValue, keptOr } from '../../state/kept-value.ts';

/**
 * The next arrival sequence number of an operator's ordered store, kept in
 * the store under `n` (decimal text) so that it commits with the task: keys
 * built from (timestamp, sequence) keep records of one timestamp in the
 * order they arrived, across restarts. Kept as a number between commits.
 */
export function nextArrivalSeq(store: OrderedStore): number {
  const stored = store.getStored(SEQ_KEY);
  const seq = stored === undefined ? 0 : keptOr(stored, (bytes) => Number(utf8Text(bytes)));
  store.put(SEQ_KEY, new KeptValue(seq + 1, decimal) as KeptValue);
  return seq;
}

const decimal = (n: number): Uint8Array => utf8Bytes(String(n));

const SEQ_KEY = 'n';
