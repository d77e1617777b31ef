/**
 * The PromQL query corpus for differential tests: Grafana-style dashboard queries over the
 * demo data's metric names (src/demo/data.ts), every aggregation with its parameters, joins,
 * set operators, subqueries, offsets and `@`, functions, queries on series without the
 * `namespace` label, adversarial queries naming other namespaces, version-specific syntax, and
 * invalid queries.
 *
 * Each entry says which Prometheus majors accept it (`validIn`; checked against the real
 * 2.42 `format_query` and 3.5 `parse_query` by test/promql/parser-differential.test.ts), the
 * 3.x feature flags it needs, and why it is invalid or refused by promgate's default policy.
 *
 * @example
 * ```ts
 * import { CORPUS, validFor, namedNamespaces } from '../corpus/queries.js';
 * for (const q of validFor(3)) {
 *   // q.query parses on Prometheus 3.x (with PROMETHEUS3_FEATURES enabled)
 * }
 * namedNamespaces('up{namespace="team-b"}'); // ['team-b']: a strict scope refuses it for others
 * ```
 */

export type PromVersion = 2 | 3;

/** 3.x feature flags a query's syntax needs (test servers enable them). */
export type PrometheusFeature = 'promql-experimental-functions' | 'promql-duration-expr';

export type CorpusTag =
  | 'grafana' // shaped like a dashboard panel query
  | 'cpu'
  | 'memory'
  | 'http'
  | 'histogram'
  | 'aggregation'
  | 'aggregation-param' // an aggregation whose parameter is itself a query
  | 'join'
  | 'set'
  | 'subquery'
  | 'offset'
  | 'at'
  | 'function'
  | 'absent'
  | 'label-func'
  | 'no-selector'
  | 'no-namespace' // reads series that lack the namespace label
  | 'exported-namespace'
  | 'adversarial' // tries to read other namespaces
  | 'syntax' // exercises grammar corners (precedence, comments, strings, numbers)
  | 'utf8'
  | 'experimental'
  | 'removed'; // syntax a newer major dropped

/** Why an invalid query is invalid. `type`: only Prometheus's type checks reject it. */
export type InvalidReason = 'syntax' | 'lexical' | 'type' | 'function' | 'empty-selector';

export interface CorpusQuery {
  /** Stable, unique, short. */
  readonly id: string;
  readonly query: string;
  /** Prometheus majors whose parser accepts the query (empty: invalid everywhere). */
  readonly validIn: readonly PromVersion[];
  /** Why it is invalid where it is (set when validIn lacks a version). */
  readonly invalid?: InvalidReason;
  /** 3.x feature flags its syntax needs. */
  readonly features?: readonly PrometheusFeature[];
  /**
   * Valid PromQL that promgate's default policy refuses (so the differential test expects a
   * refusal): `info` (implicit info-series selection) or `comment-cr` (a `#` comment ended by
   * `\r`, which Go and lezer split differently) or `unsupported` (syntax Prometheus reads
   * that promgate's parser does not, so it fails closed).
   */
  readonly refused?: 'info' | 'comment-cr' | 'unsupported';
  readonly tags: readonly CorpusTag[];
  /**
   * Returns no series on the full demo data at DEMO_EVAL_TIME by design (absent() of
   * existing series, native-histogram functions, names the demo data lacks…). Every other
   * valid query returns data, so a differential comparison is never trivially empty.
   */
  readonly empty?: true;
  readonly note?: string;
}

const BOTH: readonly PromVersion[] = [2, 3];
const V3: readonly PromVersion[] = [3];
const V2: readonly PromVersion[] = [2];
const NONE: readonly PromVersion[] = [];
const EXP: readonly PrometheusFeature[] = ['promql-experimental-functions'];
const DUR: readonly PrometheusFeature[] = ['promql-duration-expr'];

/** Inside DEMO_WINDOW (2024-01-01T02:00:00Z), for `@` queries. */
const AT = 1_704_074_400;

type Entry = Omit<CorpusQuery, 'validIn'> & { readonly validIn?: readonly PromVersion[] };

const ENTRIES: readonly Entry[] = [
  // ---- Grafana dashboards: CPU ------------------------------------------------------------
  {
    id: 'cpu-by-pod',
    query: 'sum(rate(container_cpu_usage_seconds_total{container!=""}[5m])) by (pod)',
    tags: ['grafana', 'cpu', 'aggregation'],
  },
  {
    id: 'cpu-by-namespace',
    query: 'sum by (namespace) (rate(container_cpu_usage_seconds_total[5m]))',
    tags: ['grafana', 'cpu', 'aggregation'],
  },
  {
    id: 'cpu-ns-pod-rate-interval',
    query:
      'sum(rate(container_cpu_usage_seconds_total{namespace="team-a-dev", pod=~"web-.*", container!=""}[4m0s])) by (pod, container)',
    tags: ['grafana', 'cpu'],
    note: 'Grafana substitutes $__rate_interval (4 × the 1m scrape interval) as 4m0s',
  },
  {
    id: 'cpu-irate-by-container',
    query:
      'sum by (container) (irate(container_cpu_usage_seconds_total{job="kubelet", cpu="total"}[2m]))',
    tags: ['grafana', 'cpu'],
  },
  {
    id: 'cpu-top5-pods',
    query: 'topk(5, sum by (namespace, pod) (rate(container_cpu_usage_seconds_total[5m])))',
    tags: ['grafana', 'cpu', 'aggregation'],
  },
  {
    id: 'cpu-increase-1h',
    query: 'sum by (namespace) (increase(container_cpu_usage_seconds_total[1h]))',
    tags: ['cpu', 'function'],
  },
  {
    id: 'cpu-ratio-of-node',
    query:
      'sum by (node) (rate(container_cpu_usage_seconds_total[5m])) / on (node) group_left count by (node) (label_replace(node_cpu_seconds_total{mode="idle"}, "node", "$1", "instance", "(.*):9100"))',
    tags: ['cpu', 'join', 'no-namespace', 'label-func'],
  },
  {
    id: 'cpu-composite-duration',
    query: 'rate(container_cpu_usage_seconds_total{pod="db-0"}[1h30m])',
    tags: ['cpu', 'syntax'],
  },

  // ---- Grafana dashboards: memory --------------------------------------------------------
  {
    id: 'mem-by-pod',
    query: 'sum(container_memory_working_set_bytes{container!=""}) by (pod)',
    tags: ['grafana', 'memory'],
  },
  {
    id: 'mem-mib-by-ns-pod',
    query: 'sum by (namespace, pod) (container_memory_working_set_bytes) / 1024 / 1024',
    tags: ['grafana', 'memory'],
  },
  {
    id: 'mem-vs-limits-group-left',
    query:
      'sum by (pod, container) (container_memory_working_set_bytes) / on (pod, container) group_left sum by (pod, container) (kube_pod_container_resource_limits{resource="memory"})',
    tags: ['grafana', 'memory', 'join'],
  },
  {
    id: 'mem-limit-ratio-by-container',
    query:
      'sum(container_memory_working_set_bytes) by (container) / sum(kube_pod_container_resource_limits{resource="memory", unit="byte"}) by (container)',
    tags: ['memory', 'join'],
  },
  {
    id: 'mem-bottomk',
    query: 'bottomk(3, sum by (pod) (container_memory_working_set_bytes))',
    tags: ['memory', 'aggregation'],
  },
  {
    id: 'mem-named-ns',
    query:
      'sum(container_memory_working_set_bytes{namespace="team-a-prod", container!=""}) by (pod)',
    tags: ['grafana', 'memory'],
  },
  {
    id: 'mem-deriv',
    query: 'deriv(container_memory_working_set_bytes{container="worker"}[10m])',
    tags: ['memory', 'function'],
  },
  {
    id: 'mem-predict-linear',
    query: 'predict_linear(container_memory_working_set_bytes[30m], 3600) > 1e9',
    tags: ['memory', 'function'],
  },
  {
    id: 'mem-delta',
    query: 'delta(container_memory_working_set_bytes[15m])',
    tags: ['memory', 'function'],
  },
  {
    id: 'mem-max-over-time',
    query: 'max_over_time(container_memory_working_set_bytes{pod=~"web-.+"}[1h])',
    tags: ['memory', 'function'],
  },
  {
    id: 'mem-quantile-over-time',
    query: 'quantile_over_time(0.95, container_memory_working_set_bytes[30m])',
    tags: ['memory', 'function'],
  },

  // ---- HTTP and histograms ---------------------------------------------------------------
  {
    id: 'http-rate-by-code',
    query: 'sum(rate(http_requests_total[5m])) by (code)',
    tags: ['grafana', 'http'],
  },
  {
    id: 'http-error-ratio',
    query: 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
    tags: ['grafana', 'http'],
  },
  {
    id: 'http-error-ratio-by-ns',
    query:
      'sum by (namespace) (rate(http_requests_total{code=~"5..|404"}[5m])) / ignoring (code) group_left sum by (namespace) (rate(http_requests_total[5m]))',
    tags: ['http', 'join'],
  },
  {
    id: 'http-irate-get',
    query: 'sum(irate(http_requests_total{method="GET"}[2m])) by (pod)',
    tags: ['http'],
  },
  {
    id: 'http-increase-500',
    query: 'increase(http_requests_total{code="500"}[1h])',
    tags: ['http', 'function'],
  },
  {
    id: 'http-resets',
    query: 'resets(http_requests_total{job="api"}[1h])',
    tags: ['http', 'function'],
  },
  {
    id: 'http-p99',
    query: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))',
    tags: ['grafana', 'histogram'],
  },
  {
    id: 'http-p50-by-ns',
    query:
      'histogram_quantile(0.5, sum by (le, namespace) (rate(http_request_duration_seconds_bucket{job=~"web|api"}[10m])))',
    tags: ['grafana', 'histogram'],
  },
  {
    id: 'http-mean-latency',
    query:
      'rate(http_request_duration_seconds_sum[5m]) / rate(http_request_duration_seconds_count[5m])',
    tags: ['histogram', 'join'],
  },
  {
    id: 'http-apdex',
    query:
      '(sum(rate(http_request_duration_seconds_bucket{le="0.1"}[5m])) + sum(rate(http_request_duration_seconds_bucket{le="0.5"}[5m]))) / 2 / sum(rate(http_request_duration_seconds_count[5m]))',
    tags: ['grafana', 'histogram'],
  },
  {
    id: 'http-histogram-count-fn',
    empty: true,
    query: 'histogram_count(rate(http_request_duration_seconds[5m]))',
    tags: ['histogram', 'function'],
    note: 'native-histogram function; no native histograms in the demo data, so empty',
  },
  {
    id: 'http-histogram-fraction',
    empty: true,
    query: 'histogram_fraction(0, 0.2, rate(http_request_duration_seconds[5m]))',
    tags: ['histogram', 'function'],
  },
  {
    id: 'http-histogram-avg',
    empty: true,
    query: 'histogram_avg(rate(http_request_duration_seconds[5m]))',
    validIn: V3,
    invalid: 'function',
    tags: ['histogram', 'function'],
  },

  // ---- kube-state-metrics style ----------------------------------------------------------
  {
    id: 'pods-by-namespace',
    query: 'count by (namespace) (kube_pod_info)',
    tags: ['grafana', 'aggregation'],
  },
  { id: 'pods-by-node', query: 'count(kube_pod_info) by (node)', tags: ['aggregation'] },
  {
    id: 'restarts-1h',
    query: 'sum(increase(kube_pod_container_status_restarts_total[1h])) by (namespace, pod) > 0',
    tags: ['grafana', 'function'],
  },
  {
    id: 'replicas-vs-pods',
    query:
      'sum by (namespace) (kube_deployment_spec_replicas) - on (namespace) count by (namespace) (kube_pod_info{created_by_kind="ReplicaSet"})',
    tags: ['join'],
  },
  {
    id: 'pod-node-kernel',
    query: 'kube_pod_info * on (node) group_left (kernel_version) kube_node_info',
    tags: ['join', 'no-namespace'],
    note: 'the right side has no namespace label: empty for tenants',
  },
  {
    id: 'group-right',
    query: 'kube_node_info * on (node) group_right (kernel_version) kube_pod_info',
    tags: ['join', 'no-namespace'],
  },
  {
    id: 'pod-changes',
    query: 'changes(kube_pod_info[1h])',
    tags: ['function'],
  },
  {
    id: 'namespace-age-days',
    query: '(time() - kube_namespace_created) / 86400',
    tags: ['function'],
  },

  // ---- up and targets --------------------------------------------------------------------
  { id: 'up', query: 'up', tags: ['grafana'] },
  { id: 'up-down', query: 'up == 0', tags: ['grafana'] },
  { id: 'up-job-down', query: 'up{job="api"} == 0', tags: ['grafana'] },
  { id: 'up-bool', query: 'up == bool 1', tags: ['syntax'] },
  { id: 'up-availability', query: 'avg_over_time(up[1h])', tags: ['function'] },
  { id: 'up-by-job', query: 'sum by (job) (up)', tags: ['aggregation'] },
  { id: 'up-count-up', query: 'count(up == 1)', tags: ['aggregation'] },
  { id: 'up-or-zero', query: 'up or vector(0)', tags: ['set', 'no-selector'] },
  { id: 'up-timestamp', query: 'time() - timestamp(up)', tags: ['function'] },
  { id: 'up-last-over-time', query: 'last_over_time(up[10m])', tags: ['function'] },
  {
    id: 'up-present-over-time',
    query: 'present_over_time(up{job="api"}[30m])',
    tags: ['function'],
  },

  // ---- absent ------------------------------------------------------------------------------
  { id: 'absent-job', query: 'absent(up{job="nonexistent"})', tags: ['absent'] },
  { id: 'absent-metric', query: 'absent(nonexistent_metric)', tags: ['absent'] },
  {
    id: 'absent-over-time',
    query: 'absent_over_time(kube_pod_info{pod="nope"}[10m])',
    tags: ['absent'],
  },
  {
    id: 'absent-named-ns',
    empty: true,
    query: 'absent(kube_pod_info{namespace="team-b"})',
    tags: ['absent', 'adversarial'],
    note: 'absent() copies equality labels into its output',
  },

  // ---- no selector -----------------------------------------------------------------------
  { id: 'vector-1', query: 'vector(1)', tags: ['no-selector'] },
  {
    id: 'one-plus-one',
    query: '1+1',
    tags: ['no-selector', 'grafana'],
    note: "Grafana's health check",
  },
  { id: 'time', query: 'time()', tags: ['no-selector'] },
  { id: 'string-literal', query: '"hello"', tags: ['no-selector', 'syntax'] },
  { id: 'number-literal', query: '42', tags: ['no-selector'] },
  { id: 'scalar-math', query: '2 ^ 3 ^ 2', tags: ['no-selector', 'syntax'] },
  { id: 'unary-pow', query: '-2 ^ 2', tags: ['no-selector', 'syntax'] },
  { id: 'precedence', query: '1 + 2 * 3 % 4 - 5 / 6', tags: ['no-selector', 'syntax'] },
  { id: 'scalar-bool', query: '1 > bool 0', tags: ['no-selector', 'syntax'] },
  { id: 'pi-deg', query: 'deg(vector(pi()))', tags: ['no-selector', 'function'] },
  { id: 'hex-number', query: '0x1f + 1e3 - 1.5e-2', tags: ['no-selector', 'syntax'] },
  { id: 'inf-nan', query: 'Inf > bool NaN', tags: ['no-selector', 'syntax'] },
  {
    id: 'date-funcs',
    query: 'year() + month() + day_of_month() + hour() + minute()',
    tags: ['no-selector', 'function'],
  },
  { id: 'vector-time', query: 'vector(time()) - 60', tags: ['no-selector'] },

  // ---- scalar(), label functions, sort ----------------------------------------------------
  { id: 'scalar-count', query: 'scalar(count(kube_pod_info))', tags: ['function'] },
  {
    id: 'scalar-times',
    query: 'kube_deployment_spec_replicas * scalar(sum(kube_deployment_spec_replicas))',
    tags: ['function'],
  },
  {
    id: 'label-replace',
    query: 'label_replace(kube_pod_info, "app", "$1", "pod", "([a-z]+)-.*")',
    tags: ['label-func'],
  },
  {
    id: 'label-replace-namespace',
    query: 'label_replace(up, "namespace", "team-b", "", "")',
    tags: ['label-func', 'adversarial'],
    note: 'relabels output as another namespace: harmless, reads only in-scope series',
  },
  {
    id: 'label-join',
    query: 'label_join(up, "target", "/", "job", "instance")',
    tags: ['label-func'],
  },
  {
    id: 'sort-desc',
    query: 'sort_desc(sum by (namespace) (container_memory_working_set_bytes))',
    tags: ['function'],
  },
  { id: 'sort', query: 'sort(count by (pod) (http_requests_total))', tags: ['function'] },

  // ---- aggregations with every parameter -------------------------------------------------
  {
    id: 'quantile-cpu',
    query: 'quantile(0.9, rate(container_cpu_usage_seconds_total[5m]))',
    tags: ['aggregation'],
  },
  {
    id: 'quantile-by',
    query: 'quantile by (namespace) (0.5, container_memory_working_set_bytes)',
    tags: ['aggregation'],
  },
  {
    id: 'count-values',
    query: 'count_values("replicas", kube_deployment_spec_replicas)',
    tags: ['aggregation'],
  },
  {
    id: 'count-values-by',
    query: 'count_values by (namespace) ("replicas", kube_deployment_spec_replicas)',
    tags: ['aggregation'],
  },
  {
    id: 'topk-scalar-param',
    query: 'topk(scalar(count(kube_namespace_created) - 3), container_memory_working_set_bytes)',
    tags: ['aggregation', 'aggregation-param'],
  },
  {
    id: 'quantile-scalar-param',
    query:
      'quantile(scalar(min(kube_deployment_spec_replicas)) / 10, container_memory_working_set_bytes)',
    tags: ['aggregation', 'aggregation-param'],
  },
  {
    id: 'bottomk-scalar-param',
    query: 'bottomk by (namespace) (scalar(max(kube_deployment_spec_replicas)), up)',
    tags: ['aggregation', 'aggregation-param'],
  },
  {
    id: 'stddev',
    query: 'stddev by (namespace) (container_memory_working_set_bytes)',
    tags: ['aggregation'],
  },
  { id: 'stdvar', query: 'stdvar(container_memory_working_set_bytes)', tags: ['aggregation'] },
  {
    id: 'avg-without',
    query: 'avg without (pod, instance) (rate(http_requests_total[5m]))',
    tags: ['aggregation'],
  },
  {
    id: 'min-max',
    query: 'max(container_memory_working_set_bytes) - min(container_memory_working_set_bytes)',
    tags: ['aggregation'],
  },
  { id: 'group-by', query: 'group by (namespace) (up)', tags: ['aggregation'] },
  { id: 'sum-by-empty', query: 'sum by () (up)', tags: ['aggregation', 'syntax'] },
  { id: 'sum-without-empty', query: 'sum without () (up)', tags: ['aggregation', 'syntax'] },
  { id: 'keywords-upper', query: 'SUM(up) BY (namespace)', tags: ['aggregation', 'syntax'] },
  {
    id: 'count-nested',
    query: 'count(count by (namespace, pod) (kube_pod_info))',
    tags: ['aggregation'],
  },

  // ---- set operators -----------------------------------------------------------------------
  {
    id: 'and-on',
    query: 'kube_pod_info and on (pod) (container_memory_working_set_bytes > 100e6)',
    tags: ['set', 'join'],
  },
  {
    id: 'unless-on',
    query: 'kube_pod_info unless on (pod) (kube_pod_container_status_restarts_total > 0)',
    tags: ['set', 'join'],
  },
  {
    id: 'or-ignoring',
    query:
      'rate(http_requests_total{code="500"}[5m]) or ignoring (code) rate(http_requests_total{code="200"}[5m])',
    tags: ['set'],
  },
  {
    id: 'and-vector',
    query: 'sum(up) by (namespace) and on () vector(1)',
    tags: ['set', 'join'],
  },

  // ---- subqueries --------------------------------------------------------------------------
  {
    id: 'subquery-max-rate',
    query: 'max_over_time(rate(http_requests_total[5m])[30m:1m])',
    tags: ['subquery'],
  },
  {
    id: 'subquery-avg-cpu',
    query: 'avg_over_time(sum by (namespace) (rate(container_cpu_usage_seconds_total[5m]))[1h:5m])',
    tags: ['subquery', 'cpu'],
  },
  { id: 'subquery-default-step', query: 'avg_over_time(up[10m:])', tags: ['subquery'] },
  {
    id: 'subquery-nested',
    query: 'max_over_time(avg_over_time(up[10m:1m])[30m:5m])',
    tags: ['subquery'],
  },
  {
    id: 'subquery-rate',
    query: 'rate(sum(http_requests_total)[10m:1m])',
    tags: ['subquery'],
  },
  {
    id: 'subquery-regex-name',
    query: 'count_over_time({__name__=~"kube_pod_.*"}[10m])',
    tags: ['subquery', 'adversarial'],
  },
  {
    id: 'subquery-at-offset',
    query: `max_over_time(up[10m:1m] @ ${AT} offset 5m)`,
    tags: ['subquery', 'at', 'offset'],
  },

  // ---- offset and @ ------------------------------------------------------------------------
  { id: 'offset-rate', query: 'rate(http_requests_total[5m] offset 1h)', tags: ['offset'] },
  { id: 'offset-instant', query: 'http_requests_total offset 30m', tags: ['offset'] },
  {
    id: 'offset-diff',
    query: 'sum(http_requests_total) - sum(http_requests_total offset 1h)',
    tags: ['offset', 'grafana'],
  },
  { id: 'offset-negative', query: 'http_requests_total offset -5m', tags: ['offset'] },
  { id: 'at-instant', query: `http_requests_total @ ${AT}`, tags: ['at'] },
  { id: 'at-rate', query: `rate(http_requests_total[5m] @ ${AT})`, tags: ['at'] },
  { id: 'at-end', query: 'sum(rate(http_requests_total[5m] @ end()))', tags: ['at'] },
  { id: 'at-start', query: 'kube_pod_info @ start()', tags: ['at'] },
  { id: 'at-offset-order', query: `up offset 5m @ ${AT}`, tags: ['at', 'offset', 'syntax'] },
  { id: 'range-vector', query: 'http_requests_total{pod=~"api-.*"}[5m]', tags: ['syntax'] },
  { id: 'range-offset', query: 'up[5m] offset 1h', tags: ['offset'] },

  // ---- more functions ------------------------------------------------------------------------
  { id: 'clamp', query: 'clamp(rate(http_requests_total[5m]), 0, 1)', tags: ['function'] },
  { id: 'clamp-min-max', query: 'clamp_max(clamp_min(up, 0), 1)', tags: ['function'] },
  {
    id: 'math-funcs',
    query:
      'abs(ceil(floor(round(sqrt(exp(ln(log2(log10(container_memory_working_set_bytes))))), 0.1))))',
    tags: ['function'],
  },
  { id: 'sgn-sin', query: 'sgn(sin(up))', tags: ['function'] },
  { id: 'idelta', query: 'idelta(container_memory_working_set_bytes[5m])', tags: ['function'] },
  {
    id: 'over-time-family',
    query:
      'stddev_over_time(up[1h]) + count_over_time(up[1h]) + sum_over_time(up[1h]) + min_over_time(up[1h]) + stdvar_over_time(up[1h])',
    tags: ['function'],
  },
  {
    id: 'time-funcs-vector',
    query: 'day_of_week(timestamp(up)) + day_of_year(timestamp(up)) + days_in_month(timestamp(up))',
    tags: ['function'],
  },

  // ---- series without the namespace label ------------------------------------------------
  { id: 'node-cpu', query: 'node_cpu_seconds_total', tags: ['no-namespace'] },
  {
    id: 'node-cpu-busy',
    query: '1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))',
    tags: ['grafana', 'no-namespace'],
  },
  {
    id: 'node-mem-ratio',
    query: 'node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes',
    tags: ['grafana', 'no-namespace'],
  },
  {
    id: 'node-up',
    query: 'up{job="node-exporter"}',
    tags: ['no-namespace'],
  },
  {
    id: 'unlabelled-explicit',
    query: 'count({__name__=~".+", namespace=""})',
    tags: ['no-namespace', 'adversarial'],
    note: 'selects series lacking the label; ANDed with the enforced matcher it selects none',
  },

  // ---- tenants only in exported_namespace ------------------------------------------------
  {
    id: 'exported-ns',
    query: 'batch_job_last_success_timestamp_seconds{exported_namespace="team-b"}',
    tags: ['exported-namespace', 'no-namespace'],
  },
  {
    id: 'exported-ns-age',
    query:
      'time() - max by (exported_namespace, exported_job) (batch_job_last_success_timestamp_seconds)',
    tags: ['exported-namespace', 'no-namespace'],
  },

  // ---- adversarial -------------------------------------------------------------------------
  {
    id: 'adv-other-ns',
    query: 'container_memory_working_set_bytes{namespace="team-b"}',
    tags: ['adversarial'],
  },
  {
    id: 'adv-regex-team',
    query: 'sum by (namespace) (kube_pod_info{namespace=~"team-.*"})',
    tags: ['adversarial'],
  },
  {
    id: 'adv-regex-all',
    query: 'kube_pod_info{namespace=~".*"}',
    tags: ['adversarial'],
  },
  {
    id: 'adv-regex-alternation',
    query: 'sum(kube_pod_info{namespace=~"kube-system|team-b"})',
    tags: ['adversarial'],
  },
  {
    id: 'adv-negative-regex',
    query: 'kube_pod_info{namespace!~"team-a.*"}',
    tags: ['adversarial'],
  },
  {
    id: 'adv-not-equal',
    query: 'count(kube_pod_info{namespace!="team-a-dev"})',
    tags: ['adversarial'],
  },
  {
    id: 'adv-all-metrics',
    query: 'count({__name__=~".+"}) by (namespace)',
    tags: ['adversarial'],
  },
  {
    id: 'adv-name-regex',
    query: '{__name__=~"container_.*", namespace!="team-a-dev"}',
    tags: ['adversarial'],
  },
  {
    id: 'adv-only-namespace',
    query: '{namespace=~"team-.*"}',
    tags: ['adversarial'],
  },
  {
    id: 'adv-quantile-leak',
    query: 'quantile(scalar(sum(kube_pod_info{namespace="team-b"})) / 10, up)',
    tags: ['adversarial', 'aggregation-param'],
    note: 'the prom-label-proxy/Thanos bug: an unenforced parameter leaks a value',
  },
  {
    id: 'adv-topk-leak',
    query: 'topk(scalar(count(kube_pod_info{namespace="kube-system"})), up)',
    tags: ['adversarial', 'aggregation-param'],
  },
  {
    id: 'adv-count-values-leak',
    query: 'count_values("n", count(kube_pod_info{namespace=~"kube-.*"}))',
    tags: ['adversarial'],
  },
  {
    id: 'adv-subquery-leak',
    query: 'max_over_time(count(kube_pod_info{namespace="monitoring"})[30m:1m])',
    tags: ['adversarial', 'subquery'],
  },
  {
    id: 'adv-offset-leak',
    query: 'up + on () group_left count(kube_pod_info{namespace="team-b"} offset 1h)',
    tags: ['adversarial', 'offset', 'join'],
  },
  {
    id: 'adv-at-leak',
    query: `vector(1) * scalar(count(kube_pod_info{namespace="team-b"} @ ${AT}))`,
    tags: ['adversarial', 'at'],
  },
  {
    id: 'adv-label-replace-regex',
    query:
      'label_replace({__name__="kube_pod_info", namespace=~".+"}, "x", "$1", "namespace", "(.*)")',
    tags: ['adversarial', 'label-func'],
  },
  {
    id: 'adv-absent-over-time',
    empty: true,
    query: 'absent_over_time(kube_pod_info{namespace="team-b"}[1h])',
    tags: ['adversarial', 'absent'],
  },
  {
    id: 'adv-name-in-braces',
    query: '{__name__="kube_pod_info", namespace="kube-system"}',
    tags: ['adversarial'],
  },
  {
    id: 'adv-comment-newline',
    query: 'count(up) # note\n + count(kube_pod_info)',
    tags: ['adversarial', 'syntax'],
    note: 'comments end at \\n for both parsers; promgate drops the comment',
  },
  {
    id: 'adv-comment-cr',
    query: 'count(up) # \r + count(up{namespace="team-b"})',
    refused: 'comment-cr',
    tags: ['adversarial', 'syntax'],
    note: 'Go ends the comment at \\r (two selectors), lezer at \\n (one): promgate refuses',
  },
  {
    id: 'adv-string-escapes',
    query: String.raw`kube_pod_info{namespace="team\x2db", pod=~"api-[\\w-]+"}`,
    tags: ['adversarial', 'syntax'],
    note: '\\x2d is "-": names team-b through an escape',
  },
  {
    id: 'adv-single-quotes',
    query: "kube_pod_info{namespace='team-b'}",
    tags: ['adversarial', 'syntax'],
  },
  {
    id: 'adv-backticks',
    query: 'kube_pod_info{namespace=`team-b`, pod=~`api-.*`}',
    tags: ['adversarial', 'syntax'],
  },
  {
    id: 'adv-duplicate-namespace',
    empty: true,
    query: 'kube_pod_info{namespace="team-a-dev", namespace="team-b"}',
    tags: ['adversarial'],
  },

  // ---- grammar corners ---------------------------------------------------------------------
  {
    id: 'metric-named-offset',
    empty: true,
    query: 'offset',
    refused: 'unsupported',
    tags: ['syntax'],
    note: 'Go reads a metric named offset; lezer-promql cannot, so promgate refuses (fails closed)',
  },
  { id: 'parens', query: '((sum(up)))', tags: ['syntax'] },
  { id: 'unary-minus', query: '-sum(up)', tags: ['syntax'] },
  { id: 'unary-plus-selector', query: '+up', tags: ['syntax'] },
  { id: 'trailing-comma-matchers', query: 'up{job="api",}', tags: ['syntax'] },
  { id: 'grouping-trailing-comma', query: 'sum by (namespace,) (up)', tags: ['syntax'] },
  {
    id: 'multiline-comments',
    query: 'sum(\n  # per second\n  rate(http_requests_total[5m])\n) by (code) # done',
    tags: ['syntax', 'grafana'],
  },
  {
    id: 'unicode-escape',
    query: String.raw`up{job="\u0061pi"} or up{job="\U00000061pi"}`,
    tags: ['syntax'],
  },
  { id: 'octal-escape', query: String.raw`up{job="\141pi"}`, tags: ['syntax'] },
  {
    id: 'utf8-label-value',
    empty: true,
    query: 'up{job="grüße"}',
    tags: ['syntax'],
  },
  {
    id: 'long-dashboard',
    query: [
      'sum by (namespace) (rate(container_cpu_usage_seconds_total{container!="", container!="POD"}[5m]))',
      '/ on (namespace) group_left sum by (namespace) (kube_pod_container_resource_limits{resource="memory"}) * 1e9',
      '+ on (namespace) group_left sum by (namespace) (rate(http_requests_total{code=~"2..|3.."}[5m]))',
      '- on (namespace) group_left sum by (namespace) (increase(kube_pod_container_status_restarts_total[30m]))',
      'or on (namespace) label_replace(vector(0), "namespace", "none", "", "")',
      '+ on (namespace) group_left max by (namespace) (histogram_quantile(0.9, sum by (le, namespace) (rate(http_request_duration_seconds_bucket[5m]))))',
      '* on (namespace) group_left count by (namespace) (kube_pod_info{created_by_kind=~"ReplicaSet|StatefulSet"})',
      '- on (namespace) group_left sum by (namespace) (container_memory_working_set_bytes offset 10m) / 1024',
    ].join('\n'),
    tags: ['grafana', 'join', 'syntax'],
    note: 'about 1 KiB',
  },

  // ---- version-specific syntax -----------------------------------------------------------
  {
    id: 'utf8-quoted-metric',
    empty: true,
    query: '{"container.cpu.usage", namespace="team-b"}',
    validIn: V3,
    invalid: 'syntax',
    tags: ['utf8'],
  },
  {
    id: 'utf8-quoted-label',
    empty: true,
    query: '{"http.status_code"="200", __name__="http_requests_total"}',
    validIn: V3,
    invalid: 'syntax',
    tags: ['utf8'],
  },
  {
    id: 'utf8-quoted-namespace-label',
    query: 'kube_pod_info{"namespace"="team-b"}',
    validIn: V3,
    invalid: 'syntax',
    tags: ['utf8', 'adversarial'],
  },
  {
    id: 'utf8-grouping',
    query: 'sum by ("namespace", "k8s.pod.name") (up)',
    validIn: V3,
    invalid: 'syntax',
    tags: ['utf8', 'aggregation'],
  },
  {
    id: 'underscore-number',
    query: 'container_memory_working_set_bytes > 1_000_000',
    validIn: V3,
    invalid: 'syntax',
    tags: ['syntax'],
  },
  {
    id: 'duration-as-number',
    query: 'rate(http_requests_total[300])',
    validIn: V3,
    invalid: 'syntax',
    tags: ['syntax'],
  },
  {
    id: 'holt-winters',
    query: 'holt_winters(node_memory_MemAvailable_bytes[30m], 0.5, 0.5)',
    validIn: V2,
    invalid: 'function',
    tags: ['removed', 'function', 'no-namespace'],
  },
  {
    id: 'double-exponential-smoothing',
    query: 'double_exponential_smoothing(container_memory_working_set_bytes[30m], 0.5, 0.5)',
    validIn: V3,
    invalid: 'function',
    features: EXP,
    tags: ['experimental', 'function'],
  },
  {
    id: 'sort-by-label',
    query: 'sort_by_label(kube_pod_info, "namespace", "pod")',
    validIn: V3,
    invalid: 'function',
    features: EXP,
    tags: ['experimental', 'function'],
  },
  {
    id: 'sort-by-label-desc',
    query: 'sort_by_label_desc(sum by (pod) (container_memory_working_set_bytes), "pod")',
    validIn: V3,
    invalid: 'function',
    features: EXP,
    tags: ['experimental', 'function'],
  },
  {
    id: 'limitk',
    query: 'limitk(2, kube_pod_info)',
    validIn: V3,
    invalid: 'syntax',
    features: EXP,
    tags: ['experimental', 'aggregation'],
  },
  {
    id: 'limitk-scalar-param',
    query: 'limitk by (namespace) (scalar(min(kube_deployment_spec_replicas)), kube_pod_info)',
    validIn: V3,
    invalid: 'syntax',
    features: EXP,
    tags: ['experimental', 'aggregation', 'aggregation-param'],
  },
  {
    id: 'limit-ratio',
    query: 'limit_ratio(0.5, up)',
    validIn: V3,
    invalid: 'syntax',
    features: EXP,
    tags: ['experimental', 'aggregation'],
  },
  {
    id: 'mad-over-time',
    query: 'mad_over_time(container_memory_working_set_bytes[10m])',
    validIn: V3,
    invalid: 'function',
    features: EXP,
    tags: ['experimental', 'function'],
  },
  {
    id: 'info',
    query: 'info(up)',
    validIn: V3,
    invalid: 'function',
    features: EXP,
    refused: 'info',
    tags: ['experimental', 'function'],
    note: 'info() joins target_info series no selector names: denied by default',
  },
  {
    id: 'duration-expr-range',
    query: 'rate(http_requests_total[5m+1m])',
    validIn: V3,
    invalid: 'syntax',
    features: DUR,
    refused: 'unsupported',
    note: 'experimental duration arithmetic: promgate does not parse it (fails closed)',
    tags: ['experimental', 'syntax'],
  },
  {
    id: 'duration-expr-offset',
    query: 'http_requests_total offset (30m * 2)',
    validIn: V3,
    invalid: 'syntax',
    features: DUR,
    refused: 'unsupported',
    note: 'experimental duration arithmetic: promgate does not parse it (fails closed)',
    tags: ['experimental', 'offset'],
  },

  // ---- invalid everywhere --------------------------------------------------------------
  {
    id: 'bad-unclosed-paren',
    query: 'sum(rate(http_requests_total[5m])',
    validIn: NONE,
    invalid: 'syntax',
    tags: ['syntax'],
  },
  {
    id: 'bad-unclosed-brace',
    query: 'up{job="api"',
    validIn: NONE,
    invalid: 'syntax',
    tags: ['syntax'],
  },
  {
    id: 'bad-unclosed-bracket',
    query: 'rate(up[5m)',
    validIn: NONE,
    invalid: 'syntax',
    tags: ['syntax'],
  },
  {
    id: 'bad-by-no-parens',
    query: 'sum by namespace (up)',
    validIn: NONE,
    invalid: 'syntax',
    tags: ['syntax'],
  },
  { id: 'bad-dangling-op', query: 'up +', validIn: NONE, invalid: 'syntax', tags: ['syntax'] },
  {
    id: 'bad-offset-missing',
    query: 'up offset',
    validIn: NONE,
    invalid: 'syntax',
    tags: ['syntax'],
  },
  { id: 'bad-at-missing', query: 'up @', validIn: NONE, invalid: 'syntax', tags: ['syntax'] },
  {
    id: 'bad-subquery-colons',
    query: 'up[5m:1m:1m]',
    validIn: NONE,
    invalid: 'syntax',
    tags: ['syntax'],
  },
  { id: 'bad-lone-paren', query: ')', validIn: NONE, invalid: 'syntax', tags: ['syntax'] },
  { id: 'bad-empty', query: '', validIn: NONE, invalid: 'syntax', tags: ['syntax'] },
  { id: 'bad-whitespace', query: '   \n\t', validIn: NONE, invalid: 'syntax', tags: ['syntax'] },
  { id: 'bad-two-exprs', query: 'up up', validIn: NONE, invalid: 'syntax', tags: ['syntax'] },
  {
    id: 'bad-range-on-expr',
    query: 'sum(up)[5m]',
    validIn: NONE,
    invalid: 'type',
    tags: ['syntax'],
    note: "Go's parser checks that a range follows a selector; lezer's grammar does not",
  },
  {
    id: 'bad-escape',
    query: String.raw`up{job="\q"}`,
    validIn: NONE,
    invalid: 'lexical',
    tags: ['syntax'],
  },
  {
    id: 'bad-unterminated-string',
    query: 'up{job="abc}',
    validIn: NONE,
    invalid: 'lexical',
    tags: ['syntax'],
  },
  {
    id: 'bad-unterminated-tail',
    query: 'up{job="api"} + "abc',
    validIn: NONE,
    invalid: 'lexical',
    tags: ['syntax'],
  },
  {
    id: 'bad-surrogate',
    query: String.raw`up{job="\ud800"}`,
    validIn: NONE,
    invalid: 'lexical',
    tags: ['syntax'],
  },
  {
    id: 'bad-octal',
    query: String.raw`up{job="\400"}`,
    validIn: NONE,
    invalid: 'lexical',
    tags: ['syntax'],
  },
  {
    id: 'bad-newline-in-string',
    query: 'up{job="a\nb"}',
    validIn: NONE,
    invalid: 'lexical',
    tags: ['syntax'],
  },
  {
    id: 'bad-nbsp',
    query: 'sum\u00a0(up)',
    validIn: NONE,
    invalid: 'lexical',
    tags: ['syntax'],
    note: 'U+00A0 is not PromQL whitespace',
  },
  {
    id: 'bad-ideographic-space',
    query: 'up\u3000+ up',
    validIn: NONE,
    invalid: 'lexical',
    tags: ['syntax'],
  },
  {
    id: 'bad-duration-unit',
    query: 'rate(up[5x])',
    validIn: NONE,
    invalid: 'lexical',
    tags: ['syntax'],
  },
  {
    id: 'bad-empty-selector',
    query: '{}',
    validIn: NONE,
    invalid: 'empty-selector',
    tags: ['adversarial'],
  },
  {
    id: 'bad-all-empty-matchers',
    query: '{job=~".*"}',
    validIn: NONE,
    invalid: 'empty-selector',
    tags: ['adversarial'],
  },
  {
    id: 'bad-empty-equal',
    query: 'count({namespace=""})',
    validIn: NONE,
    invalid: 'empty-selector',
    tags: ['adversarial'],
  },
  {
    id: 'bad-name-matches-empty',
    query: 'rate({__name__=~".*", job=""}[5m])',
    validIn: NONE,
    invalid: 'empty-selector',
    tags: ['adversarial'],
  },
  {
    id: 'bad-unknown-function',
    query: 'nonexistent_func(up)',
    validIn: NONE,
    invalid: 'function',
    tags: ['function'],
  },
  { id: 'bad-rate-instant', query: 'rate(up)', validIn: NONE, invalid: 'type', tags: ['function'] },
  { id: 'bad-arity', query: 'abs(up, up)', validIn: NONE, invalid: 'type', tags: ['function'] },
  {
    id: 'bad-missing-arg',
    query: 'histogram_quantile(0.9)',
    validIn: NONE,
    invalid: 'type',
    tags: ['function'],
  },
  { id: 'bad-scalar-compare', query: '1 == 1', validIn: NONE, invalid: 'type', tags: ['syntax'] },
  { id: 'bad-set-scalar', query: 'up and 1', validIn: NONE, invalid: 'type', tags: ['set'] },
  {
    id: 'bad-topk-vector-param',
    query: 'topk(up, up)',
    validIn: NONE,
    invalid: 'type',
    tags: ['aggregation'],
  },
  { id: 'bad-string-math', query: 'up + "a"', validIn: NONE, invalid: 'type', tags: ['syntax'] },
  {
    id: 'bad-range-of-range',
    query: 'rate(up[5m])[5m]',
    validIn: NONE,
    invalid: 'type',
    tags: ['syntax'],
    note: "Go's parser checks that a range follows a selector; lezer's grammar does not",
  },
  {
    id: 'bad-group-left-set',
    query: 'up and on (job) group_left up',
    validIn: NONE,
    invalid: 'type',
    tags: ['set', 'join'],
  },
];

/** The whole corpus. */
export const CORPUS: readonly CorpusQuery[] = Object.freeze(
  ENTRIES.map((e) => Object.freeze({ ...e, validIn: e.validIn ?? BOTH })),
);

/** Queries the given Prometheus major accepts (with PROMETHEUS3_FEATURES on 3.x). */
export function validFor(version: PromVersion): CorpusQuery[] {
  return CORPUS.filter((q) => q.validIn.includes(version));
}

/** Queries no Prometheus version accepts. */
export function invalidEverywhere(): CorpusQuery[] {
  return CORPUS.filter((q) => q.validIn.length === 0);
}

/**
 * Namespaces a query names with an equality matcher on `label` (`namespace="x"`, in any
 * quoting). A strict scope refuses such a query for callers without those namespaces.
 * Escapes are not decoded: the corpus spells names plainly except in `adv-string-escapes`.
 */
export function namedNamespaces(query: string, label = 'namespace'): string[] {
  const re = new RegExp(
    `(?:^|[{,\\s])"?${label}"?\\s*=\\s*(?:"([^"]*)"|'([^']*)'|\`([^\`]*)\`)`,
    'g',
  );
  const out = new Set<string>();
  for (const m of query.matchAll(re)) out.add(m[1] ?? m[2] ?? m[3] ?? '');
  return [...out].sort();
}
