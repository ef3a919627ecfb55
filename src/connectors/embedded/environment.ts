/**
 * Opening a data directory's LMDB environment: its databases, and the
 * checks that it is a tidemark log of this data format.
 */
import { open, type Database, type Key, type RootDatabase } from 'lmdb';
import type { Headers } from '../../records/record.ts';
import type { AuditEntry, TaskCheckpoint } from '../../runtime/log.ts';
import { DATA_FORMAT, DataDirError } from './data-file.ts';
import type { FenceKey, TaskFence } from './task-fences.ts';

/** A record as the records database keeps it. */
export interface StoredRecord {
  k: Uint8Array | null;
  v: Uint8Array | null;
  /** Name-value pairs when a name is `__proto__`, which msgpack's reader renames in an object. */
  h: Headers | [string, string][];
  e: number | null;
  b: number;
  /** 1 on a watermark record: the flag a plain reader of the log tells control records by. */
  w?: 1;
}

/** The databases of a tidemark log's environment. */
export interface Databases {
  readonly streams: Database<{ partitions: number }, string>;
  readonly records: Database<StoredRecord, [string, number, number]>;
  readonly ends: Database<number, [string, number]>;
  readonly checkpoints: Database<TaskCheckpoint, [string, string]>;
  readonly state: Database<Uint8Array, [string, string, string, string]>;
  readonly audit: Database<AuditEntry, [string, number]>;
  /** Undefined when read-only. */
  readonly fences: Database<TaskFence, FenceKey> | undefined;
}

export interface OpenedEnvironment {
  readonly root: RootDatabase;
  readonly databases: Databases;
}

/**
 * Opens the environment of `dataDir` and its databases, checking that it is
 * a tidemark log of this data format (under the open lock: opening races
 * other processes' commits, and creating a database is one).
 */
export function openEnvironment(dataDir: string, readOnly: boolean, exists: boolean): OpenedEnvironment {
  // noSubdir: lmdb-js treats a path with an extension (`./data.v2`, `mktemp -d`'s `/tmp/tmp.XYZ`) as a file unless told.
  const root = open({ path: dataDir, noSubdir: false, maxDbs: 16, compression: false, readOnly });
  try {
    // An existing environment without the streams every tidemark log has is someone else's: write
    // nothing into it. One with no database at all is new (its first open stopped before creating them).
    const empty = !exists || [...root.getKeys({ limit: 1 })].length === 0;
    const database = <V, K extends Key>(name: string, create = true): Database<V, K> => requiredDatabase<V, K>(root, dataDir, name, create);
    const databases: Databases = {
      streams: database('streams', empty && !readOnly),
      records: database('records'),
      ends: database('ends'),
      checkpoints: database('checkpoints'),
      state: database('state'),
      audit: database('audit'),
      fences: readOnly ? undefined : database<TaskFence, FenceKey>('fences'),
    };
    checkFormat(root, dataDir, readOnly);
    return { root, databases };
  } catch (e) {
    void root.close();
    throw e;
  }
}

/** A named database: created when missing if `create` (never when read-only), else undefined. */
function openDatabase<V, K extends Key>(root: RootDatabase, name: string, create = true): Database<V, K> | undefined {
  // lmdb-js honours `create` (and returns undefined for a database not found), though its types declare neither.
  const options = { keyEncoding: 'ordered-binary' as const, encoding: 'msgpack' as const, create };
  return root.openDB<V, K>(name, options) as Database<V, K> | undefined;
}

/** A named database every tidemark log has (all of them since the first version): one missing means the environment is not a tidemark log. */
function requiredDatabase<V, K extends Key>(root: RootDatabase, dataDir: string, name: string, create: boolean): Database<V, K> {
  const db = openDatabase<V, K>(root, name, create);
  if (db === undefined) throw new DataDirError(`data dir ${dataDir} holds an LMDB environment that is not a tidemark log (it has no ${name} database)`);
  return db;
}

/**
 * The data format the directory was written in: stored when missing (a
 * new directory, or one of a version from before it was stored), and
 * refused when it is not this version's.
 */
function checkFormat(root: RootDatabase, dataDir: string, readOnly: boolean): void {
  // Read-only, a directory of a version from before the format was stored has no `meta` database.
  const meta = openDatabase<number, string>(root, 'meta');
  const format = meta?.get('format');
  if (format === undefined && !readOnly) root.transactionSync(() => meta!.get('format') ?? meta!.putSync('format', DATA_FORMAT));
  else if (format !== undefined && format !== DATA_FORMAT) {
    throw new DataDirError(`data dir ${dataDir} holds tidemark data format ${JSON.stringify(format)}, and this tidemark reads format ${DATA_FORMAT}: open it with the tidemark version that wrote it`);
  }
}
