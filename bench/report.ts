/**
 * What the windows and joins benchmarks share to run their cases and print
 * them: a case in its own child process (so that its peak RSS is its own),
 * and the number formats and plain-text tables of their reports.
 */
import { spawnSync } from 'node:child_process';

export const best = (xs: readonly number[]): number => Math.min(...xs);
export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
export const fmtRate = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : `${(n / 1e3).toFixed(1)} k/s`);
export const fmtMb = (b: number): string => `${(b / 1024 / 1024).toFixed(0)} MB`;
export const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

/** A plain-text table: the first row is the header, the first two columns are left-aligned, the others right-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/**
 * Runs `script --case name` in a child process (with `--expose-gc`) and
 * returns what it printed after `tag`; undefined, with its output on stderr
 * and a failing exit code for the bench, when it failed.
 */
export function spawnCase<T>(script: string, name: string, tag: string): T | undefined {
  const r = spawnSync(process.execPath, ['--expose-gc', script, '--case', name], { encoding: 'utf8', env: process.env, maxBuffer: 64 * 1024 * 1024 });
  const line = r.stdout.split('\n').find((l) => l.startsWith(tag));
  if (r.status !== 0 || line === undefined) {
    process.stderr.write('FAILED\n');
    console.error(r.stderr || r.stdout);
    process.exitCode = 1;
    return undefined;
  }
  return JSON.parse(line.slice(tag.length)) as T;
}
