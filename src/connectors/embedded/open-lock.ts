import { open, type RootDatabase } from 'lmdb';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The lock a data directory is opened under, and that every write
 * transaction in it takes.
 *
 * Why: the LMDB that lmdb-js builds writes, in every process that opens an
 * environment, the id of the last transaction into the lock file shared by
 * all processes — the id of the meta page it read a moment before, and
 * without holding the writer's lock: LMDB's bug ITS#9496, fixed upstream
 * in 2021 (it does so only when it opens the environment alone now), not
 * in the LMDB of lmdb-js 3.5. A commit another process makes in that
 * moment is forgotten: the next write transaction starts from the
 * snapshot before it, so the commit's outputs vanish while the commits
 * after it (state, positions) are kept — or the B-tree is damaged. With the
 * lock, no write transaction commits while a process opens the data
 * directory.
 *
 * The lock is the writer's lock of a second, empty environment in the data
 * directory (`open.lock/`): LMDB's own cross-process mutex, released by
 * the system when its holder dies. Nothing is ever written into that
 * environment (a write transaction that writes nothing does not touch its
 * meta pages), so the same flaw cannot lose anything there.
 */
export class OpenLock {
  /** Undefined: no lock (a directory this process may only read, without the lock's directory). */
  readonly #env: RootDatabase | undefined;

  private constructor(env: RootDatabase | undefined) {
    this.#env = env;
  }

  /**
   * The lock of `dataDir`: created when missing if `mayCreate`. A process
   * that may not create it, or may not write its lock file (a directory
   * the user may only read), goes without: it only reads.
   */
  static of(dataDir: string, mayCreate: boolean): OpenLock {
    const path = join(dataDir, 'open.lock');
    if (!mayCreate && !existsSync(path)) return new OpenLock(undefined);
    try {
      return new OpenLock(open({ path, noSubdir: false, maxDbs: 1, compression: false }));
    } catch (e) {
      if (mayCreate) throw e;
      return new OpenLock(undefined);
    }
  }

  /** Runs `fn` holding the lock: no other process opens the data directory or commits meanwhile. */
  hold<T>(fn: () => T): T {
    if (this.#env === undefined) return fn();
    let result: T;
    this.#env.transactionSync(() => {
      result = fn();
    });
    return result!;
  }

  async close(): Promise<void> {
    await this.#env?.close();
  }
}
