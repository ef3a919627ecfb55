import type { RestoreProgress } from '../connectors/kafka/kafka-restore.ts';
import { formatCount, renderBar, type ProgressOutput } from './progress.ts';

/** A restore of fewer changelog offsets is quick: not worth a line. */
const MIN_TOTAL = 1000;
/** Milliseconds between plain lines of one restore (off a terminal). */
const PLAIN_INTERVAL_MS = 2000;

/**
 * How a run tells of a task store's restore from its changelog (a new
 * machine, or a long way behind; a short one says nothing): on a terminal one line redrawn in place
 * with a bar; elsewhere a line when it starts, one every few seconds, and one
 * when it is done.
 */
export function restoreNotice(out: ProgressOutput, label: string, now: () => number = Date.now): (p: RestoreProgress) => void {
  let lastPlain = 0;
  let started = 0;
  return (p) => {
    if (p.total < MIN_TOTAL) return;
    const what = `${label}: restoring task ${p.taskId} store ${p.store} from its changelog`;
    const figures = `${formatCount(p.done)} of at most ${formatCount(p.total)} records`;
    if (p.done === 0 && !p.finished) started = now();
    if (out.isTTY === true) {
      const fraction = p.total === 0 ? 1 : Math.min(1, p.done / p.total);
      out.write(`\r${what} ${renderBar(p.finished ? 1 : fraction)} ${figures}\x1b[K${p.finished ? '\n' : ''}`);
      return;
    }
    const t = now();
    if (p.finished) out.write(`${what}: done, ${formatCount(p.done)} records in ${((t - started) / 1000).toFixed(1)} s\n`);
    else if (p.done === 0 || t - lastPlain >= PLAIN_INTERVAL_MS) {
      lastPlain = t;
      out.write(`${what}: ${figures}\n`);
    }
  };
}
