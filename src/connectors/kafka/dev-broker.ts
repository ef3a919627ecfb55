/**
 * A real single-node Apache Kafka broker (KRaft, combined broker and
 * controller) that the project fetches and starts itself, for development
 * and for the tests of the Kafka connector (DESIGN §5). No Docker, no mocks:
 * the broker's jars come from Maven Central through `mvn` into a cache of the
 * project, and the broker runs as a Java child process on 127.0.0.1.
 *
 * Uses Node's builtins only.
 *
 * @example
 * const broker = await startKafkaBroker({ dataDir: '/tmp/k' });
 * // … connect a client to broker.bootstrap ("127.0.0.1:<port>") …
 * await broker.stop();
 *
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The Kafka release fetched by default: `org.apache.kafka:kafka_2.13` at this version. */
export const DEFAULT_KAFKA_VERSION = '4.4.0';
/** Kafka's POM has no logging binding; without one the broker logs nothing. The version Kafka 4.4 uses itself. */
const LOG4J_VERSION = '2.26.1';
/**
 * Kafka 4.4 still pulls slf4j-api 1.7, which does not find log4j-slf4j2-impl
 * (an slf4j 2 provider): pin the 2.x API, which 1.7 callers work with.
 */
const SLF4J_VERSION = '2.0.17';
/** Pinned so that the fetch does not depend on which plugin version Maven would pick. */
const DEPENDENCY_PLUGIN_VERSION = '3.8.1';

/** Written into the libs directory last, so a present marker means a complete copy. */
const COMPLETE_MARKER = '.complete.json';
const STATE_FILE = 'broker.json';
const LOG_FILE = 'broker.log';
const OUT_FILE = 'broker.out';
const PROPERTIES_FILE = 'server.properties';
const LOG4J_FILE = 'log4j2.properties';
/** Logged by KafkaRaftServer once the broker and controller have started and the broker is unfenced. */
const READY_LINE = 'Kafka Server started';
const HOST = '127.0.0.1';

export interface EnsureKafkaJarsOptions {
  /** Root of the jar cache; default `<repo>/.cache/kafka`. The jars go to `<cacheDir>/<version>/libs`. */
  readonly cacheDir?: string;
  /** Kafka version, e.g. `4.4.0`; default {@link DEFAULT_KAFKA_VERSION}. */
  readonly version?: string;
  /** Progress lines (what is fetched, where, how long it took); nothing when the cache is complete. */
  readonly log?: (line: string) => void;
  /** Give up on `mvn` after this long (default 15 minutes). */
  readonly timeoutMs?: number;
}

/** `<repo>/.cache/kafka`: git-ignored, next to the sources (or the built package). */
export function defaultKafkaCacheDir(): string {
  return resolve(fileURLToPath(new URL('../../../.cache/kafka', import.meta.url)));
}

/**
 * Makes sure the jars of Kafka's broker (`org.apache.kafka:kafka_2.13`), its
 * command-line tools (`org.apache.kafka:kafka-tools`) and a log4j2 binding
 * are in the cache, fetching them with `mvn dependency:copy-dependencies`
 * (Maven's own repository, ~/.m2, is used as usual) when they are not.
 * Returns the libs directory, for `java -cp '<libs>/*'`.
 *
 * A copy is used only when complete: mvn copies into a directory of its own,
 * which is renamed into place after a marker file is written in it.
 */
export async function ensureKafkaJars(options: EnsureKafkaJarsOptions = {}): Promise<string> {
  const version = options.version ?? DEFAULT_KAFKA_VERSION;
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`not a Kafka release version: '${version}' (e.g. ${DEFAULT_KAFKA_VERSION})`);
  const log = options.log ?? (() => {});
  const versionDir = join(resolve(options.cacheDir ?? defaultKafkaCacheDir()), version);
  const libs = join(versionDir, 'libs');
  if (existsSync(join(libs, COMPLETE_MARKER))) return libs;

  mkdirSync(versionDir, { recursive: true });
  const pom = join(versionDir, 'pom.xml');
  writeFileSync(pom, pomXml(version));
  const partial = join(versionDir, `libs.partial-${process.pid}-${Date.now()}`);
  rmSync(partial, { recursive: true, force: true });
  log(`fetching Kafka ${version} broker jars from Maven Central with mvn into ${libs}`);
  const started = Date.now();
  try {
    await runMvn(
      ['-q', '-B', '-Dstyle.color=never', '-f', pom, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${partial}`],
      versionDir,
      options.timeoutMs ?? 15 * 60_000,
      (seconds) => log(`  still fetching (${seconds} s)`),
      `Kafka ${version}`,
    );
    const jars = existsSync(partial) ? readdirSync(partial).filter((f) => f.endsWith('.jar')).sort() : [];
    for (const expected of [`kafka_2.13-${version}.jar`, `kafka-tools-${version}.jar`, `log4j-slf4j2-impl-${LOG4J_VERSION}.jar`]) {
      if (!jars.includes(expected)) throw new Error(`mvn finished but ${expected} is not among the ${jars.length} jars it copied to ${partial}`);
    }
    const bytes = jars.reduce((sum, f) => sum + statSync(join(partial, f)).size, 0);
    writeFileSync(join(partial, COMPLETE_MARKER), `${JSON.stringify({ version, jars, bytes, fetchedAt: new Date().toISOString() }, null, 2)}\n`);
    if (existsSync(join(libs, COMPLETE_MARKER))) {
      // Another process finished the same fetch meanwhile: keep its copy.
      rmSync(partial, { recursive: true, force: true });
      return libs;
    }
    rmSync(libs, { recursive: true, force: true });
    renameSync(partial, libs);
    log(`fetched ${jars.length} jars (${(bytes / 1048576).toFixed(0)} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return libs;
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

function pomXml(version: string): string {
  const dep = (group: string, artifact: string, v: string): string =>
    `    <dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId><version>${v}</version></dependency>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by tidemark (src/connectors/kafka/dev-broker.ts): the jars of a development Kafka broker. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.tidemark.cache</groupId>
  <artifactId>kafka-dev-broker</artifactId>
  <version>${version}</version>
  <packaging>pom</packaging>
  <dependencies>
${dep('org.apache.kafka', 'kafka_2.13', version)}
${dep('org.apache.kafka', 'kafka-tools', version)}
${dep('org.apache.logging.log4j', 'log4j-slf4j2-impl', LOG4J_VERSION)}
${dep('org.slf4j', 'slf4j-api', SLF4J_VERSION)}
  </dependencies>
  <build>
    <pluginManagement>
      <plugins>
        <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>${DEPENDENCY_PLUGIN_VERSION}</version></plugin>
      </plugins>
    </pluginManagement>
  </build>
</project>
`;
}

async function runMvn(args: string[], cwd: string, timeoutMs: number, heartbeat: (seconds: number) => void, what: string): Promise<void> {
  const started = Date.now();
  const child = spawn('mvn', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const beat = setInterval(() => heartbeat(Math.round((Date.now() - started) / 1000)), 15_000);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done, fail) => {
      child.once('error', (e: NodeJS.ErrnoException) =>
        fail(e.code === 'ENOENT' ? new Error('mvn not found on PATH: fetching the Kafka jars needs Maven') : e),
      );
      child.once('close', (code, signal) => done({ code, signal }));
    });
    if (result.code !== 0) {
      const how = result.signal !== null ? `was stopped after ${Math.round(timeoutMs / 1000)} s` : `failed (exit code ${result.code})`;
      throw new Error(`mvn ${how} fetching ${what}: ${mavenErrors(output)}`);
    }
  } finally {
    clearInterval(beat);
    clearTimeout(timer);
  }
}

/** Maven's colour codes, which -B alone does not turn off in every version. */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** Maven's own error lines, without its boilerplate about -e, -X and help pages. */
function mavenErrors(output: string): string {
  const lines = output
    .replace(ANSI_COLOUR, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^\[ERROR\]\s*(-> \[Help|To see the full|Re-run Maven|For more information|\[Help|$)/.test(l));
  const errors = lines.filter((l) => l.startsWith('[ERROR]'));
  return (errors.length > 0 ? errors : lines).slice(0, 6).join(' | ') || 'no output';
}

/** Whether this machine can fetch and run the development broker. */
export type KafkaPrerequisites = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Checks for Java 17+ (`java -version`, or `$JAVA_HOME/bin/java`) and Maven (`mvn -v`); the reason is one line. */
export function kafkaPrerequisites(): KafkaPrerequisites {
  const need = 'the Kafka development broker needs Java 17+ and Maven';
  const java = spawnSync(javaCommand(), ['-version'], { encoding: 'utf8', timeout: 60_000 });
  if (java.error !== undefined) {
    const code = (java.error as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === 'ENOENT' ? `java not found on PATH: ${need}` : `java -version failed (${java.error.message}): ${need}` };
  }
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${java.stderr}${java.stdout}`);
  const major = m === null ? NaN : m[1] === '1' ? Number(m[2]) : Number(m[1]);
  if (java.status !== 0 || Number.isNaN(major)) return { ok: false, reason: `java -version did not print a version: ${need}` };
  if (major < 17) return { ok: false, reason: `java ${major} found on PATH: ${need}` };
  const mvn = spawnSync('mvn', ['-v'], { encoding: 'utf8', timeout: 60_000 });
  if (mvn.error !== undefined) {
    const code = (mvn.error as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === 'ENOENT' ? `mvn not found on PATH: ${need}` : `mvn -v failed (${mvn.error.message}): ${need}` };
  }
  if (mvn.status !== 0) return { ok: false, reason: `mvn -v failed (exit code ${mvn.status}): ${need}` };
  return { ok: true };
}

/** `$JAVA_HOME/bin/java` when JAVA_HOME is set and has one, else `java` from the PATH. */
export function javaCommand(): string {
  const home = process.env.JAVA_HOME;
  if (home !== undefined && home !== '' && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
  return 'java';
}

export interface StartKafkaBrokerOptions {
  /** Where the broker keeps its logs (partitions), config and log file; created when missing. Default: a new temporary directory, which the caller removes. */
  readonly dataDir?: string;
  /** The broker's PLAINTEXT port on 127.0.0.1; default a free one. */
  readonly port?: number;
  /** The controller's port on 127.0.0.1; default a free one. */
  readonly controllerPort?: number;
  /** Progress lines: fetching jars, formatting, starting, ready. */
  readonly log?: (line: string) => void;
  /**
   * Leave the broker running after this process exits, and write
   * `<dataDir>/broker.json` (bootstrap, pid) for {@link stopKafkaBroker}.
   * Otherwise the broker is killed when this process exits, even by a signal.
   */
  readonly detached?: boolean;
  /** The jars; default {@link ensureKafkaJars} with `version` and `cacheDir`. */
  readonly libsDir?: string;
  readonly version?: string;
  readonly cacheDir?: string;
  /** How long to wait for the broker to be ready (default 120 s). */
  readonly readyTimeoutMs?: number;
  /** The JVM's maximum heap (default `512m`). */
  readonly maxHeap?: string;
  /** More broker settings, added to (and overriding) the generated server.properties. */
  readonly brokerProperties?: Readonly<Record<string, string | number | boolean>>;
  /** Aborting it while the broker starts kills the broker and rejects (e.g. Ctrl-C in the CLI). */
  readonly signal?: AbortSignal;
}

/** A running development broker. */
export interface KafkaBroker {
  /** `127.0.0.1:<port>`, for a client's bootstrap servers. */
  readonly bootstrap: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly dataDir: string;
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

/** What `<dataDir>/broker.json` holds for a detached broker. */
export interface KafkaBrokerState {
  readonly bootstrap: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly pid: number;
  readonly dataDir: string;
  readonly libsDir: string;
  readonly startedAt: string;
}

interface BrokerConfig {
  readonly dataDir: string;
  readonly libsDir: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly detached: boolean;
  readonly readyTimeoutMs: number;
  readonly maxHeap: string;
  readonly log: (line: string) => void;
  readonly signal: AbortSignal | undefined;
}

interface Running {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with how the process ended. */
  readonly exited: Promise<string>;
  ended: boolean;
}

/**
 * Starts a combined broker+controller node in KRaft mode on 127.0.0.1:
 * fetches the jars if needed, writes server.properties and a log4j2 config
 * (the broker logs to `<dataDir>/broker.log`, the JVM's own output goes to
 * `<dataDir>/broker.out`), formats the storage on first use, starts
 * `kafka.Kafka`, and resolves once the broker has logged that it started and
 * answers an ApiVersions request. A failure to start rejects with the last
 * lines of its log.
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
  writeFileSync(join(dataDir, PROPERTIES_FILE), serverProperties(config, options.brokerProperties ?? {}));
  writeFileSync(join(dataDir, LOG4J_FILE), log4jProperties(dataDir));
  rmSync(join(dataDir, STATE_FILE), { force: true });
  if (!existsSync(join(dataDir, 'logs', 'meta.properties'))) {
    log(`formatting ${join(dataDir, 'logs')}`);
    await formatStorage(config);
  }
  const broker = new DevBroker(config);
  await broker.start();
  return broker;
}

class DevBroker implements KafkaBroker {
  readonly bootstrap: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly dataDir: string;
  readonly libsDir: string;
  readonly #config: BrokerConfig;
  #running: Running | undefined;

  constructor(config: BrokerConfig) {
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
    try {
      await waitUntilReady(this.#config, running);
    } catch (e) {
      running.child.kill('SIGKILL');
      await running.exited;
      throw e;
    }
    if (detached) {
      const state: KafkaBrokerState = {
        bootstrap: this.bootstrap,
        port: this.port,
        controllerPort: this.controllerPort,
        pid: running.pid,
        dataDir: this.dataDir,
        libsDir: this.libsDir,
        startedAt: new Date().toISOString(),
      };
      writeFileSync(join(this.dataDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
      running.child.unref();
    }
    log(`Kafka broker ready at ${this.bootstrap} in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${running.pid})`);
  }

  async stop(timeoutMs = 30_000): Promise<void> {
    const running = this.#running;
    if (running === undefined) return;
    if (!running.ended) {
      running.child.kill('SIGTERM');
      const timer = setTimeout(() => running.child.kill('SIGKILL'), timeoutMs);
      try {
        await running.exited;
      } finally {
        clearTimeout(timer);
      }
    }
    if (this.#config.detached) rmSync(join(this.dataDir, STATE_FILE), { force: true });
  }

  kill(): void {
    const running = this.#running;
    if (running !== undefined && !running.ended) running.child.kill('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

/** Kills the brokers of this process that were not started detached, whichever way it exits. */
const attached = new Set<ChildProcess>();
let exitHookInstalled = false;

function launch(config: BrokerConfig): Running {
  const out = openSync(join(config.dataDir, OUT_FILE), 'a');
  let child: ChildProcess;
  try {
    child = spawn(javaCommand(), [...jvmArgs(config), 'kafka.Kafka', join(config.dataDir, PROPERTIES_FILE)], {
      cwd: config.dataDir,
      stdio: ['ignore', out, out],
      detached: config.detached,
    });
  } finally {
    closeSync(out);
  }
  const running: Running = {
    child,
    pid: child.pid ?? -1,
    ended: false,
    exited: new Promise<string>((done) => {
      child.once('exit', (code, signal) => done(signal !== null ? `killed by ${signal}` : `exit code ${code}`));
      child.once('error', (e) => done(`could not start ${javaCommand()}: ${e.message}`));
    }),
  };
  void running.exited.then(() => {
    running.ended = true;
    attached.delete(child);
  });
  if (!config.detached && child.pid !== undefined) {
    attached.add(child);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const c of attached) c.kill('SIGKILL');
      });
    }
    watchdog(child.pid);
  }
  return running;
}

/**
 * A tiny shell process that SIGKILLs the broker if this Node process dies
 * without running its exit handlers (a signal, a test runner's timeout), so
 * no broker outlives the tests that started it. It ends with the broker.
 */
function watchdog(brokerPid: number): void {
  const script = `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${brokerPid} 2>/dev/null; do sleep 1; done; kill -0 ${process.pid} 2>/dev/null || kill -9 ${brokerPid} 2>/dev/null; exit 0`;
  try {
    const dog = spawn('sh', ['-c', script], { stdio: 'ignore', detached: true });
    dog.on('error', () => {});
    dog.unref();
  } catch {
    // Without sh the exit handler alone has to do.
  }
}

function jvmArgs(config: BrokerConfig): string[] {
  return [
    '-Xms128m',
    `-Xmx${config.maxHeap}`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-XX:-OmitStackTraceInFastThrow',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(config.dataDir, LOG4J_FILE)}`,
    `-Dkafka.logs.dir=${config.dataDir}`,
    '-cp',
    join(config.libsDir, '*'),
  ];
}

function serverProperties(config: BrokerConfig, extra: Readonly<Record<string, string | number | boolean>>): string {
  const { port, controllerPort } = config;
  const props: Record<string, string | number | boolean> = {
    'node.id': 1,
    'process.roles': 'broker,controller',
    listeners: `PLAINTEXT://${HOST}:${port},CONTROLLER://${HOST}:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${port}`,
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'controller.quorum.voters': `1@${HOST}:${controllerPort}`,
    'log.dirs': join(config.dataDir, 'logs'),
    'num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'auto.create.topics.enable': false,
    'offsets.topic.replication.factor': 1,
    // Fewer internal partitions than the default 50: a group's or a transactional producer's first use waits for them.
    'offsets.topic.num.partitions': 5,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 5,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    // After a crash (kill()), the restarted broker cannot register until the old registration's session expires
    // (default 9 s); heartbeats within one JVM (combined mode) make a short session safe.
    'broker.session.timeout.ms': 3000,
    'broker.heartbeat.interval.ms': 500,
    ...extra,
  };
  const lines = Object.entries(props).map(([k, v]) => `${k}=${String(v).replace(/\\/g, '\\\\')}`);
  return `# Generated by tidemark (src/connectors/kafka/dev-broker.ts) on each start.\n${lines.join('\n')}\n`;
}

function log4jProperties(dataDir: string): string {
  const file = join(dataDir, LOG_FILE).replace(/\\/g, '\\\\');
  return `# Generated by tidemark: the broker logs to ${LOG_FILE} in its data directory, not to the console.
status = warn
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = ${file}
appender.file.filePattern = ${file}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 2
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
`;
}

/** `kafka.tools.StorageTool format` with a new cluster id, for a data directory never formatted. */
async function formatStorage(config: BrokerConfig): Promise<void> {
  const args = [...jvmArgs(config), 'kafka.tools.StorageTool', 'format', '-t', randomClusterId(), '-c', join(config.dataDir, PROPERTIES_FILE)];
  const child = spawn(javaCommand(), args, { cwd: config.dataDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-10_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const code = await new Promise<number | string>((done) => {
    child.once('error', (e) => done(e.message));
    child.once('close', (c, signal) => done(c ?? `signal ${signal}`));
  });
  if (code !== 0) {
    throw new Error(`formatting the Kafka storage in ${config.dataDir} failed (${typeof code === 'number' ? `exit code ${code}` : code}): ${lastLines(output, 10).join(' | ')}`);
  }
}

/**
 * A cluster id as Kafka's `Uuid.randomUuid()` makes one: 16 random bytes in
 * URL-safe base64 without padding, never starting with '-' (a command line
 * would take it for an option), never the reserved all-zero ids.
 */
export function randomClusterId(): string {
  while (true) {
    const bytes = randomBytes(16);
    const hex = bytes.toString('hex');
    const id = bytes.toString('base64url');
    if (!id.startsWith('-') && hex !== '0'.repeat(32) && hex !== `${'0'.repeat(31)}1`) return id;
  }
}

async function waitUntilReady(config: BrokerConfig, running: Running): Promise<void> {
  const logPath = join(config.dataDir, LOG_FILE);
  let scanned = fileSize(logPath);
  let sawReadyLine = false;
  let endedWith: string | undefined;
  void running.exited.then((how) => (endedWith = how));
  const deadline = Date.now() + config.readyTimeoutMs;
  while (true) {
    if (endedWith !== undefined) throw startFailure(config, `the Kafka broker stopped while starting (${endedWith})`);
    if (config.signal?.aborted === true) throw new Error(`interrupted while the Kafka broker was starting on ${HOST}:${config.port}; stopped it`);
    if (!sawReadyLine) {
      const size = fileSize(logPath);
      if (size < scanned) scanned = 0; // rolled over
      const from = Math.max(0, scanned - READY_LINE.length);
      sawReadyLine = readRange(logPath, from, size).includes(READY_LINE);
      scanned = size;
    }
    if (sawReadyLine && (await kafkaAnswers(config.port, HOST, 2000))) return;
    if (Date.now() > deadline) {
      throw startFailure(config, `the Kafka broker was not ready within ${Math.round(config.readyTimeoutMs / 1000)} s (${sawReadyLine ? 'it logged that it started but does not answer ApiVersions' : `no '${READY_LINE}' in its log yet`})`);
    }
    await sleep(100);
  }
}

function startFailure(config: BrokerConfig, what: string): Error {
  const logPath = join(config.dataDir, LOG_FILE);
  const outPath = join(config.dataDir, OUT_FILE);
  const parts = [`${what} on ${HOST}:${config.port}`];
  const out = lastLines(readTail(outPath), 8);
  if (out.length > 0) parts.push(`last lines of ${outPath}:\n${out.join('\n')}`);
  const log = lastLines(readTail(logPath), 15);
  parts.push(log.length > 0 ? `last lines of ${logPath}:\n${log.join('\n')}` : `${logPath} is empty`);
  return new Error(parts.join('\n'));
}

/**
 * Whether a Kafka broker answers on `host:port`: sends an ApiVersions (v0)
 * request and checks that the response carries its correlation id and error
 * code 0. False on a refused connection, a timeout or any other answer.
 */
export function kafkaAnswers(port: number, host = HOST, timeoutMs = 2000): Promise<boolean> {
  return new Promise((done) => {
    const correlationId = 0x7d4e0001;
    const clientId = Buffer.from('tidemark-probe');
    const request = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
    request.writeInt32BE(request.length - 4, 0);
    request.writeInt16BE(18, 4); // ApiVersions
    request.writeInt16BE(0, 6);
    request.writeInt32BE(correlationId, 8);
    request.writeInt16BE(clientId.length, 12);
    clientId.copy(request, 14);
    const socket = createConnection({ port, host });
    let received = Buffer.alloc(0);
    const finish = (ok: boolean): void => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('close', () => done(false));
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 10) return;
      finish(received.readInt32BE(4) === correlationId && received.readInt16BE(8) === 0);
    });
  });
}

/**
 * The ports given, else the ones this data directory used last time when
 * they are free (a restarted development broker keeps its address), else
 * free ones.
 */
async function choosePorts(given: number | undefined, givenController: number | undefined, dataDir: string): Promise<[number, number]> {
  for (const [p, what] of [[given, 'port'], [givenController, 'controller port']] as const) {
    if (p !== undefined && !(await portIsFree(p))) throw new Error(`${what} ${p} on ${HOST} is in use`);
  }
  const last = lastPorts(dataDir);
  const reuse = async (p: number | undefined, other: number | undefined): Promise<number | undefined> =>
    p !== undefined && p !== other && (await portIsFree(p)) ? p : undefined;
  const port = given ?? (await reuse(last?.port, givenController));
  const controllerPort = givenController ?? (await reuse(last?.controllerPort, port));
  return freePorts(port, controllerPort);
}

function lastPorts(dataDir: string): { port?: number; controllerPort?: number } | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, PROPERTIES_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const listeners = /^listeners=(.*)$/m.exec(text)?.[1] ?? '';
  const portOf = (name: string): number | undefined => {
    const m = new RegExp(`${name}://[^,:]*:(\\d+)`).exec(listeners);
    return m === null ? undefined : Number(m[1]);
  };
  return { port: portOf('PLAINTEXT'), controllerPort: portOf('CONTROLLER') };
}

async function freePorts(port: number | undefined, controllerPort: number | undefined): Promise<[number, number]> {
  // Hold both probes open at once so the two ports differ.
  const servers = await Promise.all([port, controllerPort].map((p) => (p === undefined ? listen(0) : undefined)));
  const chosen = servers.map((s, i) => (s === undefined ? [port, controllerPort][i]! : (s.address() as { port: number }).port));
  await Promise.all(servers.map((s) => (s === undefined ? undefined : new Promise((r) => s.close(r)))));
  if (chosen[0] === chosen[1]) throw new Error(`the broker and controller ports must differ (both ${chosen[0]})`);
  return [chosen[0]!, chosen[1]!];
}

function listen(port: number): Promise<ReturnType<typeof createServer>> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen({ port, host: HOST, exclusive: true }, () => done(server));
  });
}

async function portIsFree(port: number): Promise<boolean> {
  try {
    const server = await listen(port);
    await new Promise((r) => server.close(r));
    return true;
  } catch {
    return false;
  }
}

/** The state of the detached broker of `dataDir`, if `<dataDir>/broker.json` exists. */
export function readKafkaBrokerState(dataDir: string): KafkaBrokerState | undefined {
  try {
    return JSON.parse(readFileSync(join(resolve(dataDir), STATE_FILE), 'utf8')) as KafkaBrokerState;
  } catch {
    return undefined;
  }
}

/** What {@link kafkaBrokerStatus} found. */
export type KafkaBrokerStatus =
  | { readonly running: true; readonly answering: boolean; readonly state: KafkaBrokerState }
  | { readonly running: false; readonly stale?: KafkaBrokerState };

/** Whether the detached broker of `dataDir` runs, and whether it answers a Kafka request. */
export async function kafkaBrokerStatus(dataDir: string): Promise<KafkaBrokerStatus> {
  const state = readKafkaBrokerState(dataDir);
  if (state === undefined) return { running: false };
  if (!isOurBroker(state.pid, resolve(dataDir))) return { running: false, stale: state };
  return { running: true, answering: await kafkaAnswers(state.port), state };
}

/**
 * Stops the detached broker of `dataDir` (see `startKafkaBroker({ detached:
 * true })`): SIGTERM, then SIGKILL after `timeoutMs`. Resolves with the state
 * of the broker it stopped, or undefined when none was running. Removes
 * `broker.json` either way.
 */
export async function stopKafkaBroker(dataDir: string, timeoutMs = 30_000): Promise<KafkaBrokerState | undefined> {
  const dir = resolve(dataDir);
  const state = readKafkaBrokerState(dir);
  if (state === undefined) return undefined;
  if (!isOurBroker(state.pid, dir)) {
    rmSync(join(dir, STATE_FILE), { force: true });
    return undefined;
  }
  signal(state.pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (processAlive(state.pid) && Date.now() < deadline) await sleep(100);
  if (processAlive(state.pid)) {
    signal(state.pid, 'SIGKILL');
    while (processAlive(state.pid)) await sleep(50);
  }
  rmSync(join(dir, STATE_FILE), { force: true });
  return state;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** Alive and not a zombie (a detached broker's parent may not have reaped it yet). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** The process is alive and, where /proc tells, is a Kafka broker started on this data directory (not a reused pid). */
function isOurBroker(pid: number, dataDir: string): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0 || !processAlive(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes('kafka.Kafka') && cmdline.includes(join(dataDir, PROPERTIES_FILE));
  } catch {
    return true;
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readRange(path: string, from: number, to: number): string {
  if (to <= from) return '';
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const buffer = Buffer.alloc(to - from);
    const n = readSync(fd, buffer, 0, buffer.length, from);
    return buffer.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function readTail(path: string, bytes = 32_768): string {
  const size = fileSize(path);
  return readRange(path, Math.max(0, size - bytes), size);
}

function lastLines(text: string, n: number): string[] {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '')
    .slice(-n);
}
