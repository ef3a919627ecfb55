import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What can be checked of a data directory's `data.mdb` before LMDB maps it.
 * LMDB trusts the file: a page past the end of a cut-short file is a SIGBUS
 * when read, a garbled meta page a crash or an assertion — the process dies
 * with no message, after printing whatever it read so far. So the file's
 * two meta pages (the roots of every snapshot) are read first and checked,
 * and the file must be long enough for the last page the latest of them
 * names; anything else is a one-line {@link DataDirError}.
 *
 * Damage inside the file (a data page overwritten) cannot be told without
 * reading the whole file, and is not checked.
 */

/** The tidemark data format of a data directory this version reads and writes (stored in it: see the embedded log). */
export const DATA_FORMAT = 1;

/** A data directory that is missing, not a tidemark one, damaged, or of an unknown format. */
export class DataDirError extends Error {
  /** `DataDirError`. */
  override readonly name = 'DataDirError';
}

/** The file of a data directory that holds the environment. */
export function dataFileOf(dataDir: string): string {
  return join(dataDir, 'data.mdb');
}

// LMDB's layout (liblmdb/mdb.c as built by lmdb-js, 64-bit): a page header of 24
// bytes (page number, txnid, pad, flags at 18, …), then the meta: magic, version,
// address, map size, the free and main database records (the page size is the
// free one's first field), the last page number and the txnid.
const PAGE_HEADER = 24;
const P_META = 0x08;
const MAGIC = 0xbeefc0de;
const LMDB_DATA_VERSION = 2;
const META = { magic: 0, version: 4, pageSize: 24, lastPage: 120, txnid: 128 } as const;
const MAX_PAGE_SIZE = 65536;

interface Meta {
  readonly valid: boolean;
  readonly version: number;
  readonly pageSize: number;
  readonly lastPage: bigint;
  readonly txnid: bigint;
}

/** The meta at byte `at` of `head` (its page header before it), or undefined past what was read. */
function metaAt(head: Buffer, at: number, withHeader: boolean): (Meta & { isMetaPage: boolean }) | undefined {
  const m = at + PAGE_HEADER;
  if (m + META.txnid + 8 > head.length) return undefined;
  const version = head.readUInt32LE(m + META.version) & 0xffff;
  return {
    isMetaPage: !withHeader || (head.readUInt16LE(at + 18) & P_META) !== 0,
    valid: head.readUInt32LE(m + META.magic) === MAGIC,
    version,
    pageSize: head.readUInt32LE(m + META.pageSize),
    lastPage: head.readBigUInt64LE(m + META.lastPage),
    txnid: head.readBigUInt64LE(m + META.txnid),
  };
}

const validPageSize = (n: number): boolean => n >= 512 && n <= MAX_PAGE_SIZE && (n & (n - 1)) === 0;

/**
 * Checks the `data.mdb` of `dataDir` (which must exist): both meta pages
 * are LMDB meta pages of the data version this LMDB reads, and the file
 * holds every page up to the last one the latest meta names. Throws a
 * one-line {@link DataDirError} saying what is wrong and what to do.
 */
export function checkDataFile(dataDir: string): void {
  const file = dataFileOf(dataDir);
  const damaged = (what: string): DataDirError =>
    new DataDirError(`data dir ${dataDir} is damaged: ${what}; restore the directory from a backup, or move it away and produce into a new one`);
  const fd = openSync(file, 'r');
  let head: Buffer;
  let size: number;
  try {
    head = Buffer.alloc(2 * MAX_PAGE_SIZE);
    head = head.subarray(0, readSync(fd, head, 0, head.length, 0));
    // The size after the metas were read: a writer only grows the file, and writes a
    // commit's pages before the meta that names them, so this never under-counts.
    size = fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
  const first = metaAt(head, 0, true);
  if (first === undefined) throw damaged(`data.mdb is ${size} bytes, too short for LMDB's meta pages (the file was cut short)`);
  if (!first.isMetaPage || !first.valid) throw damaged('data.mdb does not begin with an LMDB meta page (its first page was overwritten, or it is not an LMDB file)');
  if (first.version !== LMDB_DATA_VERSION) {
    throw new DataDirError(`data dir ${dataDir} has LMDB data version ${first.version}, and the LMDB of this tidemark reads version ${LMDB_DATA_VERSION}: open it with the tidemark version that wrote it`);
  }
  if (!validPageSize(first.pageSize)) throw damaged(`data.mdb's meta page 0 gives a page size of ${first.pageSize} bytes`);
  const second = metaAt(head, first.pageSize, true);
  if (second === undefined) throw damaged(`data.mdb is ${size} bytes, too short for LMDB's two meta pages (the file was cut short)`);
  if (!second.isMetaPage || !second.valid || second.version !== LMDB_DATA_VERSION || second.pageSize !== first.pageSize) {
    throw damaged('data.mdb\'s second meta page is not an LMDB meta page (overwritten)');
  }
  // lmdb-js's LMDB also considers a meta halfway into the first page (its overlapping-sync
  // snapshot) and takes whichever has the highest txnid: garbage there must not win.
  const half = metaAt(head, first.pageSize / 2, false);
  const candidates = [first, second];
  if (half !== undefined && half.txnid > first.txnid && half.txnid > second.txnid) {
    if (!half.valid || half.version !== LMDB_DATA_VERSION || half.pageSize !== first.pageSize) throw damaged('data.mdb\'s first meta page is overwritten in part');
    candidates.push(half);
  }
  const latest = candidates.reduce((a, b) => (b.txnid > a.txnid ? b : a));
  // In bigints: a garbled page number is beyond what a double holds exactly.
  const needed = (latest.lastPage + 1n) * BigInt(latest.pageSize);
  if (BigInt(size) < needed) throw damaged(`data.mdb is ${size} bytes, but its last commit reaches byte ${needed} (the file was cut short)`);
}
