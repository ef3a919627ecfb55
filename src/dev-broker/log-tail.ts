/**
 * Reading the end of a broker's log files, which may be missing, growing or
 * rolled over while they are read: for the ready check and for the last
 * lines an error shows.
 *
 * @module
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** The file's size in bytes, 0 when it does not exist (yet). */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The bytes `[from, to)` of the file as UTF-8, '' when it cannot be opened. */
export function readRange(path: string, from: number, to: number): string {
  if (to <= from) return '';
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const buffer = Buffer.alloc(to - from);
    const n = readSync(fd, buffer, 0, buffer.length, from);
    return buffer.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The last `bytes` (default 32 KiB) of the file, '' when it does not exist. */
export function readTail(path: string, bytes = 32_768): string {
  const size = fileSize(path);
  return readRange(path, Math.max(0, size - bytes), size);
}

/** The last `n` non-empty lines of `text`, without trailing spaces. */
export function lastLines(text: string, n: number): string[] {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '')
    .slice(-n);
}

/**
 * The last ERROR or FATAL line of a broker log and the exception line right
 * after it (`Encountered fatal fault: Error starting LogManager —
 * java.lang.OutOfMemoryError: Java heap space`), so a broker that died names
 * why on the first line of the error, not somewhere above a stack trace.
 */
export function fatalFault(log: string): string | undefined {
  const lines = log.split('\n').map((l) => l.trimEnd());
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^\[[^\]]*\] (?:ERROR|FATAL) (.*?)(?: \([\w.$]+\))?$/.exec(lines[i]!);
    if (m === null) continue;
    const next = lines[i + 1];
    return next !== undefined && /^[\w.$]+(?:Exception|Error)\b/.test(next) ? `${m[1]} — ${next}` : m[1];
  }
  return undefined;
}
