/**
 * Choosing a node's two ports on 127.0.0.1: the ones asked for, else the
 * ones its data directory used last time when they are free (a restarted
 * development broker keeps its address), else free ones.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { HOST, PROPERTIES_FILE } from './config.ts';

/**
 * The broker and controller ports: the ones given (an error when in use),
 * else the ones this data directory used last time when they are free, else
 * free ones.
 */
export async function choosePorts(given: number | undefined, givenController: number | undefined, dataDir: string): Promise<[number, number]> {
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

/** The ports of the listeners in the data directory's last server.properties, if there is one. */
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
