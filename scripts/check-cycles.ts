/**
 * Fails when a value import cycle exists under src/: each layer and each
 * file may only build on what comes before it. Type-only imports
 * (`import type`) are left out; they vanish at run time.
 *
 *   node scripts/check-cycles.ts [dir]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? 'src');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** The files a file imports as values: `import … from './x.ts'` and `export … from`, but not `import type`/`export type`. */
function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"](\.[^'"]+)['"]/gm)) found.push(resolve(dirname(file), m[1]!));
  return found;
}

const files = filesUnder(root);
const edges = new Map(files.map((f) => [f, valueImports(f).filter((t) => files.includes(t))]));
const state = new Map<string, 'open' | 'done'>();
const cycles: string[][] = [];
const visit = (f: string, path: string[]): void => {
  if (state.get(f) === 'done') return;
  if (state.get(f) === 'open') {
    cycles.push([...path.slice(path.indexOf(f)), f]);
    return;
  }
  state.set(f, 'open');
  for (const t of edges.get(f)!) visit(t, [...path, f]);
  state.set(f, 'done');
};
for (const f of files) visit(f, []);
for (const c of cycles) console.error(`import cycle: ${c.map((f) => relative(root, f)).join(' -> ')}`);
if (cycles.length > 0) process.exit(1);
console.log(`no import cycle among the ${files.length} files under ${relative(process.cwd(), root) || '.'}`);
