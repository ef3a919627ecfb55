import type { OrderedStore } from '../../state/ordered-store.ts';
import { utf8Bytes, utf8Text } from '../../records/utf8.ts';

/**
 * The next arrival sequence number of an operator's ordered store, kept in
 * the store under `n` (decimal text) so that it commits with the task: keys
 * built from (timestamp, sequence) keep records of one timestamp in the
 * order they arrived, across restarts.
 */
export function nextArrivalSeq(store: OrderedStore): number {
  const bytes = store.get(SEQ_KEY);
  const seq = bytes === undefined ? 0 : Number(utf8Text(bytes));
  store.put(SEQ_KEY, utf8Bytes(String(seq + 1)));
  return seq;
}

const SEQ_KEY = 'n';
