/**
 * Kubernetes schema validation of rendered objects: kubernetes-models (types, enums,
 * required fields; the Prometheus Operator kinds from @kubernetes-models/prometheus-operator)
 * plus unknown-field detection from @kubernetes/client-node's OpenAPI models.
 *
 * @example
 *   for (const doc of renderWithComponents('overlays/rbac', [])) validateObject(doc);
 */
import * as k8s from '@kubernetes/client-node';
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
import { at, describe, isObj, objs, type Obj } from './support.js';

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
