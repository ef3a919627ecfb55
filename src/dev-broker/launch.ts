/**
 * The broker's JVM: its command line, its start as a child process, and the
 * guards that kill a broker not started detached when the process that
 * started it exits, however it exits.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { LOG4J_FILE, OUT_FILE, PROPERTIES_FILE, type BrokerConfig } from './config.ts';
import { javaCommand } from './prerequisites.ts';

/** A started broker JVM. */
export interface Running {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with how the process ended. */
  readonly exited: Promise<string>;
  ended: boolean;
}

/** The JVM options and class path of a node; the main class and its arguments follow. */
export function jvmArgs(config: Pick<BrokerConfig, 'dataDir' | 'libsDir' | 'maxHeap'>): string[] {
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

/** Kills the brokers of this process that were not started detached, whichever way it exits. */
const attached = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts `kafka.Kafka` on the node's server.properties, its output appended to `<dataDir>/broker.out`. */
export function launch(config: BrokerConfig): Running {
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
