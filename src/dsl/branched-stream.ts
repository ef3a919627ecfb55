import type { KStream, Predicate } from './kstream.ts';

/** The branches of a `split()` under construction. */
export class BranchedStream<K, V, Names extends string> {
  readonly #stream: KStream<K, V>;
  readonly #branches: (readonly [string, Predicate<K, V> | undefined])[];

  /** @internal */
  constructor(stream: KStream<K, V>, branches: (readonly [string, Predicate<K, V> | undefined])[]) {
    this.#stream = stream;
    this.#branches = branches;
  }

  /** Adds a branch taking the records `predicate` accepts that no earlier branch took. */
  branch<N extends string>(name: N, predicate: Predicate<K, V>): BranchedStream<K, V, Names | N> {
    if (this.#branches.some(([b]) => b === name)) throw new Error(`split(): two branches are named ${name}`);
    return new BranchedStream<K, V, Names | N>(this.#stream, [...this.#branches, [name, predicate]]);
  }

  /** Ends the split; records no branch took go to `name`. */
  defaultBranch<N extends string>(name: N): Record<Names | N, KStream<K, V>> {
    return this.#stream.splitInto([...this.#branches, [name, undefined]]) as Record<Names | N, KStream<K, V>>;
  }

  /** Ends the split; records no branch took are dropped. */
  noDefaultBranch(): Record<Names, KStream<K, V>> {
    return this.#stream.splitInto(this.#branches) as Record<Names, KStream<K, V>>;
  }
}
