/**
 * Generates deploy/dashboards/promgate.json, the Grafana dashboard for promgate itself.
 * Edit this file, not the JSON: `node deploy/dashboards/generate.mjs` rewrites it, and
 * test/deploy/dashboard.test.ts fails when the two differ, when a query does not parse, or
 * when a query names a metric promgate does not export.
 *
 * @example
 *   import { buildDashboard } from './generate.mjs';
 *   buildDashboard().panels.length; // rows and panels, Grafana schema 39 (Grafana 10 and 11)
 */
import { writeFileSync } from 'node:fs';
import { argv } from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const DS = { type: 'prometheus', uid: '${datasource}' };
/** Every query is confined to the chosen promgate deployment. */
const SEL = 'namespace="$namespace", job="$job", pod=~"$pod"';
const RATE = '$__rate_interval';

/** Label values of an always-present gauge (no labels: exported from start-up). */
const ANCHOR = 'promgate_namespace_informer_synced';

function target(expr, legendFormat, refId = 'A') {
  return { datasource: DS, expr, legendFormat, range: true, refId };
}

function quantiles(metric, by, qs = [0.5, 0.99]) {
  const groupBy = ['le', ...by].join(', ');
  return qs.map((q, i) =>
    target(
      `histogram_quantile(${q}, sum by (${groupBy}) (rate(${metric}_bucket{${SEL}}[${RATE}])))`,
      by.length > 0 ? `p${q * 100} {{${by.join('}} {{')}}}` : `p${q * 100}`,
      String.fromCharCode(65 + i),
    ),
  );
}

/**
 * Lays panels out left to right in a 24-column grid, wrapping rows; ids are assigned in order.
 */
function layout(sections) {
  const panels = [];
  let id = 1;
  let y = 0;
  for (const section of sections) {
    panels.push({
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      id: id++,
      panels: [],
      title: section.title,
      type: 'row',
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of section.panels) {
      const w = p.w ?? 8;
      const h = p.h ?? 8;
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      const { w: _w, h: _h, ...rest } = p;
      panels.push({ ...rest, gridPos: { h, w, x, y }, id: id++ });
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return panels;
}

function timeseries(title, description, unit, targets, { max } = {}) {
  return {
    datasource: DS,
    description,
    fieldConfig: {
      defaults: {
        custom: { fillOpacity: 10, lineWidth: 1, showPoints: 'never', spanNulls: false },
        min: 0,
        ...(max === undefined ? {} : { max }),
        unit,
      },
      overrides: [],
    },
    options: {
      legend: {
        calcs: ['mean', 'max'],
        displayMode: 'table',
        placement: 'bottom',
        showLegend: true,
      },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
    targets,
    title,
    type: 'timeseries',
  };
}

function stat(title, description, unit, expr, thresholds) {
  return {
    datasource: DS,
    description,
    fieldConfig: {
      defaults: {
        color: { mode: 'thresholds' },
        thresholds: { mode: 'absolute', steps: thresholds },
        unit,
      },
      overrides: [],
    },
    h: 4,
    options: {
      colorMode: 'background',
      graphMode: 'area',
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      textMode: 'value',
    },
    targets: [target(expr, title)],
    title,
    type: 'stat',
    w: 3,
  };
}

const green = (value) => ({ color: 'green', value });
const orange = (value) => ({ color: 'orange', value });
const red = (value) => ({ color: 'red', value });

const sections = [
  {
    title: 'Overview',
    panels: [
      stat(
        'Replicas scraped',
        'promgate pods Prometheus scrapes successfully (`up`).',
        'none',
        `sum(up{${SEL}})`,
        [red(null), orange(1), green(2)],
      ),
      stat(
        'Ready replicas',
        'Pods whose /readyz answers 200 (promgate_ready), of all scraped pods. Not ready: shutting down, auth backend not ready, or the upstream has not answered recently.',
        'percentunit',
        `sum(promgate_ready{${SEL}}) / count(promgate_ready{${SEL}})`,
        [red(null), orange(0.5), green(1)],
      ),
      stat(
        'Versions running',
        'Distinct promgate versions among the scraped pods (promgate_build_info); more than one during a rolling update.',
        'none',
        `count(count by (version) (promgate_build_info{${SEL}}))`,
        [green(null), orange(2)],
      ),
      stat(
        'Requests/s',
        'Tenant requests per second, all routes.',
        'reqps',
        `sum(rate(promgate_http_requests_total{${SEL}}[${RATE}]))`,
        [green(null)],
      ),
      stat(
        '5xx ratio',
        'Share of tenant requests answered with 5xx (502/504 upstream, 503 auth backend).',
        'percentunit',
        `sum(rate(promgate_http_requests_total{${SEL}, code=~"5.."}[${RATE}])) / sum(rate(promgate_http_requests_total{${SEL}}[${RATE}]))`,
        [green(null), orange(0.01), red(0.05)],
      ),
      stat(
        'p99 latency',
        '99th percentile of the total request time, all routes.',
        's',
        `histogram_quantile(0.99, sum by (le) (rate(promgate_http_request_duration_seconds_bucket{${SEL}}[${RATE}])))`,
        [green(null), orange(1), red(5)],
      ),
      stat(
        'Upstream errors/s',
        'Upstream connection errors, timeouts and 5xx per second (client cancellations excluded).',
        'reqps',
        `sum(rate(promgate_upstream_errors_total{${SEL}, reason!="canceled"}[${RATE}]))`,
        [green(null), orange(0.01), red(0.1)],
      ),
      stat(
        'Informer synced',
        'Pods whose namespace informer has a current list (kubernetes auth mode), of all pods. 0 of N: project/rbac callers get 503.',
        'none',
        `sum(promgate_namespace_informer_synced{${SEL}}) / count(promgate_namespace_informer_synced{${SEL}})`,
        [red(null), green(1)],
      ),
    ],
  },
  {
    title: 'Requests',
    panels: [
      timeseries('Requests by route', 'Tenant requests per second by route family.', 'reqps', [
        target(`sum by (route) (rate(promgate_http_requests_total{${SEL}}[${RATE}]))`, '{{route}}'),
      ]),
      timeseries(
        'Requests by status code',
        '401: missing or invalid token; 403: no access or namespace outside the scope; 400: refused PromQL; 429: per-identity concurrency limit; 5xx: see Upstream and Authentication.',
        'reqps',
        [target(`sum by (code) (rate(promgate_http_requests_total{${SEL}}[${RATE}]))`, '{{code}}')],
      ),
      timeseries(
        'Latency by route',
        'Median and 99th percentile of the time from request received to response finished.',
        's',
        quantiles('promgate_http_request_duration_seconds', ['route']),
      ),
      timeseries('In-flight requests', 'Requests being served now, by route family.', 'none', [
        target(`sum by (route) (promgate_http_requests_in_flight{${SEL}})`, '{{route}}'),
      ]),
      timeseries(
        'Response bytes',
        'Bytes sent to tenants per second (as sent, possibly compressed), by route family.',
        'Bps',
        [
          target(
            `sum by (route) (rate(promgate_http_response_bytes_total{${SEL}}[${RATE}]))`,
            '{{route}}',
          ),
        ],
      ),
      timeseries('Requests by pod', 'Load balance across replicas.', 'reqps', [
        target(`sum by (pod) (rate(promgate_http_requests_total{${SEL}}[${RATE}]))`, '{{pod}}'),
      ]),
    ],
  },
  {
    title: 'Upstream and PromQL',
    panels: [
      timeseries(
        'Upstream latency by route',
        'Time until the upstream answered with headers.',
        's',
        quantiles('promgate_upstream_request_duration_seconds', ['route']),
      ),
      timeseries(
        'Upstream errors',
        'Failed upstream requests per second by route family and reason.',
        'reqps',
        [
          target(
            `sum by (route, reason) (rate(promgate_upstream_errors_total{${SEL}}[${RATE}]))`,
            '{{route}} {{reason}}',
          ),
        ],
      ),
      timeseries(
        'PromQL rewrite time',
        'Time to parse, check and rewrite a query or selector, by kind.',
        's',
        quantiles('promgate_promql_rewrite_duration_seconds', ['kind']),
      ),
      timeseries(
        'PromQL rejections',
        'Queries and selectors refused before reaching the upstream, by reason.',
        'reqps',
        [
          target(
            `sum by (reason) (rate(promgate_promql_rejections_total{${SEL}}[${RATE}]))`,
            '{{reason}}',
          ),
        ],
      ),
      timeseries(
        'Authorization denials',
        'Authenticated requests refused (403), by reason.',
        'reqps',
        [
          target(
            `sum by (reason) (rate(promgate_authorization_denials_total{${SEL}}[${RATE}]))`,
            '{{reason}}',
          ),
        ],
      ),
      timeseries(
        'Caller scope size',
        'Namespaces in resolved caller scopes (cluster-wide callers not counted).',
        'none',
        quantiles('promgate_scope_size', [], [0.5, 0.9, 0.99]),
      ),
    ],
  },
  {
    title: 'Authentication',
    panels: [
      timeseries(
        'Authentication results',
        'Authentication attempts by mode and outcome (ok, invalid, missing, unavailable).',
        'reqps',
        [
          target(
            `sum by (mode, outcome) (rate(promgate_authentication_total{${SEL}}[${RATE}]))`,
            '{{mode}} {{outcome}}',
          ),
        ],
      ),
      timeseries(
        'Cache hit ratio',
        'Hits over hits and misses, by cache (token, sar, scope). Low ratios mean API-server load.',
        'percentunit',
        [
          target(
            `sum by (cache) (rate(promgate_cache_events_total{${SEL}, event="hit"}[${RATE}])) / sum by (cache) (rate(promgate_cache_events_total{${SEL}, event=~"hit|miss"}[${RATE}]))`,
            '{{cache}}',
          ),
        ],
        { max: 1 },
      ),
      timeseries('Cache events', 'Cache hits, misses and evictions per second.', 'ops', [
        target(
          `sum by (cache, event) (rate(promgate_cache_events_total{${SEL}}[${RATE}]))`,
          '{{cache}} {{event}}',
        ),
      ]),
      timeseries(
        'TokenReviews',
        'TokenReview calls to the Kubernetes API by result (authenticated, rejected, error).',
        'reqps',
        [
          target(
            `sum by (result) (rate(promgate_kubernetes_tokenreviews_total{${SEL}}[${RATE}]))`,
            '{{result}}',
          ),
        ],
      ),
      timeseries(
        'SubjectAccessReviews',
        'SubjectAccessReview calls to the Kubernetes API by result (allowed, denied, error).',
        'reqps',
        [
          target(
            `sum by (result) (rate(promgate_kubernetes_subjectaccessreviews_total{${SEL}}[${RATE}]))`,
            '{{result}}',
          ),
        ],
      ),
      timeseries(
        'Kubernetes API latency',
        'Latency of TokenReview and SubjectAccessReview calls.',
        's',
        [
          target(
            `histogram_quantile(0.99, sum by (le) (rate(promgate_kubernetes_tokenreview_duration_seconds_bucket{${SEL}}[${RATE}])))`,
            'TokenReview p99',
            'A',
          ),
          target(
            `histogram_quantile(0.99, sum by (le) (rate(promgate_kubernetes_subjectaccessreview_duration_seconds_bucket{${SEL}}[${RATE}])))`,
            'SubjectAccessReview p99',
            'B',
          ),
        ],
      ),
      timeseries(
        'Namespace informer',
        'Informer events by type (add, update, delete, relist, error); relists and errors should be rare.',
        'ops',
        [
          target(
            `sum by (type) (rate(promgate_namespace_informer_events_total{${SEL}}[${RATE}]))`,
            '{{type}}',
          ),
        ],
      ),
      timeseries('JWKS refreshes', 'Fetches of the cluster JWKS (--jwks) by result.', 'ops', [
        target(
          `sum by (result) (rate(promgate_jwks_refreshes_total{${SEL}}[${RATE}]))`,
          '{{result}}',
        ),
      ]),
      timeseries('Tokens file reloads', 'Reloads of the static tokens file by result.', 'ops', [
        target(
          `sum by (result) (rate(promgate_tokens_file_reloads_total{${SEL}}[${RATE}]))`,
          '{{result}}',
        ),
      ]),
    ],
  },
  {
    title: 'Process',
    panels: [
      timeseries('CPU', 'CPU cores used per pod.', 'none', [
        target(`sum by (pod) (rate(process_cpu_seconds_total{${SEL}}[${RATE}]))`, '{{pod}}'),
      ]),
      timeseries('Memory', 'Resident memory and V8 heap per pod.', 'bytes', [
        target(`process_resident_memory_bytes{${SEL}}`, 'rss {{pod}}', 'A'),
        target(`nodejs_heap_size_used_bytes{${SEL}}`, 'heap used {{pod}}', 'B'),
      ]),
      timeseries(
        'Event loop lag',
        '99th percentile event loop delay: high values delay every request on that pod.',
        's',
        [target(`nodejs_eventloop_lag_p99_seconds{${SEL}}`, '{{pod}}')],
      ),
      timeseries('Garbage collection', 'Time spent in GC per second, by kind.', 's', [
        target(
          `sum by (pod, kind) (rate(nodejs_gc_duration_seconds_sum{${SEL}}[${RATE}]))`,
          '{{pod}} {{kind}}',
        ),
      ]),
      timeseries('Open file descriptors', 'Open sockets and files against the limit.', 'none', [
        target(`process_open_fds{${SEL}}`, 'open {{pod}}', 'A'),
        target(`process_max_fds{${SEL}}`, 'max {{pod}}', 'B'),
      ]),
      timeseries('Active handles', 'libuv handles (sockets, timers) per pod.', 'none', [
        target(`nodejs_active_handles_total{${SEL}}`, '{{pod}}'),
      ]),
    ],
  },
];

function variable(name, label, query, extra = {}) {
  return {
    current: {},
    datasource: DS,
    definition: query,
    includeAll: false,
    label,
    multi: false,
    name,
    options: [],
    query: { qryType: 1, query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    refresh: 2,
    regex: '',
    sort: 1,
    type: 'query',
    ...extra,
  };
}

export function buildDashboard() {
  return {
    annotations: { list: [] },
    description:
      'promgate, the multi-tenant authorization proxy for Prometheus: traffic, latency, upstream, PromQL enforcement, authentication and the Node.js process.',
    editable: true,
    graphTooltip: 1,
    links: [],
    panels: layout(sections),
    refresh: '30s',
    schemaVersion: 39,
    tags: ['promgate', 'prometheus'],
    templating: {
      list: [
        {
          current: {},
          hide: 0,
          includeAll: false,
          label: 'Data source',
          multi: false,
          name: 'datasource',
          options: [],
          query: 'prometheus',
          refresh: 1,
          regex: '',
          type: 'datasource',
        },
        variable('namespace', 'Namespace', `label_values(${ANCHOR}, namespace)`),
        variable('job', 'Job', `label_values(${ANCHOR}{namespace="$namespace"}, job)`),
        variable('pod', 'Pod', `label_values(${ANCHOR}{namespace="$namespace", job="$job"}, pod)`, {
          allValue: '.+',
          current: { selected: true, text: ['All'], value: ['$__all'] },
          includeAll: true,
          multi: true,
        }),
      ],
    },
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    title: 'promgate',
    uid: 'promgate',
    version: 1,
  };
}

/** The file's text: what the generator writes and the test compares. */
export function renderDashboard() {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`;
}

if (argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(new URL('./promgate.json', import.meta.url), renderDashboard());
}
