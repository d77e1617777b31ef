/**
 * The demo's live exporter: `GET /metrics` serves the demo cluster (data.ts) at the current
 * second, in Prometheus text format, so that Prometheus scrapes "now" data on top of the
 * backfilled history — `/federate` and instant queries without a `time` need it. The series
 * carry their own `job`/`instance`/`namespace` labels: scrape it with `honor_labels: true`.
 *
 * @example
 * ```ts
 * const exporter = await startLiveExporter();
 * // prometheus.yml: static_configs: [{ targets: [exporter.target] }], honor_labels: true
 * await exporter.close();
 * ```
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exposition } from './data.js';

export interface LiveExporter {
  /** `127.0.0.1:<port>`, for a scrape config's static target. */
  readonly target: string;
  close(): Promise<void>;
}

/** Starts the exporter on 127.0.0.1 with an OS-chosen port. */
export async function startLiveExporter(): Promise<LiveExporter> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const body = exposition(Math.floor(Date.now() / 1000), { namespaces: 'all' });
    res.writeHead(200, {
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    target: `127.0.0.1:${port}`,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
