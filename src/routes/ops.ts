/**
 * The operator listener (DESIGN.md invariant 8), separate from the tenant port:
 * `GET /metrics` (Prometheus exposition), `GET /healthz` (the process answers) and
 * `GET /readyz` (200 only when not shutting down, the auth backend is ready and the upstream
 * answered recently; otherwise 503 listing what is missing). Anything else is 404.
 *
 * `promgate_ready` is computed from the same checks whenever `/metrics` or `/readyz` is
 * served, so a scrape always shows what `/readyz` would answer at that moment.
 *
 * @example
 *   const ops = await startOpsServer({ host: '127.0.0.1', port: 0 }, { metrics, readiness });
 *   await fetch(`${ops.url}/readyz`);
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HostPort } from '../config/values.js';
import type { Metrics } from '../metrics.js';

export interface Readiness {
  readonly shuttingDown: boolean;
  readonly backend: boolean;
  readonly upstream: boolean;
}

export interface OpsServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startOpsServer(
  listen: HostPort,
  deps: { readonly metrics: Metrics; readonly readiness: () => Readiness },
): Promise<OpsServer> {
  const server = createServer((req, res) => {
    void handle(req, res, deps).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  let host = address.address;
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** What keeps promgate from being ready; empty when it is. */
export function readinessProblems(r: Readiness): string[] {
  const missing: string[] = [];
  if (r.shuttingDown) missing.push('shutting down');
  if (!r.backend) missing.push('auth backend not ready');
  if (!r.upstream) missing.push('upstream has not answered recently');
  return missing;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  deps: { readonly metrics: Metrics; readonly readiness: () => Readiness },
): Promise<void> {
  const path = (req.url ?? '').split('?')[0];
  const text = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz')
    return text(404, 'not found\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return text(405, 'method not allowed\n');
  }
  if (path === '/healthz') return text(200, 'ok\n');
  const missing = readinessProblems(deps.readiness());
  deps.metrics.ready.set(missing.length === 0 ? 1 : 0);
  if (path === '/readyz') {
    return missing.length === 0
      ? text(200, 'ready\n')
      : text(503, `not ready: ${missing.join('; ')}\n`);
  }
  const body = await deps.metrics.registry.metrics();
  return text(200, body, deps.metrics.registry.contentType);
}
