/**
 * The code blocks a new user copies: every `ts` and `sh` block of the README
 * and of docs/testing.md is checked here, and every import of `tidemark…`
 * in the docs names an entry point of the package.
 *
 * - A `ts` block that imports is a whole program: it runs as it stands, in
 *   an empty directory, with `tidemark` resolved to the sources the way the
 *   package's "exports" resolve it to the build.
 * - A `ts` block without imports is a fragment of a topology: it runs after
 *   a prelude that imports what it names from `tidemark` and declares
 *   `builder`, then builds the topology.
 * - A `sh` block's tidemark commands must exist and take the options given
 *   (each checked against the command's `--help`), its npm scripts must be
 *   in package.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { default: string }>; scripts: Record<string, string> };

interface Block {
  readonly file: string;
  readonly line: number;
  readonly lang: string;
  readonly code: string;
}

function blocksOf(file: string): Block[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    blocks.push({ file, line: i + 1, lang: open[1]!, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** `tidemark/x` as the package resolves it, but to the sources: "./dist/x.js" → src/x.ts. */
function sourceOf(specifier: string): string | undefined {
  const entry = pkg.exports[specifier === 'tidemark' ? '.' : `.${specifier.slice('tidemark'.length)}`];
  if (entry === undefined) return undefined;
  return pathToFileURL(join(root, entry.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'))).href;
}

const IMPORT = /from '(tidemark(?:\/[\w-]+)?)'/g;

function withSources(code: string): string {
  return code.replace(IMPORT, (_, specifier: string) => `from '${sourceOf(specifier)}'`);
}

function runProgram(code: string, name: string): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-snippet-'));
  try {
    writeFileSync(join(dir, name), code);
    const r = spawnSync(process.execPath, [name], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const where = (b: Block): string => `${b.file}:${b.line}`;
const readme = blocksOf('README.md');
const testingDoc = blocksOf('docs/testing.md');
const exported = Object.keys(await import(sourceOf('tidemark')!));

test('every import of tidemark in the README and docs names an entry point in package.json "exports"', () => {
  const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  const bad = ['README.md', ...docs].flatMap((file) =>
    blocksOf(file).flatMap((b) => [...b.code.matchAll(IMPORT)].filter((m) => sourceOf(m[1]!) === undefined).map((m) => `${where(b)}: ${m[1]}`)),
  );
  assert.deepEqual(bad, []);
  const kafkaDoc = readFileSync(join(root, 'docs/kafka.md'), 'utf8');
  assert.match(kafkaDoc, /import \{ startKafkaBroker \} from 'tidemark\/dev-broker'/);
});

test("the README's example runs as written, from its own input, and prints a readable summary", () => {
  const programs = readme.filter((b) => b.lang === 'ts' && /^import /m.test(b.code));
  assert.equal(programs.length, 1, 'the README has one whole program');
  const r = runProgram(withSources(programs[0]!.code), 'max-temps.mts');
  assert.equal(r.status, 0, `${where(programs[0]!)}: ${r.stderr}`);
  const lines = r.stdout.trimEnd().split('\n');
  // s1's readings in offset order: 21.5 @1000, 23 @900, 22 @1200 — the max after 23 stays 23.
  assert.deepEqual(lines.slice(0, 5), ['processed 4 readings, wrote 4 results', 's1 max 21.5 at 1000', 's2 max 19 at 1100', 's1 max 23 at 900', 's1 max 23 at 1200']);
  assert.match(lines[5]!, /^fingerprint max-per-sensor [0-9a-f]{64}$/);
  assert.equal(lines.length, 6);
  assert.doesNotMatch(r.stdout, /Map\(|\[Object/);
});

test("the README's topology fragments run against the library", () => {
  const fragments = readme.filter((b) => b.lang === 'ts' && !/^import /m.test(b.code));
  assert.ok(fragments.length >= 3);
  for (const b of fragments) {
    const names = exported.filter((n) => new RegExp(`\\b${n}\\b`).test(b.code));
    const usesBuilder = /\bbuilder\b/.test(b.code);
    const program = [
      `import { ${[...new Set([...names, ...(usesBuilder ? ['StreamsBuilder'] : [])])].join(', ')} } from '${sourceOf('tidemark')}';`,
      usesBuilder ? 'const builder = new StreamsBuilder();' : '',
      b.code,
      usesBuilder ? 'builder.build();' : '',
    ].join('\n');
    const r = runProgram(program, 'fragment.mts');
    assert.equal(r.status, 0, `${where(b)}: ${r.stderr}`);
  }
});

test("docs/testing.md's example runs as written", () => {
  const programs = testingDoc.filter((b) => b.lang === 'ts');
  assert.ok(programs.length >= 1);
  for (const b of programs) {
    const r = runProgram(withSources(b.code), 'driver.mts');
    assert.equal(r.status, 0, `${where(b)}: ${r.stderr}`);
  }
});

/** Shell words, with quotes kept together; `|`, `&&` and `;` as words of their own. */
function words(line: string): string[] {
  return [...line.matchAll(/'[^']*'|"[^"]*"|\|\||&&|[|;]|[^\s'"|;&]+/g)].map((m) => m[0]);
}

/** The commands of a `sh` block: lines joined while a quote is open, comments dropped, split at pipes and `&&`. */
function commandsOf(code: string): string[][] {
  const joined: string[] = [];
  let pending = '';
  for (const line of code.split('\n')) {
    pending = pending === '' ? line : `${pending}\n${line}`;
    if ((pending.match(/'/g)?.length ?? 0) % 2 === 0) {
      joined.push(pending);
      pending = '';
    }
  }
  const commands: string[][] = [];
  for (const line of joined) {
    const ws = words(line.replace(/(^|\s)#.*$/, ''));
    let current: string[] = [];
    for (const w of ws) {
      if (w === '|' || w === '&&' || w === ';' || w === '||') {
        commands.push(current);
        current = [];
      } else current.push(w);
    }
    commands.push(current);
  }
  return commands.filter((c) => c.length > 0);
}

const helps = new Map<string, string>();
function helpOf(command: string): string {
  if (!helps.has(command)) {
    const r = spawnSync(process.execPath, [join(root, 'src/cli/main.ts'), command, '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `tidemark ${command} --help: ${r.stderr}`);
    helps.set(command, r.stdout);
  }
  return helps.get(command)!;
}

test("the README's shell commands exist and take the options they are given", () => {
  const blocks = readme.filter((b) => b.lang === 'sh');
  assert.ok(blocks.length >= 2);
  let checked = 0;
  for (const b of blocks) {
    const cli = new Set<string>(['tidemark', '$T']);
    for (const c of commandsOf(b.code)) {
      const assignment = /^(\w+)="(.*)"$/.exec(c[0]!);
      if (assignment !== null) {
        if (/src\/cli\/main\.ts$/.test(assignment[2]!)) cli.add(`$${assignment[1]}`);
        continue;
      }
      const args = c[0] === './with-node' ? c.slice(1) : c;
      if (args[0] === 'npm') {
        if (args[1] === 'run') assert.ok(Object.hasOwn(pkg.scripts, args[2]!), `${where(b)}: npm run ${args[2]} is not a script of package.json`);
        else assert.ok(['ci', 'test', 'install'].includes(args[1]!), `${where(b)}: npm ${args[1]}`);
        checked++;
        continue;
      }
      if (!cli.has(args[0]!)) continue;
      const [command, ...rest] = args.slice(1);
      const help = helpOf(command!);
      for (const w of rest) {
        if (w.startsWith('--')) assert.ok(new RegExp(`${w}\\b`).test(help), `${where(b)}: ${command} ${w} is not an option of tidemark ${command} (its --help)`);
      }
      if (command === 'kafka') assert.match(help, new RegExp(`^\\s+${rest[0]}\\s`, 'm'), `${where(b)}: kafka ${rest[0]}`);
      checked++;
    }
  }
  assert.ok(checked >= 7, `only ${checked} commands found`);
});

test("the README's CLI table has a row for every command of tidemark --help", () => {
  const r = spawnSync(process.execPath, [join(root, 'src/cli/main.ts'), '--help'], { encoding: 'utf8' });
  const commands = [...r.stdout.slice(r.stdout.indexOf('Commands:')).matchAll(/^ {2}(\w+) {2,}/gm)].map((m) => m[1]!);
  assert.ok(commands.includes('audit') && commands.includes('run'), r.stdout);
  const text = readFileSync(join(root, 'README.md'), 'utf8');
  assert.deepEqual(commands.filter((c) => !text.includes(`| \`tidemark ${c}`)), []);
});
