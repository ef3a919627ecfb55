import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The file that says which process uses a state directory. */
const LOCK_FILE = 'tidemark.lock';

/** Directories locked by this process: a second KafkaLog of the same process is refused too (both would write one LMDB environment). */
const lockedHere = new Set<string>();

/** A state directory another process (or another log of this one) holds. */
export class StateDirLockedError extends Error {
  override readonly name = 'StateDirLockedError';
}

/** Whether a process of that pid runs (a lock left by one that died is stale). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, as another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `dir` (made if missing) for this process, by a lock file holding
 * its pid, created exclusively. A lock of a process that no longer runs is
 * taken over. Returns the release.
 */
export function lockStateDir(dir: string): () => void {
  const path = resolve(dir);
  if (lockedHere.has(path)) throw new StateDirLockedError(`state dir ${path} is already in use by another Kafka log of this process (pid ${process.pid}); give each its own stateDir`);
  mkdirSync(path, { recursive: true });
  const file = join(path, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw e;
      const holder = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
      if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
        throw new StateDirLockedError(`state dir ${path} is in use by another tidemark process (pid ${holder}); give each process its own --state-dir`);
      }
      rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  lockedHere.add(path);
  return () => {
    lockedHere.delete(path);
    rmSync(file, { force: true });
  };
}
