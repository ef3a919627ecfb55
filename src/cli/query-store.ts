/**
 * How `tidemark query` reaches a store of an application that runs (or
 * ran) in another process: the topology module says which store it is and
 * how its keys and values are serialized; the data dir is opened read-only,
 * so that the query writes nothing, takes no task and holds up no commit
 * (LMDB lets any number of readers in other processes read beside the one
 * writer, each a snapshot of the last commit).
 *
 * @module
 */
import { thisCliInvocation } from './invocation.ts';
import { EmbeddedLog } from '../connectors/embedded/embedded-log.ts';
import { Application, applicationInternals, type QueryableStore } from '../runtime/application.ts';
import type { StoreDefinition } from '../state/key-value-store.ts';
import { CliError, describeThrown } from './errors.ts';
import { loadTopologyModule } from './topology-module.ts';

/** A store of an application opened for reading, and what names it in messages. */
export interface OpenedStore {
  readonly store: QueryableStore<unknown, unknown>;
  readonly definition: StoreDefinition;
  /** `store S of application A`, for messages. */
  readonly label: string;
  /** `store S of application A on data dir D`, for messages. */
  readonly where: string;
  close(): Promise<void>;
}

/**
 * Opens store `storeName` of the topology module at `modulePath` in
 * `dataDir`, read-only. Throws a one-line {@link CliError} for a store the
 * topology does not have (naming the ones it has), a window or session
 * store, or an application that has committed nothing there yet.
 */
export async function openQueriedStore(modulePath: string, dataDir: string, storeName: string): Promise<OpenedStore> {
  const { applicationId, topology } = await loadTopologyModule(modulePath);
  const definition = topology.stores.get(storeName);
  if (definition === undefined) {
    throw new CliError(`application ${applicationId} (${modulePath}) has no store ${storeName}; its stores: ${[...topology.stores.keys()].sort().join(', ') || 'none'}`);
  }
  if (definition.ordered === true && definition.versioned === undefined) {
    throw new CliError(`store ${storeName} of application ${applicationId} is a window or session store: tidemark query reads key-value stores and tables`);
  }
  const label = `store ${storeName} of application ${applicationId}`;
  const where = `${label} on data dir ${dataDir}`;
  const log = await EmbeddedLog.open({ dataDir, readOnly: true });
  try {
    const app = new Application(topology, { applicationId, log });
    let tasks: string[];
    try {
      tasks = applicationInternals(app).plan({}).tasks.filter((t) => t.stores.includes(storeName)).map((t) => t.taskId);
    } catch (e) {
      throw new CliError(`${where}: the application cannot have run there (${describeThrown(e)})`);
    }
    // An application that never committed would answer every key "absent": say what is wrong instead.
    if (!tasks.some((t) => log.readCheckpoint(applicationId, t) !== undefined)) {
      throw new CliError(`${where}: the application has committed nothing there yet (${thisCliInvocation()} run ${modulePath} --data-dir ${dataDir} runs it)`);
    }
    return { store: app.store(storeName), definition, label, where, close: () => log.close() };
  } catch (e) {
    await log.close();
    throw e;
  }
}
