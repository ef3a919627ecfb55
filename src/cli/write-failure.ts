/**
 * Why a write to the embedded log's data directory failed, in words. LMDB
 * reports a full disk as it meets it — often as a bare `Input/output error`
 * (EIO) from writing its memory map — which says neither what was written
 * nor what to do. The error's code and the disk's free space tell.
 */
import { statfsSync } from 'node:fs';
import { constants } from 'node:os';

const ERRNO = constants.errno as Readonly<Record<string, number>>;

/** Below this much free space, an EIO from a write is taken for a full disk. */
const NEARLY_FULL_BYTES = 16 * 1024 * 1024;

/**
 * Why writing to `dataDir` failed, e.g. `the disk is full (ENOSPC)`, or
 * undefined when `error` is not a storage error (a bug, a bad record: its
 * own message says more).
 */
export function writeFailureReason(error: unknown, dataDir: string): string | undefined {
  const code = errorCode(error);
  switch (code) {
    case 'ENOSPC':
      return 'the disk is full (ENOSPC)';
    case 'EDQUOT':
      return 'the disk quota is used up (EDQUOT)';
    case 'EROFS':
      return 'the file system is read-only (EROFS)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`;
    case 'EIO': {
      const free = freeBytes(dataDir);
      if (free !== undefined && free < NEARLY_FULL_BYTES) return 'the disk is full (ENOSPC)';
      return `an input/output error (EIO)${free === undefined ? '' : `, with ${Math.floor(free / 1024 / 1024)} MiB free on that disk`}`;
    }
    default:
      return undefined;
  }
}

/** The errno name of a Node or LMDB error: Node gives `code: 'ENOSPC'`, LMDB the number (`code: 5`). */
function errorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (typeof code === 'number') return Object.keys(ERRNO).find((name) => ERRNO[name] === code);
  return undefined;
}

function freeBytes(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}
