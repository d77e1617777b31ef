/**
 * The differential oracle for promgate's Kubernetes mode (issue 4 "Proof"): the real server in
 * `--auth kubernetes` mode, talking to the Kubernetes API stand-in through client-node and a
 * kubeconfig, in front of a real Prometheus holding the whole demo cluster. For each tenancy
 * mode and each identity, every answer through promgate must equal the same request sent
 * directly to a Prometheus holding exactly that identity's namespaces (the full server for
 * cluster-wide callers):
 *
 * - a sample of the query corpus, as `query` and `query_range` (data, and 3.x annotations);
 * - `series`, `labels` and `label/<name>/values` for a few `match[]` sets;
 * - narrowing with repeatable `?namespace=` (query string or form) and `X-Namespace`: the
 *   narrowed server's answer; a namespace outside the scope is a 403 naming it;
 * - outsiders (authenticated, no namespace) get 403; bad tokens 401 with `WWW-Authenticate`;
 * - no token ever reaches promgate's log.
 *
 * Identities (the stand-in's RBAC table and TokenReview users):
 * | identity | serviceaccount | project | rbac |
 * |---|---|---|---|
 * | SA team-a-dev/grafana | team-a-dev | team-a-dev, team-a-prod | (outsider) |
 * | SA team-b/grafana | team-b | team-b | — |
 * | SA team-a-prod/federate (RoleBinding to the SA in team-a-prod, to its namespace's group in kube-system) | — | — | kube-system, team-a-prod |
 * | user bob (RoleBindings in team-b and monitoring) | (outsider) | — | monitoring, team-b |
 * | SA kube-system/ops (ClusterRoleBinding get namespaces) | all | all | all |
 * | user alice in group platform-admins (`--cluster-wide-group`) | all | all | all |
 * | user carol, SA team-b/no-access | outsiders |||
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO_EVAL_TIME, DEMO_RANGE, DEMO_WINDOW } from '../../../src/demo/data.js';
import type { Tenancy } from '../../../src/tenancy/resolver.js';
import { validFor, type CorpusQuery } from '../../corpus/queries.js';
import { startKubeStandin, type KubeStandin } from '../../k8s/standin.js';
import {
  startDemoPrometheus,
  type ApiResult,
  type Params,
  type PrometheusServer,
} from '../../support/index.js';
import {
  annotations,
  diffQueryData,
  diffSeries,
  diffStrings,
  mapLimit,
  namedNamespaces,
  outsideScope,
} from '../support/compare.js';
import {
  assertNoTokens,
  demoClusterNamespaces,
  namespacesIn,
  rawCall,
  startKubeGate,
  type ExpectedScope,
  type KubeGate,
} from './kube-gate.js';

/** Requests in flight at once: the machine has 2 cores shared by many servers. */
const CONCURRENCY = 8;
const WINDOW = { start: DEMO_WINDOW.start, end: DEMO_WINDOW.end };

type IdentityName =
  'saDev' | 'saB' | 'saFederate' | 'bob' | 'saOps' | 'alice' | 'carol' | 'saNoAccess';

const DESCRIPTION: Record<IdentityName, string> = {
  saDev: 'SA team-a-dev/grafana',
  saB: 'SA team-b/grafana',
  saFederate: 'SA team-a-prod/federate',
  bob: 'user bob',
  saOps: 'SA kube-system/ops (cluster-wide by permission)',
  alice: 'user alice (cluster-wide by group)',
  carol: 'user carol',
  saNoAccess: 'SA team-b/no-access',
};

/** Each mode's identities and their expected scopes (see the module comment). */
const SCOPES: Record<Tenancy, Partial<Record<IdentityName, ExpectedScope>>> = {
  serviceaccount: {
    saDev: ['team-a-dev'],
    saB: ['team-b'],
    saOps: 'all',
    alice: 'all',
    bob: 'none',
    carol: 'none',
  },
  project: {
    saDev: ['team-a-dev', 'team-a-prod'],
    saB: ['team-b'],
    saOps: 'all',
    alice: 'all',
    carol: 'none',
  },
  rbac: {
    bob: ['monitoring', 'team-b'],
    saFederate: ['kube-system', 'team-a-prod'],
    saOps: 'all',
    alice: 'all',
    saDev: 'none',
    saNoAccess: 'none',
    carol: 'none',
  },
};

/** How a narrowing is sent. */
type Via = 'param' | 'form' | 'header';

interface Narrowing {
  readonly who: IdentityName;
  readonly via: Via;
  readonly namespaces: readonly string[];
  /** The namespace(s) the 403 must name; undefined = inside the scope. */
  readonly outside?: readonly string[];
}

const NARROWINGS: Record<Tenancy, readonly Narrowing[]> = {
  serviceaccount: [
    { who: 'saOps', via: 'param', namespaces: ['team-a-dev', 'team-a-prod'] },
    { who: 'alice', via: 'header', namespaces: ['team-b'] },
    { who: 'saDev', via: 'form', namespaces: ['team-a-dev'] },
    { who: 'saDev', via: 'param', namespaces: ['team-b'], outside: ['team-b'] },
    { who: 'saB', via: 'header', namespaces: ['team-b', 'kube-system'], outside: ['kube-system'] },
  ],
  project: [
    { who: 'saDev', via: 'param', namespaces: ['team-a-dev'] },
    { who: 'saDev', via: 'header', namespaces: ['team-a-prod', 'team-a-dev'] },
    { who: 'alice', via: 'form', namespaces: ['team-a-dev', 'team-a-prod'] },
    {
      who: 'saDev',
      via: 'header',
      namespaces: ['team-a-dev', 'kube-system'],
      outside: ['kube-system'],
    },
    { who: 'saDev', via: 'form', namespaces: ['team-b'], outside: ['team-b'] },
  ],
  rbac: [
    { who: 'bob', via: 'header', namespaces: ['team-b'] },
    { who: 'bob', via: 'param', namespaces: ['monitoring', 'team-b'] },
    { who: 'saOps', via: 'header', namespaces: ['team-b'] },
    { who: 'bob', via: 'form', namespaces: ['team-a-dev'], outside: ['team-a-dev'] },
    {
      who: 'saFederate',
      via: 'param',
      namespaces: ['team-a-prod', 'monitoring'],
      outside: ['monitoring'],
    },
  ],
};

/** `match[]` sets for series / labels / label values; some name namespaces by equality. */
const MATCH_SETS: readonly (readonly string[])[] = [
  ['up'],
  ['{__name__=~"kube_pod_.*"}'],
  ['{namespace=~"team-.*"}'],
  ['container_memory_working_set_bytes{container!=""}', 'up{job="kubelet"}'],
  ['kube_pod_info{namespace="team-b"}'],
];
const LABEL_NAMES = ['namespace', 'pod', 'job'] as const;
const VALUE_MATCH_SETS: readonly (readonly string[])[] = [[], ['up'], ['{namespace=~"team-.*"}']];

export interface KubernetesOracleOptions {
  readonly version: 2 | 3;
  readonly modes: readonly Tenancy[];
  /** Every n-th valid corpus query is sampled (~40 with 4). */
  readonly stride: number;
}

const scopeKey = (scope: readonly string[] | 'all'): string =>
  scope === 'all' ? '*' : [...scope].sort().join('+');
const show = (scope: ExpectedScope): string =>
  typeof scope === 'string' ? scope : scope.join('+');

/**
 * absent() copies equality matchers into its output: with a one-namespace scope promgate's
 * enforced `namespace="<ns>"` becomes a label the tenant-only server's answer lacks. The value
 * is the caller's own namespace, so the expectation gains it (as in test/e2e/support).
 */
function withAbsentLabel(data: unknown, scope: readonly string[] | 'all'): unknown {
  if (scope === 'all' || scope.length !== 1) return data;
  const ns = scope[0] as string;
  const d = data as { resultType: string; result: unknown };
  if (d.resultType !== 'vector' && d.resultType !== 'matrix') return data;
  const result = (d.result as { metric: Record<string, string> }[]).map((s) =>
    'namespace' in s.metric ? s : { ...s, metric: { ...s.metric, namespace: ns } },
  );
  return { ...d, result };
}

/** Whether an answer holds a series, or a scalar/string. */
function hasData(data: unknown): boolean {
  if (Array.isArray(data)) return data.length > 0;
  const d = data as { resultType?: string; result?: unknown };
  return d.resultType === 'scalar' || d.resultType === 'string' || (d.result as []).length > 0;
}

function failIfProblems(problems: readonly string[], checked: number): void {
  assert.ok(checked > 0, 'nothing was checked');
  if (problems.length > 0) {
    assert.fail(
      `${problems.length} mismatches out of ${checked} checks:\n` +
        problems.slice(0, 40).join('\n') +
        (problems.length > 40 ? `\n… and ${problems.length - 40} more` : ''),
    );
  }
}

/** One request to compare: who asks, with what effective scope, and how narrowing is sent. */
interface Job {
  readonly mode: Tenancy;
  readonly who: IdentityName;
  /** The scope promgate must enforce (after narrowing). */
  readonly scope: readonly string[] | 'all';
  readonly narrowing?: Narrowing;
  readonly path: string;
  readonly params: Params;
  readonly method: 'GET' | 'POST';
  /** Texts whose namespace equality matchers decide a 403. */
  readonly texts: readonly string[];
  readonly refused?: boolean;
  readonly absent?: boolean;
  readonly diff: (a: unknown, b: unknown) => string | undefined;
  readonly directPath?: string;
}

export function kubernetesOracleSuite(opts: KubernetesOracleOptions): void {
  const { version, modes } = opts;
  const sample: readonly CorpusQuery[] = validFor(version).filter((_, i) => i % opts.stride === 0);

  describe(`kubernetes mode: differential oracle against Prometheus ${version}.x (${modes.join(', ')})`, () => {
    let kube: KubeStandin;
    const servers = new Map<string, PrometheusServer>();
    const gates = new Map<Tenancy, KubeGate>();
    const tokens = {} as Record<IdentityName, string>;
    const badTokens: Record<string, string> = {};
    const started = Date.now();
    const counts = new Map<string, number>();
    const count = (k: string): void => void counts.set(k, (counts.get(k) ?? 0) + 1);

    /** Every scope a direct server is needed for. */
    function neededScopes(): (readonly string[] | 'all')[] {
      const out = new Map<string, readonly string[] | 'all'>([['*', 'all']]);
      for (const mode of modes) {
        for (const scope of Object.values(SCOPES[mode])) {
          if (scope !== 'none') out.set(scopeKey(scope), scope);
        }
        for (const n of NARROWINGS[mode]) {
          if (!n.outside) out.set(scopeKey(n.namespaces), [...n.namespaces].sort());
        }
      }
      return [...out.values()];
    }

    before(
      async () => {
        kube = await startKubeStandin({ namespaces: demoClusterNamespaces() });
        const sa = (ns: string, name: string): string => `system:serviceaccount:${ns}:${name}`;
        kube.grant({ user: sa('kube-system', 'ops'), verbs: ['get'], resources: ['namespaces'] });
        for (const ns of ['team-b', 'monitoring']) {
          kube.grant({ user: 'bob', namespace: ns, verbs: ['get', 'list'], resources: ['pods'] });
        }
        kube.grant({
          user: sa('team-a-prod', 'federate'),
          namespace: 'team-a-prod',
          verbs: ['get'],
          resources: ['pods'],
        });
        kube.grant({
          group: 'system:serviceaccounts:team-a-prod',
          namespace: 'kube-system',
          verbs: ['get'],
          resources: ['pods'],
        });
        // Grants that must NOT widen a scope: another verb, another resource, a cluster-scoped
        // permission that is not the cluster-wide one.
        kube.grant({ user: 'bob', namespace: 'kube-system', verbs: ['list'], resources: ['pods'] });
        kube.grant({
          user: 'bob',
          namespace: 'team-a-dev',
          verbs: ['get'],
          resources: ['services'],
        });
        kube.grant({ user: sa('team-b', 'grafana'), verbs: ['get'], resources: ['nodes'] });

        tokens.saDev = await kube.issueToken('team-a-dev/grafana');
        tokens.saB = await kube.issueToken('team-b/grafana', { pod: 'grafana-0' });
        tokens.saFederate = await kube.issueToken('team-a-prod/federate');
        tokens.saOps = await kube.issueToken('kube-system/ops');
        tokens.saNoAccess = await kube.issueToken('team-b/no-access', { legacy: true });
        tokens.bob = kube.addUserToken({ username: 'bob', uid: 'u-bob', groups: ['developers'] });
        tokens.alice = kube.addUserToken({
          username: 'alice',
          uid: 'u-alice',
          groups: ['platform-admins'],
        });
        tokens.carol = kube.addUserToken({ username: 'carol', groups: ['developers'] });

        badTokens.garbage = 'not-a-kubernetes-token';
        badTokens['JWT-shaped garbage'] = 'eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl';
        badTokens.expired = await kube.issueToken('team-a-dev/grafana', {
          expiresInSeconds: -120,
        });
        badTokens['foreign signature'] = await kube.issueToken('team-a-dev/grafana', {
          signer: 'foreign',
        });
        badTokens['wrong audience'] = await kube.issueToken('team-a-dev/grafana', {
          audiences: ['some-other-service'],
        });
        badTokens['other cluster'] = await kube.issueToken('team-a-dev/grafana', {
          issuer: 'https://other-cluster.example',
        });
        badTokens.revoked = await kube.issueToken('team-a-dev/grafana');
        kube.revokeToken(badTokens.revoked);
        badTokens['deleted ServiceAccount'] = await kube.issueToken('team-b/deleted');
        kube.deleteServiceAccount('team-b', 'deleted');

        const scopes = neededScopes();
        const startedServers = await Promise.allSettled(
          scopes.map((s) =>
            startDemoPrometheus({ version, namespaces: s }).then((p) => {
              servers.set(scopeKey(s), p);
            }),
          ),
        );
        const failed = startedServers.find((s) => s.status === 'rejected');
        if (failed) throw (failed as PromiseRejectedResult).reason;
        const full = servers.get('*') as PrometheusServer;
        for (const mode of modes) {
          gates.set(
            mode,
            await startKubeGate({
              kube,
              upstream: full.url,
              version,
              tenancy: mode,
              args: ['--cluster-wide-group=platform-admins'],
            }),
          );
        }
      },
      { timeout: 60_000 },
    );

    after(async () => {
      const lines = [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
      console.log(
        `kubernetes oracle ${version}.x: ${((Date.now() - started) / 1000).toFixed(1)} s, ` +
          `${servers.size} Prometheus servers, TokenReviews ${kube?.counters.tokenreviews}, ` +
          `SubjectAccessReviews ${kube?.counters.subjectaccessreviews}\n` +
          lines.map(([k, n]) => `  ${k}: ${n}`).join('\n'),
      );
      await Promise.allSettled([...gates.values()].map((g) => g.stop()));
      await Promise.allSettled([...servers.values()].map((s) => s.stop()));
      await kube?.stop();
    });

    const direct = (scope: readonly string[] | 'all'): PrometheusServer => {
      const s = servers.get(scopeKey(scope));
      if (!s) throw new Error(`no direct server for ${scopeKey(scope)}`);
      return s;
    };
    /** Direct answers are shared by every job with the same scope and request. */
    const directCache = new Map<string, Promise<ApiResult<unknown>>>();
    const directAnswer = (
      scope: readonly string[] | 'all',
      path: string,
      params: Params,
    ): Promise<ApiResult<unknown>> => {
      const key = `${scopeKey(scope)} ${path} ${JSON.stringify(params)}`;
      let p = directCache.get(key);
      if (!p) directCache.set(key, (p = direct(scope).api(path, params)));
      return p;
    };

    function narrowed(
      params: Params,
      n: Narrowing | undefined,
      method: 'GET' | 'POST',
    ): { params: Params; headers: Record<string, string>; method: 'GET' | 'POST' } {
      if (!n) return { params, headers: {}, method };
      if (n.via === 'header') {
        return { params, headers: { 'x-namespace': n.namespaces.join(', ') }, method };
      }
      // `param`: repeated in the query string (GET); `form`: repeated in the POST body.
      return {
        params: { ...params, namespace: [...n.namespaces] },
        headers: {},
        method: n.via === 'form' ? ('POST' as const) : ('GET' as const),
      };
    }

    /** Runs jobs; returns [problems, non-empty compared answers]. */
    async function runJobs(jobs: readonly Job[]): Promise<[string[], number]> {
      const problems: string[] = [];
      let nonEmpty = 0;
      await mapLimit(jobs, CONCURRENCY, async (j) => {
        const gate = gates.get(j.mode) as KubeGate;
        const scopeText = j.narrowing
          ? `${show(j.scope)} (narrowed by ${j.narrowing.via})`
          : show(j.scope);
        const what = `[${j.mode}] ${j.path} ${JSON.stringify(j.texts)} as ${DESCRIPTION[j.who]} → ${scopeText}`;
        const req = narrowed(j.params, j.narrowing, j.method);
        const got = await gate.call(tokens[j.who], j.path, req.params, {
          method: req.method,
          headers: req.headers,
        });
        const named = j.texts.flatMap((t) => namedNamespaces(t));
        const expect =
          j.scope === 'all'
            ? 'answer'
            : j.refused
              ? 'refused'
              : outsideScope(named, j.scope).length > 0
                ? 'forbidden'
                : 'answer';
        const key = `${j.mode} ${j.who}${j.narrowing ? ' narrowed' : ''} ${j.path.replace(/label\/[^/]+/, 'label/*')}`;
        if (expect !== 'answer') {
          const statuses = expect === 'forbidden' ? [403] : [400, 403];
          if (got.ok || !statuses.includes(got.status)) {
            problems.push(
              `${what}: expected ${statuses.join('/')}, got ${got.status} ${got.ok ? 'data' : got.error}`,
            );
          }
          count(`${key} refused`);
          return;
        }
        let want = await directAnswer(j.scope, j.directPath ?? j.path, j.params);
        if (want.ok && j.absent) want = { ...want, data: withAbsentLabel(want.data, j.scope) };
        if (!want.ok) {
          if (got.ok || got.status !== want.status || got.errorType !== want.errorType) {
            problems.push(
              `${what}: direct failed ${want.status} ${want.errorType}; promgate ${got.status} ${got.ok ? 'data' : got.error}`,
            );
          } else count(`${key} error-equal`);
          return;
        }
        if (!got.ok) {
          problems.push(`${what}: promgate failed ${got.status} ${got.errorType}: ${got.error}`);
          return;
        }
        const d = j.diff(got.data, want.data);
        if (d !== undefined) {
          problems.push(`${what}: ${d}`);
          return;
        }
        if (j.path.includes('query')) {
          const [a, b] = [annotations(got), annotations(want)];
          if (JSON.stringify(a) !== JSON.stringify(b)) {
            problems.push(`${what}: annotations ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
            return;
          }
        }
        if (hasData(got.data)) nonEmpty++;
        count(`${key} compared`);
      });
      return [problems, nonEmpty];
    }

    /** The identities of `mode` that have access, with their scopes. */
    const members = (mode: Tenancy): [IdentityName, readonly string[] | 'all'][] =>
      Object.entries(SCOPES[mode]).flatMap(([who, scope]) =>
        scope === 'none' ? [] : [[who as IdentityName, scope]],
      );

    function queryJobs(
      mode: Tenancy,
      who: IdentityName,
      scope: readonly string[] | 'all',
      queries: readonly CorpusQuery[],
      narrowing?: Narrowing,
    ): Job[] {
      return queries.flatMap((q, i) =>
        (['query', 'query_range'] as const).map((endpoint) => ({
          mode,
          who,
          scope,
          ...(narrowing ? { narrowing } : {}),
          path: `/api/v1/${endpoint}`,
          params:
            endpoint === 'query'
              ? { query: q.query, time: DEMO_EVAL_TIME }
              : { query: q.query, ...DEMO_RANGE },
          method: i % 2 === 0 ? ('POST' as const) : ('GET' as const),
          texts: [q.query],
          refused: q.refused !== undefined,
          absent: q.tags.includes('absent'),
          diff: diffQueryData,
        })),
      );
    }

    function selectorJobs(
      mode: Tenancy,
      who: IdentityName,
      scope: readonly string[] | 'all',
      narrowing?: Narrowing,
    ): Job[] {
      const base = { mode, who, scope, ...(narrowing ? { narrowing } : {}) };
      const jobs: Job[] = [];
      for (const set of MATCH_SETS) {
        const params = { 'match[]': [...set], ...WINDOW };
        jobs.push({
          ...base,
          path: '/api/v1/series',
          params,
          method: 'POST',
          texts: set,
          diff: diffSeries,
        });
      }
      for (const set of [[], ...MATCH_SETS]) {
        const params = { 'match[]': [...set], ...WINDOW };
        jobs.push({
          ...base,
          path: '/api/v1/labels',
          params,
          method: 'POST',
          texts: set,
          diff: diffStrings,
        });
      }
      for (const name of LABEL_NAMES) {
        for (const set of VALUE_MATCH_SETS) {
          const params = { 'match[]': [...set], ...WINDOW };
          const path = `/api/v1/label/${name}/values`;
          jobs.push({ ...base, path, params, method: 'GET', texts: set, diff: diffStrings });
        }
      }
      return jobs;
    }

    for (const mode of modes) {
      describe(`--tenancy ${mode}`, () => {
        test(`each identity sees exactly its namespaces (count by namespace)`, async () => {
          // Guards against a vacuous oracle: scopes differ, and promgate's answer names exactly
          // the identity's namespaces.
          const gate = gates.get(mode) as KubeGate;
          const params = { query: 'count by (namespace) (kube_pod_info)', time: DEMO_EVAL_TIME };
          const fullAnswer = await direct('all').api('/api/v1/query', params);
          assert.ok(fullAnswer.ok);
          assert.equal(namespacesIn(fullAnswer.body).length, 5, 'the full server has 5 namespaces');
          for (const [who, scope] of Object.entries(SCOPES[mode]) as [
            IdentityName,
            ExpectedScope,
          ][]) {
            const r = await gate.call(tokens[who], '/api/v1/query', params);
            if (scope === 'none') {
              assert.equal(r.status, 403, `${DESCRIPTION[who]}: ${r.ok ? 'data' : r.error}`);
              continue;
            }
            assert.ok(r.ok, `${DESCRIPTION[who]}: ${r.ok ? '' : `${r.status} ${r.error}`}`);
            assert.deepEqual(
              namespacesIn(r.body),
              scope === 'all' ? namespacesIn(fullAnswer.body) : scope,
              DESCRIPTION[who],
            );
          }
        });

        test(`query and query_range: ${sample.length} corpus queries as each identity`, async () => {
          const jobs = members(mode).flatMap(([who, scope]) => queryJobs(mode, who, scope, sample));
          const [problems, nonEmpty] = await runJobs(jobs);
          failIfProblems(problems, jobs.length);
          assert.ok(
            nonEmpty > jobs.length / 2,
            `only ${nonEmpty} of ${jobs.length} answers hold data`,
          );
          count(`${mode} query answers with data: ${nonEmpty} of ${jobs.length} jobs;`);
        });

        test('series, labels and label values as each identity', async () => {
          const jobs = members(mode).flatMap(([who, scope]) => selectorJobs(mode, who, scope));
          const [problems, nonEmpty] = await runJobs(jobs);
          failIfProblems(problems, jobs.length);
          assert.ok(
            nonEmpty > jobs.length / 2,
            `only ${nonEmpty} of ${jobs.length} answers hold data`,
          );
        });

        test('narrowing (?namespace= repeated, form, X-Namespace) gives the narrowed answer; outside is 403 naming it', async () => {
          const queries = sample.filter((_, i) => i % 4 === 1);
          const jobs: Job[] = [];
          const forbiddenChecks: Promise<string | undefined>[] = [];
          for (const n of NARROWINGS[mode]) {
            const scope = SCOPES[mode][n.who];
            assert.ok(scope !== undefined && scope !== 'none', `${n.who} has no scope in ${mode}`);
            if (n.outside) {
              const gate = gates.get(mode) as KubeGate;
              for (const path of ['/api/v1/query', '/api/v1/series', '/api/v1/labels']) {
                const params =
                  path === '/api/v1/query'
                    ? { query: 'up', time: DEMO_EVAL_TIME }
                    : { 'match[]': ['up'], ...WINDOW };
                const req = narrowed(params, n, 'GET');
                forbiddenChecks.push(
                  gate
                    .call(tokens[n.who], path, req.params, {
                      method: req.method,
                      headers: req.headers,
                    })
                    .then((r) => {
                      const what = `[${mode}] ${path} as ${DESCRIPTION[n.who]} narrowed by ${n.via} to ${n.namespaces.join(',')}`;
                      if (r.ok || r.status !== 403 || r.errorType !== 'forbidden')
                        return `${what}: ${r.status}, want 403`;
                      for (const ns of n.outside ?? []) {
                        if (!r.error.includes(`"${ns}"`))
                          return `${what}: 403 does not name ${ns}: ${r.error}`;
                      }
                      for (const ns of n.namespaces.filter((x) => !n.outside?.includes(x))) {
                        if (r.error.includes(`"${ns}"`))
                          return `${what}: 403 names ${ns}, inside the scope: ${r.error}`;
                      }
                      count(`${mode} narrowing outside → 403`);
                      return undefined;
                    }),
                );
              }
              continue;
            }
            const target = [...n.namespaces].sort();
            jobs.push(...queryJobs(mode, n.who, target, queries, n));
            jobs.push(...selectorJobs(mode, n.who, target, n).filter((_, i) => i % 2 === 0));
          }
          const [problems] = await runJobs(jobs);
          for (const p of await Promise.all(forbiddenChecks)) if (p) problems.push(p);
          failIfProblems(problems, jobs.length + forbiddenChecks.length);
        });

        test('outsiders get 403; bad tokens get 401 with WWW-Authenticate', async () => {
          const gate = gates.get(mode) as KubeGate;
          const path = `/api/v1/query?query=up&time=${DEMO_EVAL_TIME}`;
          for (const [who, scope] of Object.entries(SCOPES[mode]) as [
            IdentityName,
            ExpectedScope,
          ][]) {
            if (scope !== 'none') continue;
            const r = await rawCall(gate.url, path, `Bearer ${tokens[who]}`);
            assert.equal(r.status, 403, `${DESCRIPTION[who]}: ${r.text}`);
            assert.deepEqual(
              (r.json as { status?: string; errorType?: string }).errorType,
              'forbidden',
            );
            count(`${mode} outsider 403`);
          }
          const cases: [string, string | undefined][] = [
            ['no Authorization header', undefined],
            ['empty bearer', 'Bearer '],
            ['Basic with garbage', `Basic ${Buffer.from('x:y').toString('base64')}`],
            ...Object.entries(badTokens).map(([k, t]): [string, string] => [k, `Bearer ${t}`]),
          ];
          for (const [name, authorization] of cases) {
            const r = await rawCall(gate.url, path, authorization);
            assert.equal(r.status, 401, `${name}: ${r.status} ${r.text}`);
            assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer\b/, name);
            const body = r.json as { status?: string; errorType?: string };
            assert.equal(body?.status, 'error', name);
            assert.equal(body?.errorType, 'unauthorized', name);
            count(`${mode} bad token 401`);
          }
        });

        test('no token in promgate’s log', () => {
          const text = (gates.get(mode) as KubeGate).logText();
          assert.ok(text.includes('"route":"query"'), 'the request log lines are missing');
          assertNoTokens(text, [...Object.values(tokens), ...Object.values(badTokens)], 'the log');
        });
      });
    }
  });
}
