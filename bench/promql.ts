/**
 * Benchmark of the PromQL engine: µs per enforceQuery (median and p95 after warm-up) for
 * typical Grafana queries, cold (parse cache cleared before every call: lex + lezer + build +
 * enforce + print) and warm (the same query again: cache hit + policy + enforce + print), a
 * breakdown of the cold path, and the scaling from 100 B to 64 KiB.
 *
 *     npx tsc -p tsconfig.json && node .build/bench/promql.js
 */

import { parser } from '@prometheus-io/lezer-promql';
import {
  DEFAULT_POLICY,
  clearParseCache,
  enforceQuery,
  policyFrom,
  type EnforceTarget,
} from '../src/promql/index.js';
import { lex } from '../src/promql/lexical.js';

const target: EnforceTarget = { label: 'namespace', values: ['x', 'y'] };
const strict = parser.configure({ strict: true });

interface Stats {
  median: number;
  p95: number;
}

function measure(iterations: number, fn: () => unknown, before?: () => void): Stats {
  const warm = Math.max(50, Math.min(2000, iterations));
  for (let i = 0; i < warm; i++) {
    before?.();
    fn();
  }
  const samples = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    before?.();
    const t0 = performance.now();
    fn();
    samples[i] = (performance.now() - t0) * 1000;
  }
  samples.sort();
  return {
    median: samples[Math.floor(iterations / 2)] ?? NaN,
    p95: samples[Math.floor(iterations * 0.95)] ?? NaN,
  };
}

const fmt = (n: number): string => n.toFixed(n < 10 ? 2 : 1).padStart(9);

const CPU =
  'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="x",container!=""}[5m]))';
const HISTOGRAM =
  'histogram_quantile(0.99, sum by (le, service) ' +
  '(rate(http_request_duration_seconds_bucket{job="api", code=~"2.."}[5m])))';
const DASHBOARD = [
  'sum by (namespace, pod) (',
  '  label_replace(',
  '    rate(container_cpu_usage_seconds_total{container!="", container!="POD", image!=""}[5m]),',
  '    "pod", "$1", "pod_name", "(.*)"',
  '  )',
  ')',
  '/ on (namespace, pod) group_left()',
  'sum by (namespace, pod) (',
  '  kube_pod_container_resource_requests{resource="cpu", unit="core", job="kube-state-metrics"}',
  ')',
  '* on (namespace, pod) group_left(node) topk by (namespace, pod) (1,',
  '  max by (namespace, pod, node) (kube_pod_info{node!="", job="kube-state-metrics"})',
  ')',
  '> bool 0.8',
  'or on (namespace, pod)',
  'max_over_time(',
  '  (sum by (namespace, pod) (container_memory_working_set_bytes{container!="", image!=""})',
  '   / on (namespace, pod) sum by (namespace, pod) (kube_pod_container_resource_limits{resource="memory"}))[1h:1m]',
  ') offset 5m',
  'unless on (namespace, pod) (',
  '  kube_pod_status_phase{phase=~"Pending|Unknown|Failed"} == 1',
  ')',
  '+ 0 * absent(up{job="kubelet", metrics_path="/metrics/cadvisor"} == 1)',
].join('\n');

/** A query of about `bytes` bytes: a balanced sum of rate() terms (depth grows as log n). */
function sized(bytes: number): string {
  const term = 'rate(http_requests_total{job="api",code=~"5.."}[5m])';
  const n = Math.max(1, Math.round(bytes / (term.length + 5)));
  const tree = (k: number): string => {
    if (k === 1) return term;
    const l = Math.floor(k / 2);
    return `(${tree(l)} + ${tree(k - l)})`;
  };
  return `sum(${tree(n)})`;
}

function row(name: string, query: string, iterations: number): void {
  const bytes = Buffer.byteLength(query);
  const policy = policyFrom({ maxQueryBytes: 1 << 20, maxSelectors: 1_000_000 });
  const cold = measure(iterations, () => enforceQuery(query, target, policy), clearParseCache);
  const warm = measure(iterations, () => enforceQuery(query, target, policy));
  console.log(
    `${name.padEnd(34)} ${String(bytes).padStart(6)} B ${fmt(cold.median)} ${fmt(cold.p95)}` +
      ` ${fmt(warm.median)} ${fmt(warm.p95)}`,
  );
}

console.log(`node ${process.version}, target ${JSON.stringify(target.values)}`);
console.log('');
console.log(
  `${'query'.padEnd(34)} ${'size'.padStart(8)} ${'cold med'.padStart(9)} ${'cold p95'.padStart(9)}` +
    ` ${'warm med'.padStart(9)} ${'warm p95'.padStart(9)}   (µs per enforceQuery)`,
);
row('cpu rate by pod', CPU, 20_000);
row('histogram_quantile over buckets', HISTOGRAM, 20_000);
row('1 KiB dashboard query', DASHBOARD, 5_000);

console.log('');
console.log('cold path breakdown, cpu rate by pod (µs, median / p95):');
const parts: [string, () => unknown][] = [
  ['Prometheus-rules lexer', () => lex(CPU, 256)],
  ['lezer-promql strict parse', () => strict.parse(CPU)],
  ['whole enforceQuery, cold', () => enforceQuery(CPU, target, DEFAULT_POLICY)],
];
for (const [name, fn] of parts) {
  const s = measure(20_000, fn, clearParseCache);
  console.log(`  ${name.padEnd(32)} ${fmt(s.median)} ${fmt(s.p95)}`);
}

console.log('');
console.log('scaling (cold):');
console.log(
  `${'size'.padStart(10)} ${'bytes'.padStart(7)} ${'median µs'.padStart(11)} ${'p95 µs'.padStart(10)} ${'µs/KiB'.padStart(8)}`,
);
const policy = policyFrom({ maxQueryBytes: 1 << 20, maxSelectors: 1_000_000 });
for (const [label, size, iterations] of [
  ['100 B', 100, 5000],
  ['1 KiB', 1024, 2000],
  ['4 KiB', 4096, 500],
  ['16 KiB', 16384, 150],
  ['64 KiB', 65536, 40],
] as const) {
  const q = sized(size);
  const bytes = Buffer.byteLength(q);
  const s = measure(iterations, () => enforceQuery(q, target, policy), clearParseCache);
  console.log(
    `${label.padStart(10)} ${String(bytes).padStart(7)} ${s.median.toFixed(1).padStart(11)} ` +
      `${s.p95.toFixed(1).padStart(10)} ${(s.median / (bytes / 1024)).toFixed(1).padStart(8)}`,
  );
}
