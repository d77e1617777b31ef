/**
 * promgate's own metrics, on a registry per process (tests may create several).
 * Label values are bounded: route families, outcomes and reasons, never raw paths,
 * identities or tokens. Names follow Prometheus's conventions (base units as suffixes,
 * `_total` for counters, `_info` for the build); test/metrics.test.ts enforces them.
 *
 * @example
 *   const metrics = createMetrics();
 *   metrics.httpRequests.inc({ route: 'query', method: 'POST', code: '200' });
 *   await metrics.registry.metrics(); // exposition text
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import client from 'prom-client';

export interface Metrics {
  readonly registry: client.Registry;
  readonly httpRequests: client.Counter<'route' | 'method' | 'code'>;
  readonly httpDuration: client.Histogram<'route'>;
  readonly inFlight: client.Gauge<'route'>;
  readonly responseBytes: client.Counter<'route'>;
  readonly upstreamDuration: client.Histogram<'route'>;
  readonly upstreamErrors: client.Counter<'route' | 'reason'>;
  readonly rewriteDuration: client.Histogram<'kind'>;
  readonly rewriteRejections: client.Counter<'reason'>;
  readonly authResults: client.Counter<'mode' | 'outcome'>;
  readonly authzDenials: client.Counter<'reason'>;
  readonly tokenReviews: client.Counter<'result'>;
  readonly tokenReviewDuration: client.Histogram;
  readonly accessReviews: client.Counter<'result'>;
  readonly accessReviewDuration: client.Histogram;
  readonly cacheEvents: client.Counter<'cache' | 'event'>;
  readonly jwksRefreshes: client.Counter<'result'>;
  readonly informerSynced: client.Gauge;
  readonly informerEvents: client.Counter<'type'>;
  readonly scopeSize: client.Histogram;
  readonly tokensFileReloads: client.Counter<'result'>;
  /** 1 when `/readyz` answers 200, else 0; set by the operator listener (routes/ops.ts). */
  readonly ready: client.Gauge;
  /** Always 1; the labels carry promgate's and Node.js's versions. */
  readonly buildInfo: client.Gauge<'version' | 'node_version'>;
}

export interface MetricsOptions {
  /** Register prom-client's process and Node.js metrics (default true). */
  readonly collectDefault?: boolean;
  /** `version` of promgate_build_info (default: package.json's version). */
  readonly version?: string;
}

const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];
const FAST_BUCKETS = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.05,
];

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new client.Registry();
  if (options.collectDefault !== false) client.collectDefaultMetrics({ register: registry });
  const r = [registry];
  const buildInfo = new client.Gauge({
    name: 'promgate_build_info',
    help: 'Always 1; labelled with the running promgate version and Node.js version.',
    labelNames: ['version', 'node_version'],
    registers: r,
  });
  buildInfo.set(
    { version: options.version ?? packageVersion(), node_version: process.versions.node },
    1,
  );
  return {
    registry,
    httpRequests: new client.Counter({
      name: 'promgate_http_requests_total',
      help: 'Tenant-facing HTTP requests by route family, method and status code.',
      labelNames: ['route', 'method', 'code'],
      registers: r,
    }),
    httpDuration: new client.Histogram({
      name: 'promgate_http_request_duration_seconds',
      help: 'Time from request received to response finished, by route family.',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    inFlight: new client.Gauge({
      name: 'promgate_http_requests_in_flight',
      help: 'Tenant-facing requests being served now, by route family.',
      labelNames: ['route'],
      registers: r,
    }),
    responseBytes: new client.Counter({
      name: 'promgate_http_response_bytes_total',
      help: 'Response body bytes sent to tenants (as sent, possibly compressed), by route family.',
      labelNames: ['route'],
      registers: r,
    }),
    upstreamDuration: new client.Histogram({
      name: 'promgate_upstream_request_duration_seconds',
      help: 'Time until the upstream answered with headers, by route family.',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    upstreamErrors: new client.Counter({
      name: 'promgate_upstream_errors_total',
      help: 'Upstream requests that failed (connection, timeout, 5xx), by route family and reason.',
      labelNames: ['route', 'reason'],
      registers: r,
    }),
    rewriteDuration: new client.Histogram({
      name: 'promgate_promql_rewrite_duration_seconds',
      help: 'Time to parse, check and rewrite a PromQL query or selector.',
      labelNames: ['kind'],
      buckets: FAST_BUCKETS,
      registers: r,
    }),
    rewriteRejections: new client.Counter({
      name: 'promgate_promql_rejections_total',
      help: 'PromQL queries or selectors refused before reaching the upstream, by reason.',
      labelNames: ['reason'],
      registers: r,
    }),
    authResults: new client.Counter({
      name: 'promgate_authentication_total',
      help: 'Authentication attempts by mode and outcome (ok, invalid, missing, unavailable).',
      labelNames: ['mode', 'outcome'],
      registers: r,
    }),
    authzDenials: new client.Counter({
      name: 'promgate_authorization_denials_total',
      help: 'Authenticated requests refused, by reason.',
      labelNames: ['reason'],
      registers: r,
    }),
    tokenReviews: new client.Counter({
      name: 'promgate_kubernetes_tokenreviews_total',
      help: 'TokenReview calls to the Kubernetes API by result (authenticated, rejected, error).',
      labelNames: ['result'],
      registers: r,
    }),
    tokenReviewDuration: new client.Histogram({
      name: 'promgate_kubernetes_tokenreview_duration_seconds',
      help: 'Latency of TokenReview calls.',
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    accessReviews: new client.Counter({
      name: 'promgate_kubernetes_subjectaccessreviews_total',
      help: 'SubjectAccessReview calls to the Kubernetes API by result (allowed, denied, error).',
      labelNames: ['result'],
      registers: r,
    }),
    accessReviewDuration: new client.Histogram({
      name: 'promgate_kubernetes_subjectaccessreview_duration_seconds',
      help: 'Latency of SubjectAccessReview calls.',
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    cacheEvents: new client.Counter({
      name: 'promgate_cache_events_total',
      help: 'Cache hits, misses and evictions by cache (token, sar, scope).',
      labelNames: ['cache', 'event'],
      registers: r,
    }),
    jwksRefreshes: new client.Counter({
      name: 'promgate_jwks_refreshes_total',
      help: 'Fetches of the cluster JWKS by result.',
      labelNames: ['result'],
      registers: r,
    }),
    informerSynced: new client.Gauge({
      name: 'promgate_namespace_informer_synced',
      help: '1 when the namespace informer has a current list, else 0.',
      registers: r,
    }),
    informerEvents: new client.Counter({
      name: 'promgate_namespace_informer_events_total',
      help: 'Namespace informer events by type (add, update, delete, relist, error).',
      labelNames: ['type'],
      registers: r,
    }),
    scopeSize: new client.Histogram({
      name: 'promgate_scope_size',
      help: 'Number of label values in resolved caller scopes (cluster-wide scopes not counted).',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers: r,
    }),
    tokensFileReloads: new client.Counter({
      name: 'promgate_tokens_file_reloads_total',
      help: 'Reloads of the static tokens file by result.',
      labelNames: ['result'],
      registers: r,
    }),
    // 0 until the operator listener has checked readiness: not ready until proven.
    ready: new client.Gauge({
      name: 'promgate_ready',
      help: '1 when /readyz answers 200 (not shutting down, auth backend ready, upstream answered recently), else 0.',
      registers: r,
    }),
    buildInfo,
  };
}

let cachedVersion: string | undefined;

/** promgate's version from the nearest package.json named promgate above this module. */
function packageVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  cachedVersion = 'unknown';
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === 'promgate' && typeof pkg.version === 'string') {
          cachedVersion = pkg.version;
          break;
        }
      } catch {
        // not a readable package.json: keep looking
      }
    }
    dir = dirname(dir);
  }
  return cachedVersion;
}
