/**
 * Formatting a node's storage (`kafka.tools.StorageTool format`), which a
 * KRaft node needs once before its first start: it writes the cluster id
 * into `<dataDir>/logs/meta.properties`.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROPERTIES_FILE, type BrokerConfig } from './config.ts';
import { jvmArgs } from './launch.ts';
import { lastLines } from './log-tail.ts';
import { javaCommand } from './prerequisites.ts';

/** Whether the node's log directory was formatted already (it has a `meta.properties`). */
export function storageFormatted(dataDir: string): boolean {
  return existsSync(join(dataDir, 'logs', 'meta.properties'));
}

/**
 * `kafka.tools.StorageTool format` with the cluster id (default a new one),
 * for a data directory never formatted; the nodes of one cluster share an id.
 * `extraArgs` go to the tool as they are (e.g. `--add-scram` for SCRAM users).
 */
export async function formatStorage(config: BrokerConfig, clusterId = randomClusterId(), extraArgs: readonly string[] = []): Promise<void> {
  const args = [...jvmArgs(config), 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', join(config.dataDir, PROPERTIES_FILE), ...extraArgs];
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
