/**
 * Runs every example program (examples/*.ts, except this file) as a child
 * process with this same Node, one after the other, and fails if any exits
 * non-zero — so that the examples in the README keep working. Topology
 * modules for `tidemark run` live in examples/topologies/ and are not
 * programs: they are exercised by the CLI tests.
 *
 * Run it: `npm run examples`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
const programs = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== self)
  .sort();

let failed = 0;
for (const program of programs) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [join(here, program)], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 120_000 });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status === 0) {
    console.log(`ok    ${program} (${seconds} s)`);
  } else {
    failed++;
    const why = result.error !== undefined ? result.error.message : result.signal !== null ? `killed by ${result.signal}` : `exit status ${result.status}`;
    console.log(`FAIL  ${program} (${why}, ${seconds} s)`);
    for (const line of `${result.stdout}${result.stderr}`.trimEnd().split('\n')) console.log(`      ${line}`);
  }
}
console.log(`${programs.length - failed} of ${programs.length} examples passed`);
process.exitCode = failed === 0 ? 0 : 1;
