/**
 * Shared helpers of the deploy tests: the repository root, kubectl (for `kubectl kustomize`),
 * YAML documents, Kubernetes schema validation, the metric names promgate exports and the
 * metric names a PromQL expression reads.
 *
 * @example
 *   const docs = renderKustomization(join(repoRoot, 'deploy/overlays/rbac'));
 *   for (const doc of docs) validateObject(doc); // throws naming the object and the field
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { createMetrics } from '../../src/metrics.js';
import { checkQuery, DEFAULT_POLICY, parseQuery, policyFrom } from '../../src/promql/index.js';

/** The repository root: the nearest ancestor of this file holding promgate's package.json. */
export const repoRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 10; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && /"name":\s*"promgate"/.test(readFileSync(pkg, 'utf8'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`promgate's package.json not found above ${fileURLToPath(import.meta.url)}`);
})();

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `obj.a.b.c`, or undefined if any step is missing. */
export function at(obj: unknown, ...path: (string | number)[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (typeof key === 'number') {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[key];
    } else {
      if (!isObj(cur)) return undefined;
      cur = cur[key];
    }
  }
  return cur;
}

export function objs(v: unknown): Obj[] {
  return Array.isArray(v) ? v.filter(isObj) : [];
}

export function strs(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** `Kind namespace/name` for messages. */
export function describe(o: Obj): string {
  const ns = at(o, 'metadata', 'namespace');
  const name = String(at(o, 'metadata', 'name'));
  return `${String(o.kind)} ${typeof ns === 'string' ? `${ns}/` : ''}${name}`;
}

/** Every YAML document of `text` as a plain object; empty documents dropped; errors thrown. */
export function parseYamlDocuments(text: string, source: string): Obj[] {
  const out: Obj[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]?.message ?? ''}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isObj(value)) throw new Error(`${source}: a document is not a mapping`);
    out.push(value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// kubectl

const INSTALL_HINT =
  'Install it with `bash scripts/install-kubectl.sh` (kubectl 1.32 from Debian trixie, into ' +
  '.cache/tools/bin, no system changes; scripts/install-testbed.sh runs it), or set KUBECTL to ' +
  'a kubectl >= 1.21.';

function kustomizeMajor(bin: string): number | null {
  const r = spawnSync(bin, ['version', '--client', '-o', 'json'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.status !== 0 || typeof r.stdout !== 'string') return null;
  const m = /"kustomizeVersion":\s*"v(\d+)\./.exec(r.stdout);
  return m?.[1] === undefined ? null : Number(m[1]);
}

let kubectlPath: string | undefined;

/**
 * A kubectl whose kustomize supports Components (>= 4): $KUBECTL, then
 * .cache/tools/bin/kubectl, then PATH. Throws with install instructions when there is none.
 */
export function kubectl(): string {
  if (kubectlPath !== undefined) return kubectlPath;
  const candidates = [
    process.env.KUBECTL,
    join(repoRoot, '.cache/tools/bin/kubectl'),
    'kubectl',
  ].filter((c): c is string => c !== undefined && c !== '');
  const tried: string[] = [];
  for (const c of candidates) {
    const major = kustomizeMajor(c);
    if (major !== null && major >= 4) {
      kubectlPath = c;
      return c;
    }
    tried.push(major === null ? `${c} (not found or not runnable)` : `${c} (kustomize v${major})`);
  }
  throw new Error(
    `kubectl with kustomize >= 4 is needed to render deploy/; tried ${tried.join(', ')}. ${INSTALL_HINT}`,
  );
}

/** `kubectl kustomize DIR`, parsed. Throws with kustomize's own error. */
export function renderKustomization(dir: string): Obj[] {
  const r = spawnSync(kubectl(), ['kustomize', dir], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    throw new Error(`kubectl kustomize ${dir} failed: ${r.stderr || r.error?.message || ''}`);
  }
  return parseYamlDocuments(r.stdout, `kubectl kustomize ${dir}`);
}

/**
 * Renders the kustomization `dir` (relative to deploy/) plus `components` (relative to
 * deploy/) the way a user adds components: a kustomization of their own with `dir` as a
 * resource and `dir`'s namespace set (paths relative: kustomize refuses absolute ones).
 */
export function renderWithComponents(dir: string, components: readonly string[]): Obj[] {
  const deploy = join(repoRoot, 'deploy');
  if (components.length === 0) return renderKustomization(join(deploy, dir));
  const [k] = parseYamlDocuments(
    readFileSync(join(deploy, dir, 'kustomization.yaml'), 'utf8'),
    dir,
  );
  const namespace = k?.namespace;
  if (typeof namespace !== 'string') throw new Error(`deploy/${dir} sets no namespace`);
  const wrapper = mkdtempSync(join(tmpdir(), 'promgate-kustomize-'));
  try {
    const rel = (p: string): string => JSON.stringify(relative(wrapper, join(deploy, p)));
    writeFileSync(
      join(wrapper, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        `namespace: ${namespace}`,
        `resources: [${rel(dir)}]`,
        `components: [${components.map(rel).join(', ')}]`,
        '',
      ].join('\n'),
    );
    return renderKustomization(wrapper);
  } finally {
    rmSync(wrapper, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// Schema validation

interface Validatable {
  validate(): void;
}
type ModelCtor = new (data: never) => Validatable;

/** apiVersion/kind → kubernetes-models class (types, enums, required fields). */
const MODELS: Record<string, ModelCtor> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

export const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);

interface Attribute {
  baseName: string;
  type: string;
}
type AttributeMap = readonly Attribute[];

function attributeMap(className: string): AttributeMap | undefined {
  const cls: unknown = (k8s as unknown as Record<string, unknown>)[className];
  if (typeof cls !== 'function') return undefined;
  const get: unknown = (cls as unknown as Obj).getAttributeTypeMap;
  if (typeof get !== 'function') return undefined;
  const map: unknown = get.call(cls);
  return Array.isArray(map) ? (map as AttributeMap) : undefined;
}

/**
 * Unknown fields, as `kubectl apply --validate=strict` reports them, from the OpenAPI models
 * of @kubernetes/client-node (kubernetes-models' validators accept unknown fields).
 */
function unknownFields(value: unknown, type: string, path: string, out: string[]): void {
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr?.[1] !== undefined) {
    if (Array.isArray(value))
      value.forEach((v, i) => unknownFields(v, arr[1] ?? '', `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map?.[1] !== undefined) {
    if (isObj(value))
      for (const [k, v] of Object.entries(value)) unknownFields(v, map[1], `${path}.${k}`, out);
    return;
  }
  const attrs = attributeMap(type);
  if (attrs === undefined || !isObj(value)) return; // primitives, IntOrString, any
  const known = new Map(attrs.map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    const t = known.get(k);
    if (t === undefined) out.push(`${path}.${k}`);
    else unknownFields(v, t, `${path}.${k}`, out);
  }
}

/** Hand-kept field lists of the Prometheus Operator kinds promgate ships (v1 CRDs). */
const OPERATOR_FIELDS: Record<string, Record<string, readonly string[]>> = {
  ServiceMonitor: {
    spec: [
      'endpoints',
      'selector',
      'namespaceSelector',
      'jobLabel',
      'targetLabels',
      'podTargetLabels',
      'sampleLimit',
    ],
    'spec.endpoints[]': [
      'port',
      'targetPort',
      'path',
      'scheme',
      'params',
      'interval',
      'scrapeTimeout',
      'tlsConfig',
      'authorization',
      'bearerTokenSecret',
      'honorLabels',
      'honorTimestamps',
      'relabelings',
      'metricRelabelings',
      'followRedirects',
      'enableHttp2',
      'proxyUrl',
      'basicAuth',
      'oauth2',
      'filterRunning',
      'trackTimestampsStaleness',
    ],
  },
  PrometheusRule: {
    spec: ['groups'],
    'spec.groups[]': [
      'name',
      'rules',
      'interval',
      'limit',
      'partial_response_strategy',
      'query_offset',
      'labels',
    ],
    'spec.groups[].rules[]': [
      'alert',
      'record',
      'expr',
      'for',
      'keep_firing_for',
      'labels',
      'annotations',
    ],
  },
};

function operatorUnknownFields(o: Obj, out: string[]): void {
  const fields = OPERATOR_FIELDS[String(o.kind)];
  if (fields === undefined) return;
  const check = (v: unknown, key: string, path: string): void => {
    const allowed = fields[key];
    if (allowed === undefined || !isObj(v)) return;
    for (const k of Object.keys(v)) if (!allowed.includes(k)) out.push(`${path}.${k}`);
  };
  check(o.spec, 'spec', 'spec');
  objs(at(o, 'spec', 'endpoints')).forEach((e, i) =>
    check(e, 'spec.endpoints[]', `spec.endpoints[${i}]`),
  );
  objs(at(o, 'spec', 'groups')).forEach((g, i) => {
    check(g, 'spec.groups[]', `spec.groups[${i}]`);
    objs(g.rules).forEach((r, j) =>
      check(r, 'spec.groups[].rules[]', `spec.groups[${i}].rules[${j}]`),
    );
  });
}

/**
 * Validates one Kubernetes object: kubernetes-models' schema (types, enums, required), then
 * unknown fields. Throws an error naming the object and every problem.
 */
export function validateObject(o: Obj): void {
  const apiVersion = String(o.apiVersion);
  const kind = String(o.kind);
  const Model = MODELS[`${apiVersion}/${kind}`];
  if (Model === undefined) {
    throw new Error(
      `${describe(o)}: no schema for ${apiVersion} ${kind}; add it to MODELS in test/deploy/support.ts`,
    );
  }
  try {
    new Model(o as never).validate();
  } catch (err) {
    throw new Error(`${describe(o)} (${apiVersion}) is invalid: ${(err as Error).message}`);
  }
  const unknown: string[] = [];
  if (apiVersion.startsWith('monitoring.coreos.com/')) {
    operatorUnknownFields(o, unknown);
  } else {
    const version = apiVersion.split('/').pop() ?? '';
    const className = `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
    if (attributeMap(className) === undefined) {
      throw new Error(`${describe(o)}: @kubernetes/client-node has no model ${className}`);
    }
    unknownFields(o, className, kind, unknown);
  }
  if (unknown.length > 0) throw new Error(`${describe(o)}: unknown fields ${unknown.join(', ')}`);
}

// ---------------------------------------------------------------------------------------
// Metrics and PromQL

/**
 * Every sample name promgate's /metrics can expose: the families of createMetrics() (with
 * _bucket/_sum/_count for histograms and summaries) and prom-client's default metrics.
 */
export async function exportedMetricNames(): Promise<Set<string>> {
  const metrics = createMetrics({ collectDefault: true });
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    const type = String(m.type);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) names.add(m.name + s);
    else names.add(m.name);
  }
  metrics.registry.clear();
  return names;
}

/** Series Prometheus itself adds to every scraped target. */
export const SCRAPE_SERIES = new Set(['up']);

/** Queries must pass promgate's policy for Prometheus 3.x and 2.x upstreams alike. */
const POLICIES = [DEFAULT_POLICY, policyFrom({ upstreamMajor: 2 })];

/**
 * The metric names an expression reads, parsed and policy-checked by promgate's own PromQL
 * engine. A `__name__=~"…"` matcher is expanded against `known`. Throws on a parse or policy
 * error and on a selector without a metric name.
 */
export function metricNamesOf(expr: string, known: ReadonlySet<string>): Set<string> {
  let selectors;
  try {
    for (const policy of POLICIES) checkQuery(expr, policy);
    selectors = parseQuery(expr, DEFAULT_POLICY).selectors;
  } catch (err) {
    throw new Error(
      `promgate's PromQL engine refuses ${JSON.stringify(expr)}: ${(err as Error).message}`,
    );
  }
  const names = new Set<string>();
  for (const sel of selectors) {
    let found = false;
    if (sel.name !== null) {
      names.add(sel.name);
      found = true;
    }
    for (const item of sel.items) {
      if (item.kind === 'name') {
        names.add(item.value);
        found = true;
      } else if (item.name === '__name__') {
        if (item.op === '=') names.add(item.value);
        else if (item.op === '=~') {
          const re = new RegExp(`^(?:${item.value})$`);
          const matched = [...known].filter((n) => re.test(n));
          if (matched.length === 0)
            throw new Error(`__name__=~"${item.value}" matches no exported metric: ${expr}`);
          for (const n of matched) names.add(n);
        } else throw new Error(`negative __name__ matcher selects unknown metrics: ${expr}`);
        found = true;
      }
    }
    if (!found) throw new Error(`a selector without a metric name in ${expr}`);
  }
  return names;
}

// ---------------------------------------------------------------------------------------
// promgate's flags

/** `--name=value` / `--name` → [name, value | undefined]; anything else → null. */
export function splitFlag(arg: string): [string, string | undefined] | null {
  const m = /^--([a-z0-9][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
  if (m?.[1] === undefined) return null;
  return [m[1], m[2]];
}
