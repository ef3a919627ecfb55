/**
 * The state file of a detached broker, `<dataDir>/broker.json`: what a later
 * process (`tidemark kafka status`, `stop`) needs to find the broker.
 *
 * @module
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const STATE_FILE = 'broker.json';

/** What `<dataDir>/broker.json` holds for a detached broker. */
export interface KafkaBrokerState {
  /** `127.0.0.1:<port>`. */
  readonly bootstrap: string;
  readonly port: number;
  readonly controllerPort: number;
  /** The broker JVM's process id. */
  readonly pid: number;
  readonly dataDir: string;
  readonly libsDir: string;
  /** When it became ready, as an ISO date. */
  readonly startedAt: string;
}

/** The state of the detached broker of `dataDir`, if `<dataDir>/broker.json` exists. */
export function readKafkaBrokerState(dataDir: string): KafkaBrokerState | undefined {
  try {
    return JSON.parse(readFileSync(join(resolve(dataDir), STATE_FILE), 'utf8')) as KafkaBrokerState;
  } catch {
    return undefined;
  }
}

/** Writes `<dataDir>/broker.json` once a detached broker is ready. */
export function writeKafkaBrokerState(dataDir: string, state: KafkaBrokerState): void {
  writeFileSync(join(dataDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
}

/** Removes `<dataDir>/broker.json`, if there is one. */
export function removeKafkaBrokerState(dataDir: string): void {
  rmSync(join(dataDir, STATE_FILE), { force: true });
}
