/**
 * Upstream answers shaped exactly as Prometheus 2.42 and 3.5 produce them (field names,
 * order, omitted and `null` fields follow `web/api/v1/api.go` of each version; REFERENCE 1.7).
 *
 * The cluster: tenants `ns-a` (shop), `ns-b` (billing) and `ns-c` (no rules, one target),
 * plus cluster-level things without a namespace (nodes, kubelet).
 */

export type Version = '2.42' | '3.5';
export const VERSIONS: readonly Version[] = ['2.42', '3.5'];

const T0 = '2024-05-01T10:00:00.123456789Z';
const T1 = '2024-05-01T10:10:00.5Z';

/** An alert as `rulesAlertsToAPIAlerts` marshals it. */
function alert(
  v: Version,
  labels: Record<string, string>,
  state: 'pending' | 'firing',
  extra: { keepFiringSince?: string; summary?: string } = {},
): Record<string, unknown> {
  const a: Record<string, unknown> = {
    labels,
    annotations: { summary: extra.summary ?? `${labels.alertname ?? 'alert'} is ${state}` },
    state,
    activeAt: T0,
  };
  // keepFiringSince is omitempty, set only while keep_firing_for holds an alert.
  if (extra.keepFiringSince !== undefined) a.keepFiringSince = extra.keepFiringSince;
  a.value = '1e+00';
  return a;
}

function alertingRule(
  v: Version,
  r: {
    name: string;
    query: string;
    labels: Record<string, string>;
    alerts: Record<string, unknown>[] | null;
    state: string;
    health?: string;
    lastError?: string;
    keepFiringFor?: number;
  },
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    state: r.state,
    name: r.name,
    query: r.query,
    duration: 300,
    keepFiringFor: r.keepFiringFor ?? 0,
    labels: r.labels,
    annotations: { summary: `{{ $labels.namespace }} ${r.name}` },
    alerts: r.alerts,
    health: r.health ?? 'ok',
  };
  if (r.lastError) out.lastError = r.lastError;
  out.evaluationTime = 0.000731;
  out.lastEvaluation = T1;
  out.type = 'alerting';
  return out;
}

function recordingRule(
  v: Version,
  r: { name: string; query: string; labels: Record<string, string> },
): Record<string, unknown> {
  const out: Record<string, unknown> = { name: r.name, query: r.query };
  // 2.42: labels.Labels is a slice, `omitempty` drops an empty one; 3.5's labels are a
  // struct, which omitempty never drops, so it marshals `{}`.
  if (Object.keys(r.labels).length > 0 || v === '3.5') out.labels = r.labels;
  out.health = 'ok';
  out.evaluationTime = 0.000212;
  out.lastEvaluation = T1;
  out.type = 'recording';
  return out;
}

function group(name: string, rules: Record<string, unknown>[]): Record<string, unknown> {
  return {
    name,
    file: `/etc/prometheus/rules/${name}.yml`,
    rules,
    interval: 30,
    limit: 0,
    evaluationTime: 0.00193,
    lastEvaluation: T1,
  };
}

/**
 * `/api/v1/rules`. With `excludeAlerts` (3.x `exclude_alerts=true`) alerting rules carry
 * `"alerts": null` (a nil slice).
 */
export function rulesBody(v: Version, opts: { excludeAlerts?: boolean } = {}): unknown {
  const al = (list: Record<string, unknown>[]): Record<string, unknown>[] | null =>
    opts.excludeAlerts ? null : list;
  const crash = (ns: string, pod: string, state: 'pending' | 'firing'): Record<string, unknown> =>
    alert(
      v,
      {
        alertname: 'KubePodCrashLooping',
        container: 'app',
        namespace: ns,
        pod,
        severity: 'warning',
      },
      state,
    );
  return {
    status: 'success',
    data: {
      groups: [
        group('kubernetes-apps', [
          // Shared rule (no namespace rule label): alerts for ns-a and ns-b.
          alertingRule(v, {
            name: 'KubePodCrashLooping',
            query:
              'max_over_time(kube_pod_container_status_waiting_reason{job="kube-state-metrics",reason="CrashLoopBackOff"}[5m]) >= 1',
            labels: { severity: 'warning' },
            alerts: al([
              crash('ns-a', 'shop-frontend-7d9f', 'pending'),
              crash('ns-b', 'billing-worker-5c4b', 'firing'),
              crash('ns-b', 'billing-api-0', 'firing'),
            ]),
            state: 'firing',
          }),
          // Shared rule that errs; the error quotes ns-b's series; alert only for ns-b.
          alertingRule(v, {
            name: 'KubeContainerWaiting',
            query: 'sum by (namespace, pod) (kube_pod_container_status_waiting) > 0',
            labels: { severity: 'warning' },
            alerts: al([
              alert(
                v,
                { alertname: 'KubeContainerWaiting', namespace: 'ns-b', pod: 'billing-api-0' },
                'firing',
              ),
            ]),
            state: 'firing',
            health: 'err',
            lastError:
              'found duplicate series for the match group {pod="billing-api-0"} on the right hand-side of the operation: [{namespace="ns-b", pod="billing-api-0"}, {namespace="ns-b", pod="billing-api-0", container="x"}];many-to-many matching not allowed: matching labels must be unique on one side',
          }),
          // Shared rule, nothing firing: reveals nothing about ns-a, hidden.
          alertingRule(v, {
            name: 'KubeDeploymentReplicasMismatch',
            query:
              'kube_deployment_spec_replicas{job="kube-state-metrics"} != kube_deployment_status_replicas_available{job="kube-state-metrics"}',
            labels: { severity: 'warning' },
            alerts: al([]),
            state: v === '3.5' ? 'unknown' : 'inactive',
          }),
          // Cluster-wide recording rule: produces series for every namespace.
          recordingRule(v, {
            name: 'namespace:container_cpu_usage_seconds_total:sum_rate',
            query:
              'sum by (namespace) (rate(container_cpu_usage_seconds_total{image!="",job="kubelet"}[5m]))',
            labels: {},
          }),
        ]),
        group('shop', [
          alertingRule(v, {
            name: 'ShopHighErrorRate',
            query:
              'sum(rate(http_requests_total{code=~"5..",namespace="ns-a"}[5m])) / sum(rate(http_requests_total{namespace="ns-a"}[5m])) > 0.05',
            labels: { namespace: 'ns-a', severity: 'critical', team: 'shop' },
            alerts: al([
              alert(
                v,
                {
                  alertname: 'ShopHighErrorRate',
                  namespace: 'ns-a',
                  severity: 'critical',
                  team: 'shop',
                },
                'firing',
                v === '3.5' ? { keepFiringSince: T1 } : {},
              ),
            ]),
            state: 'firing',
            keepFiringFor: v === '3.5' ? 600 : 0,
          }),
          recordingRule(v, {
            name: 'shop:http_requests:rate5m',
            query: 'sum by (code) (rate(http_requests_total{namespace="ns-a"}[5m]))',
            labels: { namespace: 'ns-a' },
          }),
        ]),
        group('billing', [
          // ns-b's rule whose query names ns-a: ns-a must not see it.
          alertingRule(v, {
            name: 'BillingDependsOnShop',
            query: 'absent(up{job="shop-frontend",namespace="ns-a"})',
            labels: { namespace: 'ns-b', severity: 'info' },
            alerts: al([]),
            state: 'inactive',
          }),
          recordingRule(v, {
            name: 'billing:invoices:rate5m',
            query: 'sum(rate(invoices_created_total{namespace="ns-b"}[5m]))',
            labels: { namespace: 'ns-b' },
          }),
        ]),
        group('node', [
          alertingRule(v, {
            name: 'NodeFilesystemAlmostFull',
            query:
              'node_filesystem_avail_bytes{fstype!=""} / node_filesystem_size_bytes{fstype!=""} < 0.05',
            labels: { severity: 'critical' },
            alerts: al([
              alert(
                v,
                {
                  alertname: 'NodeFilesystemAlmostFull',
                  device: '/dev/sda1',
                  instance: '10.0.0.12:9100',
                  job: 'node-exporter',
                  severity: 'critical',
                },
                'firing',
              ),
            ]),
            state: 'firing',
          }),
        ]),
      ],
    },
  };
}

/** `/api/v1/alerts`: every active alert of every rule (same alert shape as in rules). */
export function alertsBody(v: Version): unknown {
  return {
    status: 'success',
    data: {
      alerts: [
        alert(
          v,
          {
            alertname: 'KubePodCrashLooping',
            container: 'app',
            namespace: 'ns-a',
            pod: 'shop-frontend-7d9f',
            severity: 'warning',
          },
          'pending',
        ),
        alert(
          v,
          {
            alertname: 'KubePodCrashLooping',
            container: 'app',
            namespace: 'ns-b',
            pod: 'billing-worker-5c4b',
            severity: 'warning',
          },
          'firing',
        ),
        alert(
          v,
          { alertname: 'ShopHighErrorRate', namespace: 'ns-a', severity: 'critical', team: 'shop' },
          'firing',
          v === '3.5' ? { keepFiringSince: T1 } : {},
        ),
        alert(
          v,
          {
            alertname: 'NodeFilesystemAlmostFull',
            device: '/dev/sda1',
            instance: '10.0.0.12:9100',
            job: 'node-exporter',
            severity: 'critical',
          },
          'firing',
        ),
        // Aggregated alert that kept only exported_namespace: not the enforced label.
        alert(
          v,
          { alertname: 'IngressErrors', exported_namespace: 'ns-a', severity: 'warning' },
          'firing',
        ),
      ],
    },
  };
}

function podMeta(ns: string, pod: string, ip: string, app: string): Record<string, string> {
  return {
    __address__: `${ip}:8080`,
    __meta_kubernetes_namespace: ns,
    __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
    __meta_kubernetes_pod_container_name: 'app',
    __meta_kubernetes_pod_container_port_number: '8080',
    __meta_kubernetes_pod_ip: ip,
    __meta_kubernetes_pod_label_app: app,
    __meta_kubernetes_pod_name: pod,
    __meta_kubernetes_pod_node_name: 'node-1',
    __meta_kubernetes_pod_phase: 'Running',
    __metrics_path__: '/metrics',
    __scheme__: 'http',
    __scrape_interval__: '30s',
    __scrape_timeout__: '10s',
    job: 'kubernetes-pods',
  };
}

function activeTarget(
  v: Version,
  discovered: Record<string, string>,
  labels: Record<string, string>,
  pool: string,
  url: string,
  health: 'up' | 'down',
): Record<string, unknown> {
  return {
    discoveredLabels: discovered,
    labels,
    scrapePool: pool,
    scrapeUrl: url,
    globalUrl: url,
    lastError: health === 'up' ? '' : 'Get "' + url + '": context deadline exceeded',
    lastScrape: T1,
    lastScrapeDuration: 0.004127,
    health,
    scrapeInterval: '30s',
    scrapeTimeout: '10s',
  };
}

/** `/api/v1/targets` (state=any): 3.5 adds `scrapePool` to dropped targets and the counts. */
export function targetsBody(v: Version): unknown {
  const dropped = (d: Record<string, string>): Record<string, unknown> =>
    v === '3.5' ? { discoveredLabels: d, scrapePool: 'kubernetes-pods' } : { discoveredLabels: d };
  const data: Record<string, unknown> = {
    activeTargets: [
      activeTarget(
        v,
        podMeta('ns-a', 'shop-frontend-7d9f', '10.1.0.4', 'shop-frontend'),
        {
          app: 'shop-frontend',
          instance: '10.1.0.4:8080',
          job: 'kubernetes-pods',
          namespace: 'ns-a',
          pod: 'shop-frontend-7d9f',
        },
        'kubernetes-pods',
        'http://10.1.0.4:8080/metrics',
        'up',
      ),
      activeTarget(
        v,
        podMeta('ns-b', 'billing-api-0', '10.1.0.9', 'billing-api'),
        {
          app: 'billing-api',
          instance: '10.1.0.9:8080',
          job: 'kubernetes-pods',
          namespace: 'ns-b',
          pod: 'billing-api-0',
        },
        'kubernetes-pods',
        'http://10.1.0.9:8080/metrics',
        'down',
      ),
      activeTarget(
        v,
        podMeta('ns-c', 'batch-1', '10.1.0.11', 'batch'),
        {
          app: 'batch',
          instance: '10.1.0.11:8080',
          job: 'kubernetes-pods',
          namespace: 'ns-c',
          pod: 'batch-1',
        },
        'kubernetes-pods',
        'http://10.1.0.11:8080/metrics',
        'up',
      ),
      // Node exporter: no namespace label after relabelling.
      activeTarget(
        v,
        {
          __address__: '10.0.0.12:9100',
          __meta_kubernetes_node_name: 'node-1',
          __metrics_path__: '/metrics',
          __scheme__: 'http',
          __scrape_interval__: '30s',
          __scrape_timeout__: '10s',
          job: 'node-exporter',
        },
        { instance: '10.0.0.12:9100', job: 'node-exporter', node: 'node-1' },
        'node-exporter',
        'http://10.0.0.12:9100/metrics',
        'up',
      ),
    ],
    droppedTargets: [
      dropped(podMeta('ns-b', 'billing-db-0', '10.1.0.10', 'billing-db')),
      dropped(podMeta('ns-a', 'shop-redis-0', '10.1.0.5', 'shop-redis')),
    ],
  };
  if (v === '3.5') data.droppedTargetCounts = { 'kubernetes-pods': 2, 'node-exporter': 0 };
  return { status: 'success', data };
}

/** `/api/v1/metadata`: keyed by metric family name as the targets exposed it. */
export function metadataBody(v: Version): unknown {
  const data: Record<string, unknown> = {
    http_request_duration_seconds: [{ type: 'histogram', help: 'Request latency.', unit: '' }],
    rpc_duration_seconds: [{ type: 'summary', help: 'RPC latency.', unit: '' }],
    invoices_created_total: [{ type: 'counter', help: 'Invoices created.', unit: '' }],
    node_filesystem_avail_bytes: [
      { type: 'gauge', help: 'Filesystem space available to non-root users in bytes.', unit: '' },
    ],
    go_goroutines: [
      { type: 'gauge', help: 'Number of goroutines that currently exist.', unit: '' },
    ],
    build: [{ type: 'info', help: 'Build information.', unit: '' }],
  };
  // An OpenMetrics counter family is reported without `_total` by 3.x scrapes.
  if (v === '3.5') data.shop_orders = [{ type: 'counter', help: 'Orders placed.', unit: '' }];
  else data.shop_orders_total = [{ type: 'counter', help: 'Orders placed.', unit: '' }];
  return { status: 'success', data };
}
