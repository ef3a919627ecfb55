/**
 * Where the development broker's jars are cached: in a clone, next to the
 * sources; installed as a package, outside `node_modules` (which `npm ci`
 * empties), in the user's cache.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kafkaCacheDirFor } from '../../src/dev-broker/jars.ts';

test('a clone caches the jars in <repo>/.cache/kafka', () => {
  assert.equal(kafkaCacheDirFor('/src/tidemark', {}, '/home/me'), '/src/tidemark/.cache/kafka');
});

test('an installed package caches them in the user cache, not under node_modules', () => {
  assert.equal(kafkaCacheDirFor('/app/node_modules/tidemark', {}, '/home/me'), '/home/me/.cache/tidemark/kafka');
  assert.equal(kafkaCacheDirFor('/app/node_modules/tidemark', { XDG_CACHE_HOME: '/var/cache/me' }, '/home/me'), '/var/cache/me/tidemark/kafka');
  assert.equal(kafkaCacheDirFor('/app/node_modules/tidemark', { XDG_CACHE_HOME: '' }, '/home/me'), '/home/me/.cache/tidemark/kafka');
  // A clone whose own path has a directory merely named like it is still a clone.
  assert.equal(kafkaCacheDirFor('/src/node_modules_backup/tidemark', {}, '/home/me'), '/src/node_modules_backup/tidemark/.cache/kafka');
});

test('TIDEMARK_KAFKA_CACHE wins over both', () => {
  assert.equal(kafkaCacheDirFor('/app/node_modules/tidemark', { TIDEMARK_KAFKA_CACHE: '/jars' }, '/home/me'), '/jars');
  assert.equal(kafkaCacheDirFor('/src/tidemark', { TIDEMARK_KAFKA_CACHE: '/jars' }, '/home/me'), '/jars');
});
