/**
 * The jars of the development broker: Kafka's broker, its command-line tools
 * and a log4j2 binding, fetched from Maven Central with `mvn` into a cache:
 * `<repo>/.cache/kafka/<version>/libs` in a clone, the user's cache directory
 * when tidemark is installed as a package (see {@link kafkaCacheDirFor}).
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve, sep } from 'node:path';
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

/** Where {@link ensureKafkaJars} keeps the jars, which release, and how it reports progress. */
export interface EnsureKafkaJarsOptions {
  /** Root of the jar cache; default {@link defaultKafkaCacheDir}. The jars go to `<cacheDir>/<version>/libs`. */
  readonly cacheDir?: string;
  /** Kafka version, e.g. `4.4.0`; default {@link DEFAULT_KAFKA_VERSION}. */
  readonly version?: string;
  /** Progress lines (what is fetched, where, how long it took); nothing when the cache is complete. */
  readonly log?: (line: string) => void;
  /** Give up on `mvn` after this long (default 15 minutes). */
  readonly timeoutMs?: number;
}

/**
 * The jar cache of this copy of tidemark: {@link kafkaCacheDirFor} its own
 * root directory, the environment and the user's home.
 *
 * @example
 * defaultKafkaCacheDir(); // '/home/me/src/tidemark/.cache/kafka' in a clone
 */
export function defaultKafkaCacheDir(): string {
  const packageRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  return kafkaCacheDirFor(packageRoot, process.env, homedir());
}

/**
 * Where the Kafka jars (54 MB) are cached, by where tidemark lives:
 * `TIDEMARK_KAFKA_CACHE` when set; in a clone, `<repo>/.cache/kafka`, which
 * git ignores; installed as a package (its root under a `node_modules`
 * directory), the user's cache, `$XDG_CACHE_HOME/tidemark/kafka` or
 * `~/.cache/tidemark/kafka` — so that `npm ci` and reinstalls, which empty
 * `node_modules`, do not throw the jars away and several projects share one
 * copy.
 *
 * @example
 * kafkaCacheDirFor('/src/tidemark', {}, '/home/me');                        // '/src/tidemark/.cache/kafka'
 * kafkaCacheDirFor('/app/node_modules/tidemark', {}, '/home/me');           // '/home/me/.cache/tidemark/kafka'
 * kafkaCacheDirFor('/app/node_modules/tidemark', { XDG_CACHE_HOME: '/c' }, '/home/me'); // '/c/tidemark/kafka'
 * @internal
 */
export function kafkaCacheDirFor(packageRoot: string, env: Readonly<Record<string, string | undefined>>, home: string): string {
  const explicit = env.TIDEMARK_KAFKA_CACHE;
  if (explicit !== undefined && explicit !== '') return resolve(explicit);
  const installed = resolve(packageRoot).split(sep).includes('node_modules');
  if (!installed) return join(resolve(packageRoot), '.cache', 'kafka');
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg !== undefined && xdg !== '' ? resolve(xdg) : join(home, '.cache'), 'tidemark', 'kafka');
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
<!-- Generated by tidemark (src/dev-broker/jars.ts): the jars of a development Kafka broker. -->
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
