/**
 * The project's docs carry its semantics: nothing a user reads — the docs,
 * the README, the sources' comments (the API reference and help come from
 * them) — cites the design notes, which are not in the repository or the
 * package.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => join(e.parentPath, e.name).slice(root.length));
}

test('no doc, README or source comment cites DESIGN sections', () => {
  const files = ['README.md', ...filesUnder('docs', '.md').filter((f) => !f.startsWith('docs/api/')), ...filesUnder('src', '.ts')];
  const citations = files.flatMap((f) =>
    readFileSync(join(root, f), 'utf8')
      .split('\n')
      .flatMap((line, i) => (/\bDESIGN\b/.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
  );
  assert.deepEqual(citations, []);
});
