export * from './key-value-store.ts';
export { InMemoryKeyValueStore } from './in-memory-store.ts';
export { LmdbKeyValueStore } from './lmdb-store.ts';
