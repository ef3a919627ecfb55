/**
 * Starting a development broker: one combined broker+controller KRaft node
 * on 127.0.0.1, its jars fetched if needed, its config written, its storage
 * formatted on first use, and the handle that stops, kills and restarts it.
 *
 * @module
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HOST, writeNodeConfig, type BrokerConfig, type KafkaNodeOptions } from './config.ts';
import { isOurBroker } from './control.ts';
import { ensureKafkaJars } from './jars.ts';
import { launch, type Running } from './launch.ts';
import { choosePorts } from './ports.ts';
import { killNode, readyOrKilled, stopNode } from './node-process.ts';
import { readKafkaBrokerState, removeKafkaBrokerState, writeKafkaBrokerState } from './state.ts';
import { formatStorage, storageFormatted } from './storage.ts';
import { chooseListenerPorts, listenerAddresses, listenerProperties, scramFormatArgs, type DevBrokerListenerAddresses, type DevBrokerListeners } from './security.ts';

/** How {@link startKafkaBroker} starts a broker: where, on which ports, with which jars and settings. */
export interface StartKafkaBrokerOptions extends KafkaNodeOptions {
  /** Where the broker keeps its logs (partitions), config and log file; created when missing. Default: a new temporary directory, which the caller removes. */
  readonly dataDir?: string;
  /** The broker's PLAINTEXT port on 127.0.0.1; default a free one. */
  readonly port?: number;
  /** The controller's port on 127.0.0.1; default a free one. */
  readonly controllerPort?: number;
  /**
   * Leave the broker running after this process exits, and write
   * `<dataDir>/broker.json` (bootstrap, pid) for `stopKafkaBroker`.
   * Otherwise the broker is killed when this process exits, even by a signal.
   */
  readonly detached?: boolean;
  /** Aborting it while the broker starts kills the broker and rejects (e.g. Ctrl-C in the CLI). */
  readonly signal?: AbortSignal;
  /** Secured listeners besides the PLAINTEXT one: TLS, and SASL with SCRAM and PLAIN users (security.ts). */
  readonly listeners?: DevBrokerListeners;
}

/** A running development broker. */
export interface KafkaBroker {
  /** `127.0.0.1:<port>`, for a client's bootstrap servers. */
  readonly bootstrap: string;
  /** The broker's PLAINTEXT port on 127.0.0.1. */
  readonly port: number;
  /** The controller's port on 127.0.0.1. */
  readonly controllerPort: number;
  /** The bootstrap address of each secured listener asked for in {@link StartKafkaBrokerOptions.listeners} (empty without; absent on a handle that has no such listeners). */
  readonly listeners?: DevBrokerListenerAddresses;
  /** Its directory: partitions, config, `broker.log`. */
  readonly dataDir: string;
  /** The jars it runs from. */
  readonly libsDir: string;
  /** The broker JVM's process id (a new one after {@link restart}). */
  readonly pid: number;
  /** SIGTERM (a controlled shutdown), wait for the exit; SIGKILL if it takes longer than `timeoutMs` (default 30 s). */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL at once, for crash tests; `restart()` brings it back. */
  kill(): void;
  /** Stops the broker if it runs, then starts it again on the same ports with the same data. */
  restart(): Promise<void>;
}

/**
 * Starts a combined broker+controller node in KRaft mode on 127.0.0.1:
 * fetches the jars if needed, writes server.properties and a log4j2 config
 * (the broker logs to `<dataDir>/broker.log`, the JVM's own output goes to
 * `<dataDir>/broker.out`), formats the storage on first use, starts
 * `kafka.Kafka`, and resolves once the broker has logged that it started and
 * answers an ApiVersions request. A failure to start rejects with the last
 * lines of its log.
 *
 * @example
 * const broker = await startKafkaBroker({ dataDir: '/tmp/k' });
 * // … connect a client to broker.bootstrap ("127.0.0.1:<port>") …
 * await broker.stop();
 */
export async function startKafkaBroker(options: StartKafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const log = options.log ?? (() => {});
  const dataDir = resolve(options.dataDir ?? mkdtempSync(join(tmpdir(), 'tidemark-kafka-')));
  mkdirSync(dataDir, { recursive: true });
  const existing = readKafkaBrokerState(dataDir);
  if (existing !== undefined && isOurBroker(existing.pid, dataDir)) {
    throw new Error(`a Kafka broker already runs on ${dataDir} at ${existing.bootstrap} (pid ${existing.pid})`);
  }
  const libsDir = options.libsDir ?? (await ensureKafkaJars({ version: options.version, cacheDir: options.cacheDir, log }));
  const [port, controllerPort] = await choosePorts(options.port, options.controllerPort, dataDir);
  const config: BrokerConfig = {
    nodeId: 1,
    dataDir,
    libsDir,
    port,
    controllerPort,
    detached: options.detached === true,
    readyTimeoutMs: options.readyTimeoutMs ?? 120_000,
    maxHeap: options.maxHeap ?? '512m',
    log,
    signal: options.signal,
  };
  const secured = await chooseListenerPorts(options.listeners ?? {}, config);
  // A single node is the whole controller quorum.
  writeNodeConfig(config, [config], { ...listenerProperties(secured, config), ...options.brokerProperties });
  removeKafkaBrokerState(dataDir);
  if (!storageFormatted(dataDir)) {
    log(`formatting ${join(dataDir, 'logs')}`);
    await formatStorage(config, undefined, scramFormatArgs(secured));
  }
  const broker = new DevBroker(config, listenerAddresses(secured));
  await broker.start();
  return broker;
}

class DevBroker implements KafkaBroker {
  readonly bootstrap: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly listeners: DevBrokerListenerAddresses;
  readonly dataDir: string;
  readonly libsDir: string;
  readonly #config: BrokerConfig;
  #running: Running | undefined;

  constructor(config: BrokerConfig, listeners: DevBrokerListenerAddresses = {}) {
    this.listeners = listeners;
    this.#config = config;
    this.port = config.port;
    this.controllerPort = config.controllerPort;
    this.bootstrap = `${HOST}:${config.port}`;
    this.dataDir = config.dataDir;
    this.libsDir = config.libsDir;
  }

  get pid(): number {
    return this.#running?.pid ?? -1;
  }

  async start(): Promise<void> {
    const { log, detached } = this.#config;
    const started = Date.now();
    log(`starting Kafka broker at ${this.bootstrap} (data in ${this.dataDir})`);
    const running = launch(this.#config);
    this.#running = running;
    await readyOrKilled(this.#config, running);
    if (detached) {
      writeKafkaBrokerState(this.dataDir, {
        bootstrap: this.bootstrap,
        port: this.port,
        controllerPort: this.controllerPort,
        pid: running.pid,
        dataDir: this.dataDir,
        libsDir: this.libsDir,
        startedAt: new Date().toISOString(),
      });
      running.child.unref();
    }
    log(`Kafka broker ready at ${this.bootstrap} in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${running.pid})`);
  }

  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.#running === undefined) return;
    await stopNode(this.#running, timeoutMs);
    if (this.#config.detached) removeKafkaBrokerState(this.dataDir);
  }

  kill(): void {
    killNode(this.#running);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}
