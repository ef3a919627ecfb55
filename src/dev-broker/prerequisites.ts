/**
 * What the development broker needs on this machine: Java 17+ to run it and
 * Maven to fetch its jars.
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

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
