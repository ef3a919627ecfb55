/**
 * The HTTP endpoints of a running application (`tidemark run --http`, or
 * `RunOptions.http`), served by Node's own `http`: `/metrics` (Prometheus
 * text), `/progress` (the run's observation as JSON), `/topology` (its
 * nodes and edges as JSON) and `/`, the live page that shows them. Bound to
 * 127.0.0.1 unless told otherwise; read-only (GET and HEAD only).
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMetrics } from './metrics.ts';
import type { RunObservation } from './observation.ts';
import { subTopologies, type Topology } from './topology.ts';
import { LIVE_PAGE_CSS, LIVE_PAGE_HTML, LIVE_PAGE_SCRIPT } from './live-page.ts';

/** Where to serve. */
export interface HttpOptions {
  /** Default 127.0.0.1: only this machine can connect. */
  readonly host?: string;
  /** 0 picks a free port (see {@link ObservabilityServer.url}). */
  readonly port: number;
}

/** A started server. */
export interface ObservabilityServer {
  /** `http://host:port/`. */
  readonly url: string;
  /** Stops listening; resolves once closed. */
  close(): Promise<void>;
}

/** A node of the topology as `/topology` gives it: enough to draw it. */
export interface TopologyPictureNode {
  /** The node's name. */
  readonly name: string;
  /** What it is. */
  readonly kind: 'source' | 'processor' | 'sink';
  /** The sub-topology it runs in. */
  readonly subTopology: number;
  /** Sources and sinks: the stream. */
  readonly stream?: string;
  /** Sources and sinks: an internal (repartition) stream. */
  readonly internal?: boolean;
  /** Processors: the stores they use. */
  readonly stores?: readonly string[];
  /** The nodes it forwards to. */
  readonly children: readonly string[];
}

/** The topology's nodes by sub-topology, in declaration order. */
export function topologyPicture(topology: Topology): TopologyPictureNode[] {
  const subOf = new Map<string, number>();
  for (const sub of subTopologies(topology)) for (const n of sub.nodes) subOf.set(n.name, sub.id);
  return [...topology.nodes.values()].map((n): TopologyPictureNode => {
    const base = { name: n.name, kind: n.kind, subTopology: subOf.get(n.name) ?? -1, children: [...n.children] };
    if (n.kind === 'processor') return { ...base, stores: [...n.stores] };
    return { ...base, stream: n.stream, internal: n.internal };
  });
}

/**
 * Serves the run's endpoints; `observe` is read at each request, so every
 * answer is the run as it is then.
 *
 * @example
 * const server = await serveObservability({ port: 9464 }, topology, () => app.observe(), app.applicationId);
 * console.log(`live page at ${server.url}`);
 */
export async function serveObservability(options: HttpOptions, topology: Topology, observe: () => RunObservation | undefined, applicationId: string): Promise<ObservabilityServer> {
  const metrics = createMetrics(observe, applicationId);
  const picture = JSON.stringify(topologyPicture(topology));
  const server = createServer((req, res) => {
    void answer(req, res).catch((e: unknown) => send(res, 500, 'text/plain; charset=utf-8', `tidemark: ${(e as Error).message}\n`));
  });
  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n', { Allow: 'GET, HEAD' });
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    switch (path) {
      case '/':
        return send(res, 200, 'text/html; charset=utf-8', LIVE_PAGE_HTML);
      case '/live.js':
        return send(res, 200, 'text/javascript; charset=utf-8', LIVE_PAGE_SCRIPT);
      case '/live.css':
        return send(res, 200, 'text/css; charset=utf-8', LIVE_PAGE_CSS);
      case '/progress':
        return send(res, 200, 'application/json', JSON.stringify(observe() ?? { applicationId, running: false, tasks: [] }));
      case '/topology':
        return send(res, 200, 'application/json', picture);
      case '/metrics':
        return send(res, 200, metrics.contentType, await metrics.text());
      default:
        return send(res, 404, 'text/plain; charset=utf-8', `no ${path} here: try /, /progress, /topology or /metrics\n`);
    }
  }
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`--http ${host}:${options.port}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}`)));
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        metrics.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    // The page loads its own script and style only, and draws everything with DOM text nodes.
    'Content-Security-Policy': "default-src 'self'; img-src 'self' data:",
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
