/**
 * Starting a development Kafka cluster: a few combined broker+controller
 * KRaft nodes on 127.0.0.1, one static controller quorum of all of them,
 * one cluster id, and replication settings that make Kafka's internal
 * topics survive one node down — for testing a connector against leaders
 * spread over brokers, leader moves and a broker crash.
 *
 * @module
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HOST, writeNodeConfig, type BrokerConfig, type BrokerProperties, type KafkaNodeOptions, type QuorumVoter } from './config.ts';
import { ensureKafkaJars } from './jars.ts';
import { launch, type Running } from './launch.ts';
import { choosePorts } from './ports.ts';
import { killNode, readyOrKilled, stopNode } from './node-process.ts';
import { formatStorage, randomClusterId, storageFormatted } from './storage.ts';

/** How {@link startKafkaCluster} starts a cluster. */
export interface StartKafkaClusterOptions extends KafkaNodeOptions {
  /** How many nodes (default 3); each is a broker and a controller voter. */
  readonly nodes?: number;
  /** Where the nodes keep their data, one `node-<id>` directory each; created when missing. Default: a new temporary directory, which the caller removes. */
  readonly dataDir?: string;
}

/** One node of a {@link KafkaCluster}. */
export interface KafkaClusterNode {
  /** Its `node.id`, 1 to n: the broker id clients see in the metadata. */
  readonly id: number;
  /** Its PLAINTEXT port on 127.0.0.1. */
  readonly port: number;
  /** Its JVM's process id (a new one after {@link restart}); -1 when not started. */
  readonly pid: number;
  /** SIGTERM (a controlled shutdown: its leaderships move first), wait for the exit; SIGKILL after `timeoutMs` (default 30 s). */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL at once, for crash tests; `restart()` brings it back. */
  kill(): void;
  /** Stops the node if it runs, then starts it again on the same ports with the same data; resolves once it is ready. */
  restart(): Promise<void>;
}

/** A running development cluster. */
export interface KafkaCluster {
  /** Every node's `127.0.0.1:<port>`, comma-separated, for a client's bootstrap servers. */
  readonly bootstrap: string;
  /** The nodes, by id order. */
  readonly nodes: readonly KafkaClusterNode[];
  /** The directory holding the nodes' directories. */
  readonly dataDir: string;
  /** Stops every node (concurrently). */
  stop(): Promise<void>;
}

/**
 * Settings of a cluster of `n` nodes: the internal topics (consumer offsets,
 * transaction state) replicated to every node up to 3 and needing 2 in sync
 * (1 when the cluster has fewer than 3 nodes), new topics replicated the same.
 */
function clusterSettings(n: number): BrokerProperties {
  const rf = Math.min(3, n);
  const isr = Math.max(1, Math.min(2, rf - 1));
  return {
    'default.replication.factor': rf,
    'offsets.topic.replication.factor': rf,
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': isr,
    'share.coordinator.state.topic.replication.factor': rf,
    'share.coordinator.state.topic.min.isr': isr,
    'min.insync.replicas': isr,
  };
}

/**
 * Starts a cluster of combined broker+controller nodes in KRaft mode on
 * 127.0.0.1, on free ports: writes each node's server.properties with the
 * static quorum of all nodes (`controller.quorum.voters`), formats every
 * node's storage with one shared cluster id on first use, starts the JVMs
 * together (a node's controller waits for a quorum, so none is ready
 * alone), and resolves once every node has logged that it started and
 * answers ApiVersions — which a node does only once it is registered with
 * the controller leader. A failure stops the nodes started and rejects with
 * the last lines of the failing node's log. The JVMs are killed when this
 * process exits.
 *
 * @example
 * const cluster = await startKafkaCluster({ nodes: 3, dataDir: '/tmp/kc' });
 * const log = await KafkaLog.open({ bootstrap: cluster.bootstrap }); // "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"
 * cluster.nodes[1]!.kill(); // a broker crash
 * await cluster.nodes[1]!.restart();
 * await cluster.stop();
 */
export async function startKafkaCluster(options: StartKafkaClusterOptions = {}): Promise<KafkaCluster> {
  const n = options.nodes ?? 3;
  if (!Number.isInteger(n) || n < 1) throw new Error(`a Kafka cluster needs a whole number of nodes, at least 1 (got ${n})`);
  const log = options.log ?? (() => {});
  const dataDir = resolve(options.dataDir ?? mkdtempSync(join(tmpdir(), 'tidemark-kafka-cluster-')));
  const libsDir = options.libsDir ?? (await ensureKafkaJars({ version: options.version, cacheDir: options.cacheDir, log }));
  const configs: BrokerConfig[] = [];
  for (let id = 1; id <= n; id++) {
    const nodeDir = join(dataDir, `node-${id}`);
    mkdirSync(nodeDir, { recursive: true });
    const [port, controllerPort] = await choosePorts(undefined, undefined, nodeDir);
    // Held by no probe any more: a later node must not pick the same ports.
    if (configs.some((c) => [c.port, c.controllerPort].some((p) => p === port || p === controllerPort))) {
      id--;
      continue;
    }
    configs.push({ nodeId: id, dataDir: nodeDir, libsDir, port, controllerPort, detached: false, readyTimeoutMs: options.readyTimeoutMs ?? 180_000, maxHeap: options.maxHeap ?? '256m', log, signal: undefined });
  }
  const voters: QuorumVoter[] = configs.map((c) => ({ nodeId: c.nodeId, controllerPort: c.controllerPort }));
  const extra = { ...clusterSettings(n), ...options.brokerProperties };
  for (const c of configs) writeNodeConfig(c, voters, extra);
  const unformatted = configs.filter((c) => !storageFormatted(c.dataDir));
  if (unformatted.length > 0) {
    // A node formatted before keeps its id; one cluster id for all new ones (a cluster is formatted whole).
    const clusterId = randomClusterId();
    log(`formatting ${unformatted.length} node(s) of cluster ${clusterId} in ${dataDir}`);
    await Promise.all(unformatted.map((c) => formatStorage(c, clusterId)));
  }
  const nodes = configs.map((c) => new ClusterNode(c));
  const started = Date.now();
  log(`starting a Kafka cluster of ${n} nodes at ${nodes.map((x) => `${HOST}:${x.port}`).join(',')} (data in ${dataDir})`);
  const results = await Promise.allSettled(nodes.map((x) => x.start()));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(nodes.map((x) => x.stop(5000)));
    throw (failed as PromiseRejectedResult).reason;
  }
  log(`Kafka cluster ready in ${((Date.now() - started) / 1000).toFixed(1)} s (pids ${nodes.map((x) => x.pid).join(', ')})`);
  return {
    bootstrap: nodes.map((x) => `${HOST}:${x.port}`).join(','),
    nodes,
    dataDir,
    stop: async () => {
      await Promise.all(nodes.map((x) => x.stop()));
    },
  };
}

class ClusterNode implements KafkaClusterNode {
  readonly id: number;
  readonly port: number;
  readonly #config: BrokerConfig;
  #running: Running | undefined;

  constructor(config: BrokerConfig) {
    this.#config = config;
    this.id = config.nodeId;
    this.port = config.port;
  }

  get pid(): number {
    return this.#running?.pid ?? -1;
  }

  async start(): Promise<void> {
    const running = launch(this.#config);
    this.#running = running;
    try {
      await readyOrKilled(this.#config, running);
    } catch (e) {
      throw new Error(`node ${this.id} of the Kafka cluster: ${(e as Error).message}`, { cause: e });
    }
  }

  async stop(timeoutMs = 30_000): Promise<void> {
    await stopNode(this.#running, timeoutMs);
  }

  kill(): void {
    killNode(this.#running);
  }

  async restart(): Promise<void> {
    await this.stop();
    this.#config.log(`restarting node ${this.id} of the Kafka cluster at ${HOST}:${this.port}`);
    await this.start();
  }
}
