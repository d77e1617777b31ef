/**
 * A live exporter of the demo data (src/demo/data.ts) for tests that need data "now", such
 * as `/federate` (it only returns samples of the last 5 minutes). One tiny HTTP server serves
 * every tenant view: `GET /metrics` is the whole cluster, `GET /metrics?namespace=a&namespace=b`
 * only the series whose `namespace` label is a or b (like the tenant-only oracle server).
 *
 * By default the clock is frozen at start-up and samples carry that timestamp, so two
 * Prometheus servers scraping it at different moments store identical samples — what a
 * differential test needs. Scrape it with `honor_labels: true` (use `scrapeConfig`).
 *
 * Caveat: Prometheus adds its own `up`/`scrape_*` series for the scrape job; they carry no
 * `namespace` label, so a tenant-only server holds them too. Compare with `match[]`/queries
 * that name the demo metrics, or drop series without `namespace` before comparing.
 *
 * @example
 * ```ts
 * import { startDemoExporter, startPrometheus, waitFor } from '../support/index.js';
 * const exporter = await startDemoExporter();
 * after(() => exporter.stop());
 * const prom = await startPrometheus({
 *   version: 3,
 *   config: { global: { scrape_interval: '1s' },
 *             scrape_configs: [exporter.scrapeConfig({ jobName: 'demo', namespaces: ['team-b'] })] },
 * });
 * await waitFor('first scrape', async () => {
 *   const r = await prom.api('/api/v1/query', { query: 'count(kube_pod_info)', time: exporter.time });
 *   return r.ok && JSON.stringify(r.data).includes('"result":[{') ? true : undefined;
 * });
 * ```
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exposition } from '../../src/demo/data.js';

export interface DemoExporterOptions {
  /**
   * `'frozen'` (default): every scrape serves the samples at the start-up second.
   * `'live'`: the samples at the current second. A number: frozen at that Unix second.
   */
  readonly clock?: 'frozen' | 'live' | number;
  /** Append sample timestamps (default: true when frozen, false when live). */
  readonly timestamps?: boolean;
}

export interface ScrapeConfigOptions {
  readonly jobName: string;
  /** Only these namespaces (`?namespace=` params); default all series. */
  readonly namespaces?: readonly string[];
  /** Default '1s'. */
  readonly interval?: string;
}

export interface DemoExporter {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `127.0.0.1:<port>`, for static_configs targets. */
  readonly target: string;
  /** The frozen time in Unix seconds (for a live clock: the start-up time). */
  readonly time: number;
  /** Number of /metrics requests served so far. */
  readonly scrapes: number;
  /** The exposition body a scrape with these namespaces receives right now. */
  body(namespaces?: readonly string[]): string;
  /** A scrape_configs entry for this exporter, with `honor_labels: true`. */
  scrapeConfig(opts: ScrapeConfigOptions): Record<string, unknown>;
  stop(): Promise<void>;
}

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Starts the exporter on 127.0.0.1 with an OS-chosen port. */
export async function startDemoExporter(opts: DemoExporterOptions = {}): Promise<DemoExporter> {
  const clock = opts.clock ?? 'frozen';
  const startedAt = Math.floor(Date.now() / 1000);
  const frozen = clock === 'live' ? undefined : clock === 'frozen' ? startedAt : clock;
  const timestamps = opts.timestamps ?? frozen !== undefined;
  const now = (): number => frozen ?? Math.floor(Date.now() / 1000);
  let scrapes = 0;

  const body = (namespaces?: readonly string[]): string =>
    exposition(now(), { namespaces: namespaces ?? 'all', timestamps });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://exporter');
    if (url.pathname !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    scrapes++;
    // No `namespace` parameter: everything. `?namespace=` alone selects no series at all.
    const ns = url.searchParams.has('namespace') ? url.searchParams.getAll('namespace') : undefined;
    const text = body(ns);
    res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
    res.end(req.method === 'HEAD' ? undefined : text);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  // Never keep a test process alive; close on exit regardless.
  server.unref();
  const { port } = server.address() as AddressInfo;
  const target = `127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;

  return {
    url: `http://${target}`,
    target,
    time: frozen ?? startedAt,
    get scrapes() {
      return scrapes;
    },
    body,
    scrapeConfig: ({ jobName, namespaces, interval }) => ({
      job_name: jobName,
      honor_labels: true,
      scrape_interval: interval ?? '1s',
      scrape_timeout: interval ?? '1s',
      metrics_path: '/metrics',
      ...(namespaces ? { params: { namespace: namespaces.length ? [...namespaces] : [''] } } : {}),
      static_configs: [{ targets: [target] }],
    }),
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
