/**
 * The Java side of the peers bench: builds bench/peers/java once with Maven
 * (offline when the local repository already has every artifact, else from
 * Maven Central) and runs one of its main classes, collecting the
 * `PEER-RESULT {json}` line it prints, its peak RSS and its output.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { javaCommand } from '../../src/dev-broker/index.ts';

/** The Maven project of the peers. */
export const JAVA_PROJECT = fileURLToPath(new URL('./java', import.meta.url));

/** What a peer JVM reported. */
export interface JavaRun {
  /** The members of its `PEER-RESULT` line. */
  readonly result: Record<string, unknown>;
  /** Peak resident set size of the JVM, in MB (GNU time's %M), when measured. */
  readonly peakRssMb: number | undefined;
  /** Wall-clock time of the whole JVM, seconds (from the driver). */
  readonly processS: number;
  /** Its standard output. */
  readonly stdout: string;
}

function mvn(args: readonly string[]): { ok: boolean; output: string } {
  const r = spawnSync('mvn', ['-B', '-q', ...args], { cwd: JAVA_PROJECT, encoding: 'utf8', timeout: 20 * 60_000 });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}` };
}

/**
 * Compiles the peers and writes their class path; returns it (classes first).
 * `mvn -o` first: with a warm local repository (~/.m2) the build needs no
 * network; a cold one is filled from Maven Central once.
 */
export function buildPeers(log: (line: string) => void): string {
  const goals = ['compile', 'dependency:build-classpath', '-Dmdep.outputFile=target/classpath.txt'];
  let r = mvn(['-o', ...goals]);
  if (!r.ok) {
    log('  maven: the local repository lacks artifacts, fetching from Maven Central …');
    r = mvn(goals);
  }
  if (!r.ok) throw new Error(`building ${JAVA_PROJECT} with mvn failed:\n${r.output.split('\n').slice(-30).join('\n')}`);
  const cpFile = join(JAVA_PROJECT, 'target', 'classpath.txt');
  if (!existsSync(cpFile)) throw new Error(`mvn wrote no ${cpFile}`);
  return `${join(JAVA_PROJECT, 'target', 'classes')}:${readFileSync(cpFile, 'utf8').trim()}`;
}

/**
 * Runs `mainClass` with `args`, its standard error copied to `logFile`; rejects with its last
 * output lines when it fails or prints no PEER-RESULT line (when `expectResult`).
 */
export function runJava(classpath: string, mainClass: string, args: readonly string[], logFile: string, expectResult = true): Promise<JavaRun> {
  const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const javaArgs = ['-cp', classpath, mainClass, ...args];
  const [cmd, argv] = timeBin !== undefined ? [timeBin, ['-f', 'PEER-RSS-KB %M', javaCommand(), ...javaArgs]] : [javaCommand(), javaArgs];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const logStream = createWriteStream(logFile);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      logStream.write(d);
      // Keep the tail only: a verbose JVM would otherwise fill the driver's memory.
      stderr = (stderr + d.toString()).slice(-64 * 1024);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      logStream.end();
      const tail = (): string => `${stdout}\n${stderr}`.trim().split('\n').slice(-25).join('\n');
      if (code !== 0) return reject(new Error(`${mainClass} ${args.join(' ')} exited with ${code}:\n${tail()}`));
      const line = stdout.split('\n').find((l) => l.startsWith('PEER-RESULT '));
      if (line === undefined && expectResult) return reject(new Error(`${mainClass} printed no PEER-RESULT line:\n${tail()}`));
      const rss = /PEER-RSS-KB (\d+)/.exec(stderr);
      resolve({
        result: line === undefined ? {} : (JSON.parse(line.slice('PEER-RESULT '.length)) as Record<string, unknown>),
        peakRssMb: rss === null ? undefined : Number(rss[1]) / 1024,
        processS: (performance.now() - started) / 1000,
        stdout,
      });
    });
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc; undefined where there is none. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, inside parentheses): utime is the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}
