import { jsonSerde, type Serde } from '../records/serde.ts';
import type { StoreDefinition, StoreKind } from '../state/key-value-store.ts';

/**
 * Declares a key-value store. `lmdb` keeps committed entries on disk and
 * reads them on demand; `in-memory` holds all of them in memory and restores
 * them from its changelog at start. Both commit with the task.
 *
 * @example
 * builder.addStateStore(keyValueStore('counts', { kind: 'lmdb', key: Serdes.string(), value: Serdes.json<number>() }));
 */
export function keyValueStore<K, V>(
  name: string,
  options: { kind?: StoreKind; key?: Serde<K>; value?: Serde<V> } = {},
): StoreDefinition<K, V> {
  return {
    name,
    kind: options.kind ?? 'lmdb',
    keySerde: options.key ?? (jsonSerde() as Serde<K>),
    valueSerde: options.value ?? (jsonSerde() as Serde<V>),
  };
}
