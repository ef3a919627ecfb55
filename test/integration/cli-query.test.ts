/**
 * `tidemark query` from another process: a real-time `tidemark run` of
 * examples/topologies/prices.ts (a versioned table `prices` with an hour of
 * history, a table `stock`) in a child process, queried while it runs and
 * after it stopped. Every expected answer is computed here from the input
 * alone: a table's row is its key's last record in the order produced
 * (null: deleted); a versioned table's value as of t is its key's update
 * with the largest timestamp <= t (the later of two at one timestamp), and
 * what is older than the horizon (the largest timestamp − 1 h, every key's
 * task having seen it) is beyond the history. While the application runs,
 * each key's answer must be its value after some prefix of its own records
 * (each key is in one task, which commits a prefix of its input).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, freshDir, lines, MAIN, MAX_TEMPERATURE } from '../fixtures/cli.ts';

const PRICES = fileURLToPath(new URL('../../examples/topologies/prices.ts', import.meta.url));
/** How a user in the repository's root runs the CLI of this clone, as the suite runs it (with-node's Node, or the machine's). */
const HERE = `${process.execPath.includes('/.tools/node/') ? './with-node ' : ''}node ${relative(process.cwd(), MAIN)}`;
const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

interface In {
  readonly key: string;
  readonly value: unknown;
  readonly eventTime: number;
}

const at = (key: string, value: unknown, minute: number): In => ({ key, value, eventTime: T0 + minute * MIN });

const BATCHES: readonly { prices: In[]; stock: In[] }[] = [
  {
    prices: [at('apple', 3, 0), at('pear', 2, 10), at('apple', 4, 20), at('fig', 7, 5)],
    stock: [at('apple', { units: 12 }, 0), at('kiwi', { units: 1 }, 1), at('fig', { units: 5 }, 2)],
  },
  {
    // apple 3.5 at 12:10 rewrites apple's history (3 until 12:10, then 3.5 until 12:20); fig is deleted at 12:30.
    prices: [at('apple', 5, 40), at('apple', 3.5, 10), at('fig', null, 30), at('pear', 2.5, 10)],
    stock: [at('kiwi', null, 3), at('apple', { units: 10 }, 4), at('pear', { units: 4 }, 5)],
  },
  {
    // Every key's task reaches 14:00: the horizon is 13:00 wherever a key is.
    prices: [at('apple', 6, 120), at('pear', 3, 120), at('fig', 8, 120)],
    stock: [at('fig', { units: 6 }, 120)],
  },
];

// ---- the reference, from the input alone ----

type Line = Record<string, unknown>;

/** A table's row of `key` after `records`: its last record, absent when that one is a delete. */
function stockRow(records: readonly In[], key: string): Line | undefined {
  const last = records.filter((r) => r.key === key).at(-1);
  return last === undefined || last.value === null ? undefined : { key, value: last.value, timestamp: last.eventTime };
}

/** The version of `key` valid at `t` after `records` (`t` omitted: the latest), with its interval. */
function priceAsOf(records: readonly In[], key: string, t = Infinity): Line | undefined {
  const updates = records.filter((r) => r.key === key);
  let found: In | undefined;
  // The largest timestamp <= t; of two at one timestamp, the later one replaced the earlier.
  for (const u of updates) if (u.eventTime <= t && (found === undefined || u.eventTime >= found.eventTime)) found = u;
  if (found === undefined || found.value === null) return undefined;
  const next = Math.min(...updates.filter((u) => u.eventTime > found!.eventTime).map((u) => u.eventTime));
  return { key, value: found.value, validFrom: found.eventTime, validTo: next === Infinity ? null : next };
}

/** The answers a key may have while its task has committed some prefix of its records. */
function prefixStates(records: readonly In[], key: string, state: (rs: readonly In[], key: string) => Line | undefined): string[] {
  const own = records.filter((r) => r.key === key);
  return [...Array(own.length + 1).keys()].map((n) => JSON.stringify(state(own.slice(0, n), key) ?? null));
}

const keysOf = (records: readonly In[]): string[] => [...new Set(records.map((r) => r.key))].sort();

/** The lines of every key of `records` that `state` finds, in key order. */
const entriesOf = (records: readonly In[], state: (rs: readonly In[], key: string) => Line | undefined): Line[] =>
  keysOf(records).flatMap((k): Line[] => {
    const l = state(records, k);
    return l === undefined ? [] : [l];
  });

// ---- running the CLI ----

interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `tidemark query` in a child process, without blocking this one (it reads the run's pipes meanwhile). */
function query(dir: string, args: readonly string[], module = PRICES): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, 'query', module, '--data-dir', dir, ...args], { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

const parsed = (r: Result): Line[] => lines(r.stdout).map((l) => JSON.parse(l) as Line);

function produce(dir: string, stream: string, records: readonly In[]): void {
  const r = cli(['produce', '--data-dir', dir, '--stream', stream, '--partitions', '2', '--key-format', 'string'], records.map((x) => JSON.stringify(x)).join('\n') + '\n');
  assert.equal(r.status, 0, r.stderr);
}

/**
 * Queries `--all` of both stores until they answer what all of `input` implies,
 * checking each answer on the way: every key's line one its prefixes imply.
 */
async function untilCaughtUp(dir: string, input: { prices: In[]; stock: In[] }): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const [prices, stock] = await Promise.all([query(dir, ['--store', 'prices', '--all']), query(dir, ['--store', 'stock', '--all'])]);
    const ok = prices.status === 0 && stock.status === 0;
    // Before the run's first commit the store has nothing committed: said in one line, exit 1.
    if (!ok) assert.match(prices.stderr + stock.stderr, /has committed nothing there yet/, prices.stderr + stock.stderr);
    else {
      for (const [r, records, state] of [[prices, input.prices, priceAsOf], [stock, input.stock, stockRow]] as const) {
        const byKey = new Map(parsed(r).map((l) => [l.key as string, JSON.stringify(l)]));
        for (const k of byKey.keys()) assert.ok(records.some((x) => x.key === k), `no record has key ${k}`);
        for (const k of keysOf(records)) assert.ok(prefixStates(records, k, state).includes(byKey.get(k) ?? 'null'), `${k}: ${byKey.get(k)} is no committed state of its records`);
      }
      if (JSON.stringify(parsed(prices)) === JSON.stringify(entriesOf(input.prices, priceAsOf)) && JSON.stringify(parsed(stock)) === JSON.stringify(entriesOf(input.stock, stockRow))) return;
    }
    assert.ok(Date.now() < deadline, `the stores did not catch up with the input: ${prices.stdout}${prices.stderr} / ${stock.stdout}${stock.stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('query reads the committed tables of an application running in another process, and after it stopped; it writes nothing', async () => {
  const dir = freshDir();
  const input = { prices: [] as In[], stock: [] as In[] };
  const add = (batch: { prices: In[]; stock: In[] }): void => {
    produce(dir, 'prices', batch.prices);
    produce(dir, 'stock', batch.stock);
    input.prices.push(...batch.prices);
    input.stock.push(...batch.stock);
  };
  add(BATCHES[0]!);
  const run = spawn(process.execPath, [MAIN, 'run', PRICES, '--data-dir', dir, '--mode', 'real-time', '--max-idle-ms', '50', '--commit-interval-ms', '50', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  run.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  run.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
  try {
    await untilCaughtUp(dir, input);
    add(BATCHES[1]!);
    await untilCaughtUp(dir, input);
    // While it runs: apple's history rewritten by the update at 12:10, read as of a time.
    const rewritten = await query(dir, ['--store', 'prices', '--key', 'apple', '--as-of', new Date(T0 + 15 * MIN).toISOString()]);
    assert.equal(rewritten.status, 0, rewritten.stderr);
    assert.deepEqual(parsed(rewritten), [priceAsOf(input.prices, 'apple', T0 + 15 * MIN)]);
    assert.deepEqual(parsed(rewritten)[0]!.value, 3.5);
    add(BATCHES[2]!);
    await untilCaughtUp(dir, input);
  } finally {
    run.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
  assert.match(stdout, /real-time run stopped/);
  assert.doesNotMatch(stderr, /took over|taken over/, 'no query took a task');

  // After it stopped: the same data dir, byte for byte the same after every query.
  const digest = (): string => createHash('sha256').update(readFileSync(join(dir, 'data.mdb'))).digest('hex');
  const before = digest();
  const horizon = Math.max(...input.prices.map((r) => r.eventTime)) - HOUR;
  const times = [0, 5, 10, 15, 20, 30, 40, 59, 60, 61, 90, 119, 120, 150].map((m) => T0 + m * MIN);
  for (const t of times) {
    const all = await query(dir, ['--store', 'prices', '--all', '--as-of', String(t)]);
    if (t < horizon) {
      assert.equal(all.status, 4, `as of ${t}: ${all.stderr}`);
      assert.deepEqual(lines(all.stderr), [`tidemark query: store prices of application prices on data dir ${dir} keeps no history back to ${t} (its horizon is ${new Date(horizon).toISOString()}): the keys it held then can no longer all be listed`]);
    } else {
      assert.equal(all.status, 0, all.stderr);
      assert.deepEqual(parsed(all), entriesOf(input.prices, (rs, k) => priceAsOf(rs, k, t)), `as of ${new Date(t).toISOString()}`);
    }
  }
  // One key: beyond the history (never "absent"), absent, present; a key never written.
  for (const [key, t] of [['fig', T0 + 45 * MIN], ['fig', T0 + 61 * MIN], ['apple', T0 + 61 * MIN], ['grape', T0 + 61 * MIN], ['grape', T0], ['pear', undefined]] as const) {
    const r = await query(dir, ['--store', 'prices', '--key', key, ...(t === undefined ? [] : ['--as-of', new Date(t).toISOString()])]);
    const expected = priceAsOf(input.prices, key, t);
    const when = t === undefined ? '' : ` as of ${new Date(t).toISOString()}`;
    if (t !== undefined && t < horizon) {
      assert.equal(r.status, 4, `${key}${when}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`keeps no history back to ${new Date(t).toISOString()} .*: what key "${key}" held then is no longer known`));
    } else if (expected === undefined) {
      assert.equal(r.status, 3, `${key}${when}: ${r.stderr}`);
      assert.deepEqual(lines(r.stderr), [`tidemark query: key "${key}" is absent from store prices of application prices on data dir ${dir}${when}`]);
      assert.equal(r.stdout, '');
    } else {
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(parsed(r), [expected]);
    }
  }
  const stockRows = entriesOf(input.stock, stockRow);
  const range = await query(dir, ['--store', 'stock', '--from', 'b', '--to', 'kiwi']);
  assert.equal(range.status, 0, range.stderr);
  assert.deepEqual(parsed(range), stockRows.filter((l) => (l.key as string) >= 'b' && (l.key as string) < 'kiwi'));
  const kiwi = await query(dir, ['--store', 'stock', '--key', 'kiwi']);
  assert.equal(kiwi.status, 3, 'deleted');
  const apple = await query(dir, ['--store', 'stock', '--key', 'apple']);
  assert.deepEqual(parsed(apple), [stockRow(input.stock, 'apple')]);
  assert.equal(digest(), before, 'the queries wrote nothing into data.mdb');
});

test('query: bad usage and missing things are one line each, with exit status 2 for usage and 1 for the rest', async () => {
  const dir = freshDir();
  produce(dir, 'prices', BATCHES[0]!.prices);
  produce(dir, 'stock', BATCHES[0]!.stock);
  const never = await query(dir, ['--store', 'prices', '--key', 'apple']);
  assert.equal(never.status, 1);
  assert.equal(lines(never.stderr).length, 1, never.stderr);
  const hint = /^tidemark query: store prices of application prices on data dir (\S+): the application has committed nothing there yet \((.+) runs it\)$/.exec(never.stderr.trimEnd());
  assert.ok(hint !== null, never.stderr);
  assert.equal(hint[1], dir);
  // The command it names runs as printed, in a shell where the user is (a clone: no tidemark on the PATH).
  const run = spawnSync('sh', ['-c', `${hint[2]} --quiet`], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(run.status, 0, `${hint[2]}: ${run.stderr}`);

  const usage: [args: string[], message: string][] = [
    [['--store', 'prices'], 'give one of --key K, --from A --to B, or --all'],
    [['--store', 'prices', '--key', 'apple', '--all'], 'give one of --key K, --from A --to B, or --all'],
    [['--store', 'prices', '--from', 'a'], '--from needs --to: a range is --from A --to B (A <= key < B)'],
    [['--key', 'apple'], '--store is required'],
    [['--store', 'prices', '--key', 'apple', '--as-of', 'noon'], "--as-of must be epoch milliseconds or an ISO-8601 date-time to the millisecond (2026-06-01T12:00:00Z), got 'noon'"],
    [['--store', 'prices', '--key', 'apple', '--as-of', '2026-02-30T00:00:00Z'], "--as-of must be epoch milliseconds or an ISO-8601 date-time to the millisecond (2026-06-01T12:00:00Z), got '2026-02-30T00:00:00Z'"],
    [['--store', 'stock', '--key', 'apple', '--as-of', '5'], '--as-of reads a versioned table as of a time; store stock of application prices is a key-value store (it keeps latest values only)'],
    [['--store', 'prices', '--key', 'apple', '--key-format', 'json'], `--key "apple" is not JSON, as --key-format json reads it (a string key in JSON is quoted: '"apple"'; or give --key-format string)`],
    [['--store', 'prices', '--key', 'apple', '--key-format', 'xml'], "--key-format must be one of json, string, got 'xml'"],
    [['--store', 'prices', '--key', 'apple', '--kafka', 'localhost:9092'], '--kafka: tidemark query reads the embedded log (--data-dir D) only'],
  ];
  for (const [args, message] of usage) {
    const r = await query(dir, args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    // The help as it runs here: a clone has no tidemark on the PATH.
    assert.deepEqual(lines(r.stderr), [`tidemark query: ${message} (see ${HERE} query --help)`], args.join(' '));
  }
  const noModule = cli(['query', '--data-dir', dir, '--store', 'prices', '--key', 'apple']);
  assert.equal(noModule.status, 2);
  assert.match(noModule.stderr, /^tidemark query: which topology module\?/);

  const failures: [args: string[], message: string, d?: string][] = [
    [['--store', 'price', '--key', 'apple'], `application prices (${PRICES}) has no store price; its stores: prices, stock`],
    [['--store', 'prices', '--key', 'apple'], `no tidemark data dir at ${join(dir, 'nope')} (no data.mdb); produce into it first or check --data-dir`, join(dir, 'nope')],
  ];
  for (const [args, message, d] of failures) {
    const r = await query(d ?? dir, args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.deepEqual(lines(r.stderr), [`tidemark query: ${message}`]);
  }

  // A window store: refused by name, before the data dir is read.
  const windowed = join(freshDir(), 'windowed.ts');
  writeFileSync(windowed, `import { StreamsBuilder, TimeWindows } from ${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)};
const b = new StreamsBuilder();
b.stream('readings').groupByKey().windowedBy(TimeWindows.ofSize(1000)).count({ name: 'per-second' }).to('counts');
export default { applicationId: 'windowed', topology: b.build() };
`);
  const window = await query(dir, ['--store', 'per-second', '--all'], windowed);
  assert.equal(window.status, 1);
  assert.deepEqual(lines(window.stderr), ['tidemark query: store per-second of application windowed is a window or session store: tidemark query reads key-value stores and tables']);

  // A store with JSON keys (the DSL's default serde): its keys are JSON on the command line too.
  const temps = freshDir();
  assert.equal(cli(['produce', '--data-dir', temps, '--stream', 'readings'], '{"key":"s1","value":{"celsius":21.5},"eventTime":1}\n').status, 0);
  assert.equal(cli(['run', MAX_TEMPERATURE, '--data-dir', temps, '--quiet']).status, 0);
  const s1 = await query(temps, ['--store', 'max', '--key', '"s1"'], MAX_TEMPERATURE);
  assert.equal(s1.status, 0, s1.stderr);
  assert.deepEqual(parsed(s1), [{ key: 's1', value: 21.5 }]);
  const bare = await query(temps, ['--store', 'max', '--key', 's1'], MAX_TEMPERATURE);
  assert.equal(bare.status, 2);
  assert.match(bare.stderr, /--key "s1" is not JSON/);
  const asString = await query(temps, ['--store', 'max', '--key', 's1', '--key-format', 'string'], MAX_TEMPERATURE);
  assert.equal(asString.status, 2);
  assert.match(asString.stderr, /^tidemark query: --key "s1" is not a key of store max of application max-temperature on data dir \S+: its key serde \(json\) cannot read it as --key-format string writes it: invalid JSON/);

  const help = cli(['query', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: tidemark query <topology module> --data-dir D --store S/);
  assert.match(cli(['--help']).stdout, /\n {2}query +print entries of an application's store/);
});
