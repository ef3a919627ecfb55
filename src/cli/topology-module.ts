/**
 * Topology modules: how `tidemark run` gets a topology from a file.
 *
 * A topology module is an ES module (`.ts` or `.js`) whose default export
 * is either `{ applicationId, topology }` or a function — sync or async —
 * returning that. The function form lets a module do work at run time (read
 * configuration, environment variables) rather than at import.
 *
 * @example
 * // click-filter.ts
 * import { StreamsBuilder, Serdes } from 'tidemark';
 *
 * const builder = new StreamsBuilder();
 * builder
 *   .stream<string, { url: string }>('clicks', { key: Serdes.string() })
 *   .filter((_, click) => !click.url.startsWith('/health'))
 *   .to('clicks-filtered');
 *
 * export default { applicationId: 'click-filter', topology: builder.build() };
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Topology } from '../runtime/topology.ts';
import { CliError, describeThrown } from './errors.ts';

/** What a topology module's default export describes. */
export interface TopologyModule {
  /** Names the application's checkpoints, state, audit, dead-letter and internal streams. */
  readonly applicationId: string;
  /** The topology, e.g. `new StreamsBuilder()…build()`. */
  readonly topology: Topology;
}

/** A module's default export: the description, or a function (maybe async) returning it. */
export type TopologyModuleExport = TopologyModule | (() => TopologyModule | Promise<TopologyModule>);

const APPLICATION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Imports a topology module and checks its default export. Every problem —
 * no such file, an import that throws, a missing or malformed export — is a
 * {@link CliError} naming the module and saying what was expected.
 */
export async function loadTopologyModule(path: string): Promise<TopologyModule> {
  const file = resolve(path);
  if (!existsSync(file)) throw new CliError(`topology module ${path} not found`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (e) {
    throw new CliError(`cannot load topology module ${path}: ${e instanceof Error ? '' : 'it threw '}${describeThrown(e)}`);
  }
  let described = mod.default;
  if (typeof described === 'function') {
    try {
      described = await (described as () => unknown)();
    } catch (e) {
      throw new CliError(`topology module ${path}: its default export function threw${e instanceof Error ? ':' : ''} ${describeThrown(e)}`);
    }
  }
  return checkDescription(described, path);
}

function checkDescription(d: unknown, path: string): TopologyModule {
  const expected = 'export default { applicationId, topology } (or a function returning it)';
  if (d === undefined) throw new CliError(`topology module ${path} has no default export: ${expected}`);
  if (d === null || typeof d !== 'object') throw new CliError(`topology module ${path}: the default export must be ${expected}`);
  const { applicationId, topology } = d as Partial<TopologyModule>;
  if (typeof applicationId !== 'string' || !APPLICATION_ID.test(applicationId)) {
    throw new CliError(`topology module ${path}: applicationId must be a non-empty string of letters, digits, '.', '_' or '-', got ${JSON.stringify(applicationId)}`);
  }
  if (topology === null || typeof topology !== 'object' || !(topology.nodes instanceof Map) || !(topology.stores instanceof Map)) {
    throw new CliError(`topology module ${path}: topology must be a built topology (new StreamsBuilder()…build())`);
  }
  if (![...topology.nodes.values()].some((n) => n.kind === 'source')) {
    throw new CliError(`topology module ${path}: the topology reads no stream (add builder.stream(…))`);
  }
  return { applicationId, topology };
}
