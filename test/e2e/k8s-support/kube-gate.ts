/**
 * End-to-end support for promgate's Kubernetes mode: the demo cluster's namespaces as the
 * Kubernetes API stand-in serves them (with Rancher-style project labels), the real server
 * started in-process with `--auth kubernetes --kubeconfig <stand-in kubeconfig>`, and small
 * helpers to call it as a bearer, read the namespaces out of any answer and check them against
 * a scope.
 *
 * Projects of the demo cluster: `p-team-a` = team-a-dev + team-a-prod, `p-team-b` = team-b,
 * `p-system` = kube-system + monitoring.
 *
 * @example
 * ```ts
 * const kube = await startKubeStandin({ namespaces: demoClusterNamespaces() });
 * const gate = await startKubeGate({ kube, upstream: prom.url, version: 3, tenancy: 'project' });
 * const token = await kube.issueToken('team-a-dev/grafana');
 * const r = await gate.call(token, '/api/v1/query', { query: 'up', time: DEMO_EVAL_TIME });
 * assertWithin(namespacesIn(r.body), ['team-a-dev', 'team-a-prod'], 'up as team-a-dev/grafana');
 * await gate.stop(); await kube.stop();
 * ```
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { request } from 'undici';
import { DEMO_NAMESPACES } from '../../../src/demo/data.js';
import { buildConfig, startPromgate, type Promgate } from '../../../src/server.js';
import type { Tenancy } from '../../../src/tenancy/resolver.js';
import type { KubeStandin, NamespaceInput } from '../../k8s/standin.js';
import {
  prometheusApi,
  waitFor,
  type ApiRequestOptions,
  type ApiResult,
  type Params,
} from '../../support/index.js';

export const PROJECT_LABEL = 'field.cattle.io/projectId';

/** The project of each demo namespace. */
export const DEMO_PROJECTS: Readonly<Record<(typeof DEMO_NAMESPACES)[number], string>> =
  Object.freeze({
    'team-a-dev': 'p-team-a',
    'team-a-prod': 'p-team-a',
    'team-b': 'p-team-b',
    'kube-system': 'p-system',
    monitoring: 'p-system',
  });

/** The stand-in's namespaces: exactly the demo data's, each with its project label. */
export function demoClusterNamespaces(): NamespaceInput[] {
  return DEMO_NAMESPACES.map((name) => ({
    name,
    labels: { [PROJECT_LABEL]: DEMO_PROJECTS[name] },
  }));
}

/** A scope as the tests write it: sorted namespaces, every namespace, or no access (403). */
export type ExpectedScope = readonly string[] | 'all' | 'none';

export interface KubeGateOptions {
  readonly kube: KubeStandin;
  /** Prometheus (or any upstream) URL. */
  readonly upstream: string;
  /** Upstream major: 3 turns on the experimental functions the 3.x test servers enable. */
  readonly version: 2 | 3;
  readonly tenancy: Tenancy;
  /** More flags, appended last (e.g. `--token-cache-ttl=1s`). */
  readonly args?: readonly string[];
  /** Default `info`, so that every request line reaches {@link KubeGate.logText}. */
  readonly logLevel?: 'info' | 'warn';
}

export interface KubeGate {
  readonly promgate: Promgate;
  /** Tenant listener, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** A Prometheus API call as `token` (GET unless `opts.method`). */
  call<T = unknown>(
    token: string,
    path: string,
    params?: Params,
    opts?: ApiRequestOptions,
  ): Promise<ApiResult<T>>;
  /** Everything promgate logged so far. */
  logText(): string;
  stop(): Promise<void>;
}

/** promgate's command line for kubernetes mode against the stand-in. */
export function kubeGateArgs(opts: KubeGateOptions): string[] {
  return [
    `--upstream=${opts.upstream}`,
    '--auth=kubernetes',
    `--kubeconfig=${opts.kube.kubeconfigPath}`,
    `--tenancy=${opts.tenancy}`,
    '--listen=127.0.0.1:0',
    '--metrics-listen=127.0.0.1:0',
    `--log-level=${opts.logLevel ?? 'info'}`,
    `--promql-upstream-major=${opts.version}`,
    `--promql-experimental-functions=${opts.version === 3 ? 'true' : 'false'}`,
    ...(opts.args ?? []),
  ];
}

/**
 * Starts promgate in-process (listening on 127.0.0.1:0) in kubernetes mode and waits until it
 * is ready: the namespace informer has synced and the upstream answered.
 */
export async function startKubeGate(opts: KubeGateOptions): Promise<KubeGate> {
  const config = buildConfig(kubeGateArgs(opts));
  const lines: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  const promgate = await startPromgate(config, { logStream });
  try {
    await waitFor(
      `promgate (--tenancy ${opts.tenancy}) to be ready`,
      () => (promgate.ready() ? true : undefined),
      { timeoutMs: 20_000, intervalMs: 25 },
    );
  } catch (e) {
    await promgate.close();
    throw e;
  }
  let stopped: Promise<void> | undefined;
  return {
    promgate,
    url: promgate.url,
    call: (token, path, params, reqOpts) =>
      prometheusApi(promgate.url, path, params, {
        ...reqOpts,
        headers: { authorization: `Bearer ${token}`, ...reqOpts?.headers },
      }),
    logText: () => lines.join(''),
    stop: () => (stopped ??= promgate.close()),
  };
}

/**
 * Every value of a `namespace` label anywhere in an answer: query results (`metric`), series
 * and federate-like label sets, and the value list of `label/namespace/values` (pass
 * `labelValuesOf: 'namespace'`).
 */
export function namespacesIn(body: unknown, labelValuesOf?: string): string[] {
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'namespace' && typeof x === 'string') found.add(x);
        else walk(x);
      }
    }
  };
  const data = (body as { data?: unknown } | undefined)?.data;
  if (labelValuesOf === 'namespace' && Array.isArray(data)) {
    for (const x of data) if (typeof x === 'string') found.add(x);
  } else {
    walk(data);
  }
  return [...found].sort();
}

/** Fails when `namespaces` holds anything outside `scope` (a leak). */
export function assertWithin(
  namespaces: readonly string[],
  scope: ExpectedScope,
  what: string,
): void {
  if (scope === 'all') return;
  const allowed = new Set(scope === 'none' ? [] : scope);
  const outside = namespaces.filter((n) => !allowed.has(n));
  assert.deepEqual(outside, [], `LEAK: ${what} returned namespaces outside its scope`);
}

/** Asserts no issued token (nor its signature part) appears in `text`. */
export function assertNoTokens(text: string, tokens: Iterable<string>, where: string): void {
  for (const t of tokens) {
    assert.ok(!text.includes(t), `a token was written to ${where}`);
    const signature = t.split('.')[2];
    if (signature && signature.length > 16) {
      assert.ok(!text.includes(signature), `a token signature was written to ${where}`);
    }
  }
}

/**
 * A raw GET to promgate, for status, headers and body (the API client hides headers).
 * `authorization` is sent as given (undefined = no header). Uses undici's `request`, which
 * costs a load generator far less than `fetch`.
 */
export async function rawCall(
  url: string,
  path: string,
  authorization: string | undefined,
  extraHeaders: Readonly<Record<string, string>> = {},
): Promise<{ status: number; headers: Headers; text: string; json: unknown }> {
  const res = await request(`${url}${path}`, {
    headers: { ...(authorization !== undefined ? { authorization } : {}), ...extraHeaders },
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const text = await res.body.text();
  const headers = new Headers();
  for (const [k, v] of Object.entries(res.headers)) {
    for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) headers.append(k, one);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers, text, json };
}
