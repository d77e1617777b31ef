/**
 * Demo data: a small, realistic Kubernetes cluster as Prometheus would see it, defined in
 * closed form — every sample is a pure function of (series, t) — so that data backfilled into
 * a TSDB and data served live by an exporter are identical.
 *
 * Five namespaces (`team-a-dev`, `team-a-prod`, `team-b`, `kube-system`, `monitoring`),
 * workloads whose pods churn (a CronJob every 20 minutes, Deployments rolling every few
 * hours), containers with CPU counters, memory gauges and limits, HTTP counters by
 * code/method with counter resets, a classic histogram, `up`, kube-state-metrics style info
 * series, node-level series WITHOUT the `namespace` label, and pushgateway series whose
 * tenant appears only as `exported_namespace`.
 *
 * A namespace filter selects exactly the series whose `namespace` label is in the set
 * (series without the label are never selected); that is what a tenant-only Prometheus of
 * the differential oracle holds.
 *
 * @example
 * ```ts
 * import { DEMO_WINDOW, openMetrics, exposition } from './data.js';
 * // OpenMetrics text for `promtool tsdb create-blocks-from openmetrics` (seconds, `# EOF`):
 * const om = openMetrics({ ...DEMO_WINDOW, namespaces: ['team-a-dev', 'team-a-prod'] });
 * // Prometheus text exposition of the same series at one instant (ms timestamps):
 * const text = exposition(DEMO_WINDOW.end, { namespaces: 'all', timestamps: true });
 * ```
 */

/** The namespaces of the demo cluster. */
export const DEMO_NAMESPACES = [
  'team-a-dev',
  'team-a-prod',
  'team-b',
  'kube-system',
  'monitoring',
] as const;

/** The nodes of the demo cluster. */
export const DEMO_NODES = ['node-1', 'node-2'] as const;

/**
 * A fixed past window for backfill (2024-01-01T00:00:00Z + 3 h, one sample a minute): fixed
 * so that query results are the same on every run. About 530 series and 57,000 samples
 * (9 MB of OpenMetrics; promtool backfills it in half a second).
 */
export const DEMO_WINDOW: Readonly<{ start: number; end: number; step: number }> = Object.freeze({
  start: 1_704_067_200,
  end: 1_704_067_200 + 3 * 3600,
  step: 60,
});

/**
 * A good evaluation time inside DEMO_WINDOW: 2.5 h in (ranges up to 2 h have data), and 30 s
 * off the one-minute sample grid so that no sample sits exactly on a 5-minute lookback or
 * range edge, where 2.x (closed) and 3.x (left-open) differ.
 */
export const DEMO_EVAL_TIME = DEMO_WINDOW.start + 9030;

/** A range for query_range tests: the last 2 h of DEMO_WINDOW, off the sample grid as above. */
export const DEMO_RANGE: Readonly<{ start: number; end: number; step: number }> = Object.freeze({
  start: DEMO_WINDOW.start + 3630,
  end: DEMO_WINDOW.end - 30,
  step: 60,
});

/** Which namespaces to include: all series, or those whose `namespace` label is in the set. */
export type NamespaceSelection = 'all' | Iterable<string>;

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One time series: its labels (without `__name__`), when it exists, and its value at t. */
export interface DemoSeries {
  /** Sample name, e.g. `http_request_duration_seconds_bucket`. */
  readonly name: string;
  /** Metric family name as OpenMetrics spells it (`_total`, `_bucket`, … stripped). */
  readonly family: string;
  readonly type: MetricType;
  readonly labels: Readonly<Record<string, string>>;
  /** First second (inclusive) the series exists. */
  readonly from: number;
  /** First second (exclusive) the series no longer exists; Infinity if never ending. */
  readonly to: number;
  /** Value at t (seconds), for from ≤ t < to. */
  value(t: number): number;
}

/** A sample of one series at one time. */
export interface DemoSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

// ---------------------------------------------------------------------------------------
// The cluster model

type Kind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'CronJob';

interface Workload {
  readonly namespace: string;
  readonly name: string;
  readonly kind: Kind;
  readonly replicas: number;
  /** Seconds between pod generations; Infinity for pods that never churn. */
  readonly period: number;
  /** Fraction of each period a pod is alive (CronJob pods finish; others 1). */
  readonly duty: number;
  readonly containers: readonly string[];
  /** CPU cores used per container (average). */
  readonly cpu: number;
  /** Working set bytes per container (average). */
  readonly memory: number;
  /** Seconds between container restarts (Infinity: none). */
  readonly restartEvery: number;
  /** Serves HTTP: requests/s per pod, mean latency in seconds, counter reset interval. */
  readonly http?: { readonly rps: number; readonly latency: number; readonly resetEvery: number };
}

const MIB = 1024 * 1024;
const H = 3600;

const WORKLOADS: readonly Workload[] = [
  {
    namespace: 'team-a-dev',
    name: 'web',
    kind: 'Deployment',
    replicas: 2,
    period: 4 * H,
    duty: 1,
    containers: ['app', 'istio-proxy'],
    cpu: 0.05,
    memory: 120 * MIB,
    restartEvery: Infinity,
    http: { rps: 5, latency: 0.08, resetEvery: Infinity },
  },
  {
    namespace: 'team-a-dev',
    name: 'worker',
    kind: 'Deployment',
    replicas: 1,
    period: 1.5 * H,
    duty: 1,
    containers: ['worker'],
    cpu: 0.2,
    memory: 200 * MIB,
    restartEvery: 50 * 60,
  },
  {
    namespace: 'team-a-prod',
    name: 'web',
    kind: 'Deployment',
    replicas: 3,
    period: 6 * H,
    duty: 1,
    containers: ['app', 'istio-proxy'],
    cpu: 0.3,
    memory: 300 * MIB,
    restartEvery: Infinity,
    http: { rps: 40, latency: 0.05, resetEvery: Infinity },
  },
  {
    namespace: 'team-a-prod',
    name: 'worker',
    kind: 'Deployment',
    replicas: 2,
    period: 2 * H,
    duty: 1,
    containers: ['worker'],
    cpu: 0.6,
    memory: 500 * MIB,
    restartEvery: 70 * 60,
  },
  {
    namespace: 'team-a-prod',
    name: 'db',
    kind: 'StatefulSet',
    replicas: 1,
    period: Infinity,
    duty: 1,
    containers: ['postgres'],
    cpu: 0.4,
    memory: 1024 * MIB,
    restartEvery: Infinity,
  },
  {
    namespace: 'team-b',
    name: 'api',
    kind: 'Deployment',
    replicas: 2,
    period: 3 * H,
    duty: 1,
    containers: ['api'],
    cpu: 0.25,
    memory: 250 * MIB,
    restartEvery: Infinity,
    http: { rps: 12, latency: 0.2, resetEvery: 45 * 60 },
  },
  {
    namespace: 'team-b',
    name: 'batch',
    kind: 'CronJob',
    replicas: 1,
    period: 20 * 60,
    duty: 0.6,
    containers: ['batch'],
    cpu: 0.9,
    memory: 400 * MIB,
    restartEvery: Infinity,
  },
  {
    namespace: 'kube-system',
    name: 'coredns',
    kind: 'Deployment',
    replicas: 2,
    period: Infinity,
    duty: 1,
    containers: ['coredns'],
    cpu: 0.02,
    memory: 30 * MIB,
    restartEvery: Infinity,
  },
  {
    namespace: 'kube-system',
    name: 'kube-proxy',
    kind: 'DaemonSet',
    replicas: DEMO_NODES.length,
    period: Infinity,
    duty: 1,
    containers: ['kube-proxy'],
    cpu: 0.01,
    memory: 40 * MIB,
    restartEvery: Infinity,
  },
  {
    namespace: 'monitoring',
    name: 'prometheus',
    kind: 'StatefulSet',
    replicas: 1,
    period: Infinity,
    duty: 1,
    containers: ['prometheus', 'config-reloader'],
    cpu: 0.5,
    memory: 2048 * MIB,
    restartEvery: Infinity,
  },
  {
    namespace: 'monitoring',
    name: 'kube-state-metrics',
    kind: 'Deployment',
    replicas: 1,
    period: 12 * H,
    duty: 1,
    containers: ['kube-state-metrics'],
    cpu: 0.03,
    memory: 80 * MIB,
    restartEvery: Infinity,
  },
  {
    namespace: 'monitoring',
    name: 'grafana',
    kind: 'Deployment',
    replicas: 1,
    period: 8 * H,
    duty: 1,
    containers: ['grafana'],
    cpu: 0.05,
    memory: 150 * MIB,
    restartEvery: Infinity,
    http: { rps: 1, latency: 0.3, resetEvery: Infinity },
  },
];

/** When the cluster (nodes, never-churning pods, namespaces) came up. */
const CLUSTER_START = 1_700_000_000;
const KSM = { job: 'kube-state-metrics', instance: '10.244.1.10:8080' } as const;
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;
const HTTP_CODES = [
  ['200', 0.93],
  ['404', 0.05],
  ['500', 0.02],
] as const;
const HTTP_METHODS = [
  ['GET', 0.8],
  ['POST', 0.2],
] as const;
const CPU_MODES = [
  ['idle', 0.7],
  ['user', 0.2],
  ['system', 0.08],
  ['iowait', 0.02],
] as const;

// ---------------------------------------------------------------------------------------
// Deterministic helpers

/** FNV-1a 32-bit hash: stable pseudo-randomness from names. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A number in [0, 1) derived from a name. */
function unit(s: string): number {
  return hash(s) / 0x1_0000_0000;
}

const ALNUM = 'bcdfghjklmnpqrstvwxz2456789';
function suffix(s: string, len: number): string {
  let h = hash(s);
  let out = '';
  for (let i = 0; i < len; i++) {
    out += ALNUM[h % ALNUM.length];
    h = (Math.floor(h / ALNUM.length) ^ hash(`${s}/${i}`)) >>> 0;
  }
  return out;
}

/**
 * A monotone counter that is 0 at elapsed 0 and grows at `rate` per second on average, with a
 * wobble of period `period`; its derivative stays ≥ rate/2, so rate() sees realistic noise.
 */
function counter(rate: number, elapsed: number, period: number, phase: number): number {
  const w = (2 * Math.PI) / period;
  const a = rate / (2 * w);
  return rate * elapsed + a * (Math.cos(phase) - Math.cos(w * elapsed + phase));
}

/** A gauge around `mean` (±amplitude·mean) with a period. */
function wave(mean: number, amplitude: number, t: number, period: number, phase: number): number {
  return mean * (1 + amplitude * Math.sin((2 * Math.PI * t) / period + phase));
}

/**
 * `le` as OpenMetrics spells floats (`1.0`, `0.005`): Prometheus 3.x rewrites scraped `le`
 * values to this form and 2.x keeps them as given, so this form is the same everywhere.
 */
function leText(le: number): string {
  return Number.isInteger(le) ? `${le}.0` : String(le);
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

// ---------------------------------------------------------------------------------------
// Pods

interface Pod {
  readonly workload: Workload;
  readonly name: string;
  readonly node: string;
  readonly ip: string;
  readonly replica: number;
  readonly from: number;
  readonly to: number;
}

/** Pods of a workload that exist at some time in [start, end]. */
function podsOf(w: Workload, start: number, end: number): Pod[] {
  const pods: Pod[] = [];
  for (let r = 0; r < w.replicas; r++) {
    if (!Number.isFinite(w.period)) {
      const name =
        w.kind === 'StatefulSet'
          ? `${w.name}-${r}`
          : w.kind === 'DaemonSet'
            ? `${w.name}-${suffix(`${w.namespace}/${w.name}/${r}`, 5)}`
            : `${w.name}-${suffix(`${w.namespace}/${w.name}`, 10)}-${suffix(`${w.namespace}/${w.name}/${r}`, 5)}`;
      pods.push(pod(w, name, r, CLUSTER_START, Infinity));
      continue;
    }
    // Replicas roll at staggered offsets so that churn is spread over the period.
    const offset = Math.round(((r + unit(`${w.namespace}/${w.name}`)) / w.replicas) * w.period);
    const life = Math.round(w.period * w.duty);
    const first = Math.floor((start - offset - life) / w.period) + 1;
    const last = Math.floor((end - offset) / w.period);
    for (let g = first; g <= last; g++) {
      const from = g * w.period + offset;
      const to = from + life;
      if (to <= start || from > end) continue;
      const id = `${w.namespace}/${w.name}/${r}/${g}`;
      const name =
        w.kind === 'CronJob'
          ? `${w.name}-${Math.floor(from / 60)}-${suffix(id, 5)}`
          : `${w.name}-${suffix(`${w.namespace}/${w.name}/${g}`, 10)}-${suffix(id, 5)}`;
      pods.push(pod(w, name, r, from, to));
    }
  }
  return pods;
}

function pod(w: Workload, name: string, replica: number, from: number, to: number): Pod {
  const h = hash(`${w.namespace}/${name}`);
  const nodeIdx = w.kind === 'DaemonSet' ? replica % DEMO_NODES.length : h % DEMO_NODES.length;
  const node = DEMO_NODES[nodeIdx] ?? 'node-1';
  const ip = `10.244.${nodeIdx}.${((h >>> 8) % 250) | 0 || 2}`;
  return { workload: w, name, node, ip, replica, from, to };
}

// ---------------------------------------------------------------------------------------
// Series

function podSeries(p: Pod): DemoSeries[] {
  const w = p.workload;
  const ns = w.namespace;
  const out: DemoSeries[] = [];
  const add = (
    name: string,
    family: string,
    type: MetricType,
    labels: Record<string, string>,
    value: (t: number) => number,
  ): void => {
    out.push({ name, family, type, labels, from: p.from, to: p.to, value });
  };
  const createdByKind =
    w.kind === 'Deployment' ? 'ReplicaSet' : w.kind === 'CronJob' ? 'Job' : w.kind;

  add(
    'kube_pod_info',
    'kube_pod_info',
    'gauge',
    {
      ...KSM,
      namespace: ns,
      pod: p.name,
      node: p.node,
      pod_ip: p.ip,
      created_by_kind: createdByKind,
      created_by_name: w.name,
    },
    () => 1,
  );

  for (const c of w.containers) {
    const seed = `${ns}/${p.name}/${c}`;
    const phase = unit(seed) * 2 * Math.PI;
    const share = c === 'istio-proxy' || c === 'config-reloader' ? 0.2 : 1;
    const cpu = w.cpu * share * (0.6 + 0.8 * unit(`${seed}/cpu`));
    const mem = w.memory * share * (0.7 + 0.6 * unit(`${seed}/mem`));
    const limit = Math.ceil((w.memory * share * 1.5) / MIB) * MIB;
    const kubelet = { job: 'kubelet', instance: p.node, node: p.node, namespace: ns, pod: p.name };

    add(
      'container_cpu_usage_seconds_total',
      'container_cpu_usage_seconds',
      'counter',
      { ...kubelet, container: c, cpu: 'total' },
      (t) => round3(counter(cpu, t - p.from, 600 + 300 * unit(seed), phase)),
    );
    add(
      'container_memory_working_set_bytes',
      'container_memory_working_set_bytes',
      'gauge',
      { ...kubelet, container: c },
      (t) => Math.round(wave(mem, 0.15, t, 1800, phase)),
    );
    add(
      'kube_pod_container_resource_limits',
      'kube_pod_container_resource_limits',
      'gauge',
      { ...KSM, namespace: ns, pod: p.name, container: c, resource: 'memory', unit: 'byte' },
      () => limit,
    );
    add(
      'kube_pod_container_status_restarts_total',
      'kube_pod_container_status_restarts',
      'counter',
      { ...KSM, namespace: ns, pod: p.name, container: c },
      (t) => (Number.isFinite(w.restartEvery) ? Math.floor((t - p.from) / w.restartEvery) : 0),
    );
  }

  if (w.http) {
    const http = w.http;
    const target = { job: w.name, instance: `${p.ip}:8080`, namespace: ns, pod: p.name };
    const seed = `${ns}/${p.name}/http`;
    const phase = unit(seed) * 2 * Math.PI;
    const rps = http.rps * (0.7 + 0.6 * unit(`${seed}/rps`));
    // Seconds since the counters last started from 0 (pod start or a process restart).
    const elapsed = (t: number): number => {
      const e = t - p.from;
      return Number.isFinite(http.resetEvery) ? e % http.resetEvery : e;
    };
    // `up` is 0 from :25 to :40 of every hour on team-b's second api replica.
    const flaky = ns === 'team-b' && p.replica === 1;
    const down = (t: number): boolean => flaky && t % 3600 >= 1500 && t % 3600 < 2400;
    add('up', 'up', 'gauge', target, (t) => (down(t) ? 0 : 1));
    for (const [code, cw] of HTTP_CODES) {
      for (const [method, mw] of HTTP_METHODS) {
        add('http_requests_total', 'http_requests', 'counter', { ...target, code, method }, (t) =>
          Math.floor(counter(rps * cw * mw, elapsed(t), 900, phase)),
        );
      }
    }
    const count = (t: number): number => Math.floor(counter(rps, elapsed(t), 900, phase));
    // Exponential latency distribution: P(latency ≤ le) = 1 − exp(−le/mean).
    for (const le of LATENCY_BUCKETS) {
      const f = 1 - Math.exp(-le / http.latency);
      add(
        'http_request_duration_seconds_bucket',
        'http_request_duration_seconds',
        'histogram',
        { ...target, le: leText(le) },
        (t) => Math.floor(count(t) * f),
      );
    }
    add(
      'http_request_duration_seconds_bucket',
      'http_request_duration_seconds',
      'histogram',
      { ...target, le: '+Inf' },
      count,
    );
    add(
      'http_request_duration_seconds_sum',
      'http_request_duration_seconds',
      'histogram',
      target,
      (t) => round3(count(t) * http.latency),
    );
    add(
      'http_request_duration_seconds_count',
      'http_request_duration_seconds',
      'histogram',
      target,
      count,
    );
  }
  return out;
}

/** Series that live as long as the cluster: namespaces, deployments, nodes, pushgateway. */
function clusterSeries(): DemoSeries[] {
  const out: DemoSeries[] = [];
  const add = (
    name: string,
    family: string,
    type: MetricType,
    labels: Record<string, string>,
    value: (t: number) => number,
  ): void => {
    out.push({ name, family, type, labels, from: CLUSTER_START, to: Infinity, value });
  };
  for (const ns of DEMO_NAMESPACES) {
    const created = CLUSTER_START - 86_400 + (hash(ns) % 3600);
    add(
      'kube_namespace_created',
      'kube_namespace_created',
      'gauge',
      { ...KSM, namespace: ns },
      () => created,
    );
  }
  for (const w of WORKLOADS) {
    if (w.kind !== 'Deployment') continue;
    add(
      'kube_deployment_spec_replicas',
      'kube_deployment_spec_replicas',
      'gauge',
      { ...KSM, namespace: w.namespace, deployment: w.name },
      () => w.replicas,
    );
  }
  // Targets of the cluster's own scrape jobs: no namespace label.
  DEMO_NODES.forEach((node, i) => {
    const boot = CLUSTER_START - 3600 * (i + 1);
    const ne = { job: 'node-exporter', instance: `${node}:9100` };
    add('up', 'up', 'gauge', ne, () => 1);
    add('up', 'up', 'gauge', { job: 'kubelet', instance: node }, () => 1);
    add(
      'kube_node_info',
      'kube_node_info',
      'gauge',
      { ...KSM, node, kernel_version: '6.1.0-18-amd64', internal_ip: `192.168.0.${i + 11}` },
      () => 1,
    );
    for (const cpu of ['0', '1']) {
      for (const [mode, share] of CPU_MODES) {
        const phase = unit(`${node}/${cpu}/${mode}`) * 2 * Math.PI;
        add('node_cpu_seconds_total', 'node_cpu_seconds', 'counter', { ...ne, cpu, mode }, (t) =>
          round3(counter(share, t - boot, 1200, phase)),
        );
      }
    }
    const total = 8 * 1024 * MIB;
    add('node_memory_MemTotal_bytes', 'node_memory_MemTotal_bytes', 'gauge', ne, () => total);
    add('node_memory_MemAvailable_bytes', 'node_memory_MemAvailable_bytes', 'gauge', ne, (t) =>
      Math.round(wave(total * 0.45, 0.2, t, 2400, i)),
    );
  });
  // Pushed by tenants' batch jobs through a pushgateway scraped without honor_labels: the
  // tenant survives only as `exported_namespace`, which must never count as `namespace`.
  for (const [ns, job, every] of [
    ['team-b', 'nightly-report', 3600],
    ['team-a-prod', 'backup', 1800],
  ] as const) {
    add(
      'batch_job_last_success_timestamp_seconds',
      'batch_job_last_success_timestamp_seconds',
      'gauge',
      {
        job: 'pushgateway',
        instance: 'pushgateway:9091',
        exported_namespace: ns,
        exported_job: job,
      },
      (t) => Math.floor(t / every) * every - 120,
    );
  }
  return out;
}

const CLUSTER_SERIES = clusterSeries();

// Family order and help texts, for exposition and OpenMetrics.
const FAMILY_HELP: ReadonlyMap<string, string> = new Map([
  ['up', 'Whether the target was up (1) or not (0).'],
  ['kube_namespace_created', 'Unix creation timestamp.'],
  ['kube_deployment_spec_replicas', 'Number of desired pods for a deployment.'],
  ['kube_node_info', 'Information about a cluster node.'],
  ['kube_pod_info', 'Information about pod.'],
  ['kube_pod_container_resource_limits', 'The number of requested limit resource by a container.'],
  ['kube_pod_container_status_restarts', 'The number of container restarts per container.'],
  ['container_cpu_usage_seconds', 'Cumulative cpu time consumed in seconds.'],
  ['container_memory_working_set_bytes', 'Current working set in bytes.'],
  ['http_requests', 'Total number of HTTP requests.'],
  ['http_request_duration_seconds', 'HTTP request latency.'],
  ['node_cpu_seconds', 'Seconds the CPUs spent in each mode.'],
  ['node_memory_MemTotal_bytes', 'Memory information field MemTotal_bytes.'],
  ['node_memory_MemAvailable_bytes', 'Memory information field MemAvailable_bytes.'],
  ['batch_job_last_success_timestamp_seconds', 'Last time a batch job completed successfully.'],
]);
const FAMILY_ORDER = new Map([...FAMILY_HELP.keys()].map((f, i) => [f, i]));

function selector(
  namespaces: NamespaceSelection,
): (labels: Readonly<Record<string, string>>) => boolean {
  if (namespaces === 'all') return () => true;
  const set = new Set(namespaces);
  return (labels) => labels.namespace !== undefined && set.has(labels.namespace);
}

/**
 * Every series that exists at some second in [start, end], filtered by namespace, grouped by
 * family in a stable order (family, then insertion order).
 *
 * @example
 * ```ts
 * const tenant = demoSeries(DEMO_WINDOW.start, DEMO_WINDOW.end, ['team-b']);
 * new Set(tenant.map((s) => s.labels.namespace)); // Set { 'team-b' }
 * ```
 */
export function demoSeries(
  start: number,
  end: number,
  namespaces: NamespaceSelection = 'all',
): DemoSeries[] {
  const keep = selector(namespaces);
  const all: DemoSeries[] = CLUSTER_SERIES.filter((s) => s.from <= end && s.to > start);
  for (const w of WORKLOADS) for (const p of podsOf(w, start, end)) all.push(...podSeries(p));
  const order = (s: DemoSeries): number => FAMILY_ORDER.get(s.family) ?? FAMILY_ORDER.size;
  return all
    .filter((s) => keep(s.labels))
    .map((s, i) => ({ s, i }))
    .sort((a, b) => order(a.s) - order(b.s) || a.i - b.i)
    .map(({ s }) => s);
}

/**
 * The samples that exist at second t (series with from ≤ t < to).
 *
 * @example
 * ```ts
 * samplesAt(DEMO_EVAL_TIME, ['team-a-dev']).filter((s) => s.name === 'kube_pod_info').length; // 3
 * ```
 */
export function samplesAt(t: number, namespaces: NamespaceSelection = 'all'): DemoSample[] {
  return demoSeries(t, t, namespaces)
    .filter((s) => s.from <= t && t < s.to)
    .map((s) => ({ name: s.name, labels: s.labels, value: s.value(t) }));
}

// ---------------------------------------------------------------------------------------
// Text formats

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort();
  return `{${keys.map((k) => `${k}="${escapeLabelValue(labels[k] ?? '')}"`).join(',')}}`;
}

/** Go-compatible float text (Go parses JS's shortest round-trip form exactly). */
function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export interface OpenMetricsOptions {
  /** First sample time, Unix seconds. */
  readonly start: number;
  /** Last sample time (inclusive), Unix seconds. */
  readonly end: number;
  /** Seconds between samples; sample times are start + k·step. */
  readonly step: number;
  readonly namespaces?: NamespaceSelection;
}

/**
 * OpenMetrics text for backfill over [start, end], in chunks (one per series) so that large
 * windows can be streamed to a file. Timestamps are in seconds and the text ends with `# EOF`,
 * as `promtool tsdb create-blocks-from openmetrics` requires.
 */
export function* openMetricsChunks(opts: OpenMetricsOptions): Generator<string> {
  const { start, end, step } = opts;
  if (!(step > 0) || !(end >= start)) throw new Error(`bad window [${start}, ${end}] step ${step}`);
  let family = '';
  for (const s of demoSeries(start, end, opts.namespaces ?? 'all')) {
    let chunk = '';
    if (s.family !== family) {
      family = s.family;
      chunk += `# HELP ${family} ${FAMILY_HELP.get(family) ?? family}\n# TYPE ${family} ${s.type}\n`;
    }
    const first = start + Math.max(0, Math.ceil((s.from - start) / step)) * step;
    const prefix = `${s.name}${labelText(s.labels)} `;
    for (let t = first; t <= end && t < s.to; t += step)
      chunk += `${prefix}${num(s.value(t))} ${t}\n`;
    yield chunk;
  }
  yield '# EOF\n';
}

/** The whole OpenMetrics text of {@link openMetricsChunks}. */
export function openMetrics(opts: OpenMetricsOptions): string {
  return [...openMetricsChunks(opts)].join('');
}

export interface ExpositionOptions {
  readonly namespaces?: NamespaceSelection;
  /** Append each sample's timestamp (t in ms), so every scraper stores identical samples. */
  readonly timestamps?: boolean;
}

/**
 * Prometheus text exposition (format 0.0.4) of the series that exist at second t: what a live
 * exporter serves (`Content-Type: text/plain; version=0.0.4; charset=utf-8`).
 */
export function exposition(t: number, opts: ExpositionOptions = {}): string {
  const ts = opts.timestamps ? ` ${Math.round(t * 1000)}` : '';
  const lines: string[] = [];
  let family = '';
  for (const s of demoSeries(t, t, opts.namespaces ?? 'all')) {
    if (!(s.from <= t && t < s.to)) continue;
    if (s.family !== family) {
      family = s.family;
      // The text format names counter families with their `_total` sample name.
      const name = s.type === 'counter' ? `${family}_total` : family;
      lines.push(`# HELP ${name} ${FAMILY_HELP.get(family) ?? family}`, `# TYPE ${name} ${s.type}`);
    }
    lines.push(`${s.name}${labelText(s.labels)} ${num(s.value(t))}${ts}`);
  }
  return `${lines.join('\n')}\n`;
}
