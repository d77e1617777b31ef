/**
 * Grafana's Prometheus data source against promgate and real Prometheus 3.5 and 2.42
 * (REFERENCE §2, issue 3 "Proof"): the requests Grafana sends, shaped as Grafana sends them
 * (POST forms with float-second times, resource calls as GET, `U__`-escaped label names,
 * `limit=40000`, custom parameters on the URL of a POST, the GET retry after a 400/405), each
 * answered correctly — compared with the tenant-only server of the differential oracle
 * wherever the answer is data — and none leaking: no namespace outside the caller's scope,
 * and no pod of such a namespace, appears anywhere in any body a tenant receives.
 *
 * Every server scrapes the frozen-clock demo exporter (live data for metadata, rules and
 * alerts) and loads the rule file below: alerting and recording rules owned by team-a-dev
 * and team-b, a shared alert firing in every namespace, and cluster rules no tenant may see.
 *
 * Needs the test bed (`npm run testbed`); fails with that hint when it is missing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO_EVAL_TIME, DEMO_RANGE, DEMO_WINDOW, demoSeries } from '../../src/demo/data.js';
import { encodeParams, waitFor, type ApiResult, type Params } from '../support/index.js';
import {
  diffQueryData,
  diffSeries,
  diffStrings,
  leakedTokens,
  seriesKey,
} from './support/compare.js';
import { isProbe } from './support/recorder.js';
import {
  bearer,
  CALLERS,
  OPERATOR,
  startOracleStack,
  TENANT_A,
  TENANT_B,
  type Caller,
  type OracleStack,
} from './support/stack.js';

const RULES = `
groups:
  - name: team-a-dev
    rules:
      - alert: TeamADevWebPods
        expr: count by (namespace) (kube_pod_info{namespace="team-a-dev", pod=~"web-.*"}) > 0
        labels: { namespace: team-a-dev, severity: info }
        annotations: { summary: "web pods are running" }
      - record: namespace:container_memory_working_set_bytes:sum
        expr: sum by (namespace) (container_memory_working_set_bytes{namespace="team-a-dev"})
        labels: { namespace: team-a-dev }
  - name: team-b
    rules:
      - alert: TeamBApiPods
        expr: count by (namespace, pod) (kube_pod_info{namespace="team-b", pod=~"api-.*"}) > 0
        labels: { severity: warning }
      - record: namespace:http_requests:sum
        expr: sum by (namespace) (http_requests_total{namespace="team-b"})
        labels: { namespace: team-b }
  - name: shared
    rules:
      - alert: PodRunning
        expr: kube_pod_info > 0
        labels: { severity: none }
      - record: cluster:pods:count
        expr: count by (namespace) (kube_pod_info)
      - alert: NodePresent
        expr: kube_node_info > 0
`;

/** Groups and rules each caller must see (rule names per group, sorted). */
const VISIBLE_RULES: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  [TENANT_A.name]: {
    'team-a-dev': ['TeamADevWebPods', 'namespace:container_memory_working_set_bytes:sum'],
    shared: ['PodRunning'],
  },
  [TENANT_B.name]: {
    'team-b': ['TeamBApiPods', 'namespace:http_requests:sum'],
    shared: ['PodRunning'],
  },
  [OPERATOR.name]: {
    'team-a-dev': ['TeamADevWebPods', 'namespace:container_memory_working_set_bytes:sum'],
    'team-b': ['TeamBApiPods', 'namespace:http_requests:sum'],
    shared: ['NodePresent', 'PodRunning', 'cluster:pods:count'],
  },
};

const GRAFANA_UA = 'Grafana/12.1.0';

interface GrafanaRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** The request's own parameters: the form body of a POST, the query string of a GET. */
  readonly params?: Params;
  /** Custom query parameters of the data source: always on the URL, POSTs included. */
  readonly urlParams?: Params;
  /** Resource calls Grafana POSTs retry as GET after a 400 or 405. */
  readonly retryAsGet?: boolean;
}

interface GrafanaResponse {
  readonly status: number;
  readonly text: string;
  readonly json: unknown;
  /** 2 when the POST was retried as GET. */
  readonly attempts: number;
}

type Json = Record<string, unknown>;
const data = (r: GrafanaResponse): unknown => (r.json as Json).data;

/** The data of a direct server's answer; throws with its error otherwise. */
function okData<T>(r: ApiResult<T>, what = 'direct server'): T {
  if (!r.ok) throw new Error(`${what}: ${r.status} ${r.errorType}: ${r.error}`);
  return r.data;
}

for (const version of [3, 2] as const) {
  describe(
    `Grafana's request patterns against Prometheus ${version}.x`,
    { timeout: 150_000 },
    () => {
      let stack: OracleStack;
      /** Every body each tenant received, scanned for leaks by the last test. */
      const bodies = new Map<
        string,
        { what: string; text: string; status: number; asked: string }[]
      >();
      let started = Date.now();
      let requests = 0;

      before(
        async () => {
          started = Date.now();
          stack = await startOracleStack({ version, ruleFiles: { 'rules.yml': RULES } });
          await stack.waitLive();
          // Every alert of the rule file fires on the first evaluation after the first scrape.
          const pods = livePods(stack, 'all').length;
          await waitFor(
            'rules evaluated on live data with every alert firing',
            async () => {
              const r = await stack.full.api<{ alerts: { labels: Json; state: string }[] }>(
                '/api/v1/alerts',
              );
              if (!r.ok) return undefined;
              const firing = r.data.alerts.filter((a) => a.state === 'firing');
              const podAlerts = firing.filter((a) => a.labels.alertname === 'PodRunning').length;
              return podAlerts === pods && firing.length > pods + 3 ? true : undefined;
            },
            { timeoutMs: 30_000, intervalMs: 250 },
          );
        },
        { timeout: 90_000 },
      );
      after(async () => {
        console.log(
          `grafana ${stack?.full.versionString ?? version}: ${requests} requests to promgate, ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
        await stack?.stop();
      });

      /** Sends one request the way Grafana does (and retries it as GET where Grafana would). */
      async function grafana(caller: Caller, req: GrafanaRequest): Promise<GrafanaResponse> {
        const send = async (method: 'GET' | 'POST'): Promise<GrafanaResponse> => {
          requests++;
          const own = encodeParams(req.params);
          const custom = encodeParams(req.urlParams);
          const query = method === 'GET' ? [own, custom].filter((s) => s).join('&') : custom;
          const res = await fetch(`${stack.gate.url}${req.path}${query ? `?${query}` : ''}`, {
            method,
            headers: {
              ...bearer(caller),
              'user-agent': GRAFANA_UA,
              accept: 'application/json, text/plain, */*',
              ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
            },
            body: method === 'POST' ? own : undefined,
            signal: AbortSignal.timeout(30_000),
          });
          const text = await res.text();
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          if (caller.namespaces !== 'all') {
            const list = bodies.get(caller.name) ?? [];
            const asked = [...new URLSearchParams(own), ...new URLSearchParams(custom)]
              .map(([k, v]) => `${k}=${v}`)
              .join(' ');
            list.push({ what: `${method} ${req.path} ${asked}`, text, status: res.status, asked });
            bodies.set(caller.name, list);
          }
          return { status: res.status, text, json, attempts: 1 };
        };
        const first = await send(req.method);
        if (
          req.method === 'POST' &&
          req.retryAsGet &&
          (first.status === 400 || first.status === 405)
        ) {
          return { ...(await send('GET')), attempts: 2 };
        }
        return first;
      }

      function assertSuccess(r: GrafanaResponse, what: string): void {
        assert.equal(r.status, 200, `${what}: ${r.status} ${r.text.slice(0, 300)}`);
        assert.equal((r.json as Json).status, 'success', what);
      }

      test('health check: instant 1+1 at time=4 as a POST form, then buildinfo passed through', async () => {
        for (const caller of CALLERS) {
          const r = await grafana(caller, {
            method: 'POST',
            path: '/api/v1/query',
            params: { query: '1+1', time: 4 },
          });
          assertSuccess(r, `1+1 as ${caller.name}`);
          assert.deepEqual(data(r), { resultType: 'scalar', result: [4, '2'] });

          const b = await grafana(caller, { method: 'GET', path: '/api/v1/status/buildinfo' });
          const direct = await fetch(`${stack.full.url}/api/v1/status/buildinfo`);
          assert.equal(b.status, 200);
          assert.equal(b.text, await direct.text(), 'buildinfo body passed through unchanged');
          const info = data(b) as Json;
          assert.match(String(info.version), new RegExp(`^${version}\\.`));
        }
      });

      test('queries: POST forms (and GET) with float-second times, as dashboards send them', async () => {
        const queries = [
          'sum by (pod) (rate(container_cpu_usage_seconds_total{container!=""}[4m0s]))',
          'histogram_quantile(0.95, sum by (le, namespace) (rate(http_request_duration_seconds_bucket[5m])))',
          'count by (namespace) (kube_pod_info)',
          'up',
        ];
        for (const caller of CALLERS) {
          for (const query of queries) {
            for (const method of ['POST', 'GET'] as const) {
              const instant = { query, time: `${DEMO_EVAL_TIME}.5` };
              const range = {
                query,
                start: `${DEMO_RANGE.start}.25`,
                end: `${DEMO_RANGE.end}.25`,
                step: DEMO_RANGE.step,
                timeout: '30s',
              };
              for (const [path, params] of [
                ['/api/v1/query', instant],
                ['/api/v1/query_range', range],
              ] as const) {
                const what = `${method} ${path} ${query} as ${caller.name}`;
                const r = await grafana(caller, { method, path, params });
                assertSuccess(r, what);
                const want = await stack.direct(caller).api(path, params);
                assert.ok(want.ok);
                assert.equal(diffQueryData(data(r), want.data), undefined, what);
              }
            }
          }
        }
      });

      test('metric list: GET label/__name__/values with start, end, limit=40000 (and match[])', async () => {
        const window = { start: `${DEMO_WINDOW.start}`, end: `${DEMO_WINDOW.end}`, limit: 40000 };
        for (const caller of CALLERS) {
          for (const match of [undefined, '{job="kubelet"}', 'up']) {
            const params = { ...window, ...(match ? { 'match[]': match } : {}) };
            const what = `metric list ${match ?? ''} as ${caller.name}`;
            const r = await grafana(caller, {
              method: 'GET',
              path: '/api/v1/label/__name__/values',
              params,
            });
            assertSuccess(r, what);
            const want = await stack.direct(caller).api('/api/v1/label/__name__/values', params);
            assert.ok(want.ok);
            assert.equal(diffStrings(data(r), want.data), undefined, what);
            assert.ok((data(r) as string[]).length > 0, `${what}: empty`);
          }
          // The live window (Grafana's default "last 1 hour"): the tenant-only server also holds
          // its own scrape job's series (`scrape_*`, `up` without namespace) that promgate
          // rightly hides; everything else must match.
          const now = Math.floor(Date.now() / 1000);
          const live = { start: `${now - 3600}.123`, end: `${now}.456`, limit: 40000 };
          const r = await grafana(caller, {
            method: 'GET',
            path: '/api/v1/label/__name__/values',
            params: live,
          });
          assertSuccess(r, 'live metric list');
          const want = await stack
            .direct(caller)
            .api<string[]>('/api/v1/label/__name__/values', live);
          assert.ok(want.ok);
          const got = data(r) as string[];
          const scrapeOwn = (n: string): boolean => n.startsWith('scrape_');
          assert.equal(
            diffStrings(
              got.filter((n) => !scrapeOwn(n)),
              want.data.filter((n) => !scrapeOwn(n)),
            ),
            undefined,
            `live metric list as ${caller.name}`,
          );
          if (caller.namespaces !== 'all') {
            assert.deepEqual(got.filter(scrapeOwn), [], 'scrape_* series have no namespace');
          }
        }
      });

      test('label names: POST labels with limit=40000 and optional match[]', async () => {
        for (const caller of CALLERS) {
          for (const match of [undefined, 'kube_pod_info', '{__name__=~"http_.*"}']) {
            const params = {
              start: DEMO_WINDOW.start,
              end: DEMO_WINDOW.end,
              limit: 40000,
              ...(match ? { 'match[]': match } : {}),
            };
            const what = `labels ${match ?? ''} as ${caller.name}`;
            const r = await grafana(caller, {
              method: 'POST',
              path: '/api/v1/labels',
              params,
              retryAsGet: true,
            });
            assertSuccess(r, what);
            assert.equal(r.attempts, 1, `${what}: retried`);
            const want = await stack.direct(caller).api('/api/v1/labels', params);
            assert.ok(want.ok);
            assert.equal(diffStrings(data(r), want.data), undefined, what);
          }
        }
      });

      test('label values: GET label/<U__-escaped>/values', async () => {
        const window = { start: DEMO_WINDOW.start, end: DEMO_WINDOW.end };
        for (const caller of CALLERS) {
          for (const [escaped, plain, match] of [
            ['U__namespace', 'namespace', undefined],
            ['U__pod', 'pod', 'kube_pod_info'],
            ['U__created__by__kind', 'created_by_kind', undefined],
            ['U______name____', '__name__', '{job="kubelet"}'],
          ] as const) {
            const params = { ...window, ...(match ? { 'match[]': match } : {}) };
            const what = `label/${escaped}/values as ${caller.name}`;
            const r = await grafana(caller, {
              method: 'GET',
              path: `/api/v1/label/${escaped}/values`,
              params,
            });
            assertSuccess(r, what);
            const want = await stack.direct(caller).api(`/api/v1/label/${plain}/values`, params);
            assert.ok(want.ok);
            assert.equal(diffStrings(data(r), want.data), undefined, what);
            assert.ok((data(r) as string[]).length > 0, `${what}: empty`);
          }
          if (caller.namespaces !== 'all') {
            const r = await grafana(caller, {
              method: 'GET',
              path: '/api/v1/label/U__namespace/values',
              params: window,
            });
            assert.deepEqual(data(r), [...caller.namespaces]);
          }
          // A UTF-8 label name Grafana escapes; no series carry it.
          const u = await grafana(caller, {
            method: 'GET',
            path: '/api/v1/label/U__http_2e_status_code/values',
            params: window,
          });
          assertSuccess(u, 'U__http_2e_status_code');
          assert.deepEqual(data(u), []);
        }
      });

      test('series: POST series with match[]={__name__!=""} and limit=40000', async () => {
        for (const caller of CALLERS) {
          const params = {
            'match[]': '{__name__!=""}',
            start: DEMO_WINDOW.start,
            end: DEMO_WINDOW.end,
            limit: 40000,
          };
          const r = await grafana(caller, {
            method: 'POST',
            path: '/api/v1/series',
            params,
            retryAsGet: true,
          });
          assertSuccess(r, `series as ${caller.name}`);
          assert.equal(r.attempts, 1);
          const want = await stack.direct(caller).api('/api/v1/series', params);
          assert.ok(want.ok);
          assert.equal(diffSeries(data(r), want.data), undefined, `series as ${caller.name}`);
          assert.ok((data(r) as unknown[]).length > 100);
        }
      });

      test('metadata: GET metadata (all, limit, one metric) holds only the scope’s metrics', async () => {
        for (const caller of CALLERS) {
          const r = await grafana(caller, { method: 'GET', path: '/api/v1/metadata' });
          assertSuccess(r, `metadata as ${caller.name}`);
          // The tenant-only server scraped only the tenant's series, so its metadata is what the
          // tenant may see: promgate's filtered answer must name the same metrics.
          const want = await stack.direct(caller).api<Json>('/api/v1/metadata');
          assert.ok(want.ok);
          const got = data(r) as Json;
          assert.equal(
            diffStrings(Object.keys(got), Object.keys(want.data)),
            undefined,
            `metadata names as ${caller.name}`,
          );
          assert.deepEqual(got, want.data, `metadata entries as ${caller.name}`);
          assert.ok(Object.keys(got).length >= 8);
          if (caller.namespaces !== 'all') {
            assert.ok(!('node_cpu_seconds_total' in got), 'node metrics have no namespace');
            assert.ok(!('batch_job_last_success_timestamp_seconds' in got));
          }
          const one = await grafana(caller, {
            method: 'GET',
            path: '/api/v1/metadata',
            params: { metric: 'kube_pod_info' },
          });
          assertSuccess(one, 'metadata?metric');
          assert.deepEqual(Object.keys(data(one) as Json), ['kube_pod_info']);
          const limited = await grafana(caller, {
            method: 'GET',
            path: '/api/v1/metadata',
            params: { limit: 2 },
          });
          assertSuccess(limited, 'metadata?limit');
          assert.equal(Object.keys(data(limited) as Json).length, 2);
        }
      });

      test('exemplars: query_exemplars probe (POST) answers, empty, and nothing leaks', async () => {
        const now = Math.floor(Date.now() / 1000);
        for (const caller of CALLERS) {
          for (const query of [
            'http_request_duration_seconds_bucket',
            'kube_pod_info{namespace=~"team-.*"}',
          ]) {
            const params = { query, start: now - 600, end: now };
            const r = await grafana(caller, {
              method: 'POST',
              path: '/api/v1/query_exemplars',
              params,
              retryAsGet: true,
            });
            assertSuccess(r, `exemplars ${query} as ${caller.name}`);
            const want = await stack.direct(caller).api('/api/v1/query_exemplars', params);
            assert.ok(want.ok);
            assert.deepEqual(data(r), want.data);
          }
        }
        // Naming another namespace is a 403 even though no exemplars would be found.
        const r = await grafana(TENANT_A, {
          method: 'POST',
          path: '/api/v1/query_exemplars',
          params: { query: 'up{namespace="team-b"}', start: now - 600, end: now },
          retryAsGet: true,
        });
        assert.equal(r.status, 403);
        assert.equal(r.attempts, 1);
      });

      test('rules: GET rules shows each tenant its own rules and the alerts it may see', async () => {
        const full = okData(await stack.full.api<{ groups: RuleGroup[] }>('/api/v1/rules'));
        for (const caller of CALLERS) {
          for (const params of [{}, { type: 'alert' }, { type: 'record' }] as const) {
            const r = await grafana(caller, { method: 'GET', path: '/api/v1/rules', params });
            assertSuccess(r, `rules ${JSON.stringify(params)} as ${caller.name}`);
            const groups = (data(r) as { groups: RuleGroup[] }).groups;
            const type = 'type' in params ? params.type : undefined;
            const visible: Readonly<Record<string, readonly string[]>> =
              VISIBLE_RULES[caller.name] ?? {};
            const expected = Object.fromEntries(
              Object.entries(visible)
                .map(([g, names]): [string, string[]] => [
                  g,
                  names.filter(
                    (n) => type === undefined || (type === 'record') === n.includes(':'),
                  ),
                ])
                .filter(([, names]) => names.length > 0),
            );
            const seen = Object.fromEntries(
              groups.map((g) => [g.name, g.rules.map((x) => x.name).sort()]),
            );
            assert.deepEqual(seen, expected, `rules ${JSON.stringify(params)} as ${caller.name}`);
            // Alerts: exactly those of the full server's rule whose labels are in scope.
            for (const g of groups) {
              for (const rule of g.rules) {
                if (rule.type !== 'alerting') continue;
                const upstreamRule = full.groups
                  .find((x) => x.name === g.name)
                  ?.rules.find((x) => x.name === rule.name);
                if (!upstreamRule)
                  throw new Error(`${rule.name} is not in the full server's rules`);
                const inScope = (upstreamRule.alerts ?? []).filter((a: Alert) =>
                  visibleTo(caller, a.labels),
                );
                assert.deepEqual(
                  (rule.alerts ?? []).map((a) => seriesKey(a.labels)).sort(),
                  inScope.map((a) => seriesKey(a.labels)).sort(),
                  `${rule.name} alerts as ${caller.name}`,
                );
                assert.ok((rule.alerts ?? []).length > 0, `${rule.name} has alerts`);
                assert.equal(rule.state, 'firing');
              }
            }
          }
        }
      });

      test('alerts: GET alerts holds exactly the alerts of the scope', async () => {
        const full = okData(await stack.full.api<{ alerts: Alert[] }>('/api/v1/alerts'));
        for (const caller of CALLERS) {
          const r = await grafana(caller, { method: 'GET', path: '/api/v1/alerts' });
          assertSuccess(r, `alerts as ${caller.name}`);
          const got = (data(r) as { alerts: Alert[] }).alerts;
          const want = full.alerts.filter((a) => visibleTo(caller, a.labels));
          const key = (a: Alert): string => seriesKey(a.labels);
          assert.deepEqual(got.map(key).sort(), want.map(key).sort(), `alerts as ${caller.name}`);
          assert.ok(got.length >= livePods(stack, caller.namespaces).length);
          for (const a of got) assert.equal(a.state, 'firing');
        }
      });

      test('custom query parameters on the URL of a POST: namespace=<ns> narrows, others are ignored', async () => {
        const params = { query: 'count by (namespace) (kube_pod_info)', time: DEMO_EVAL_TIME };
        const namespacesOf = (r: GrafanaResponse): string[] =>
          (data(r) as { result: { metric: { namespace: string } }[] }).result
            .map((s) => s.metric.namespace)
            .sort();
        // A tenant narrows to one of its namespaces.
        const narrowed = await grafana(TENANT_A, {
          method: 'POST',
          path: '/api/v1/query',
          params,
          urlParams: { namespace: 'team-a-prod', customParam: 'grafana' },
        });
        assertSuccess(narrowed, 'narrowed query');
        assert.deepEqual(namespacesOf(narrowed), ['team-a-prod']);
        // A parameter Grafana adds that is not `namespace` changes nothing.
        const custom = await grafana(TENANT_A, {
          method: 'POST',
          path: '/api/v1/query',
          params,
          urlParams: { customParam: 'grafana' },
        });
        assertSuccess(custom, 'custom parameter');
        assert.deepEqual(namespacesOf(custom), ['team-a-dev', 'team-a-prod']);
        // The operator narrowed to team-b gets exactly what team-b's own server answers.
        for (const [path, p] of [
          ['/api/v1/query', params],
          [
            '/api/v1/query_range',
            { query: 'sum by (pod) (rate(http_requests_total[5m]))', ...DEMO_RANGE },
          ],
          [
            '/api/v1/series',
            { 'match[]': '{__name__!=""}', start: DEMO_WINDOW.start, end: DEMO_WINDOW.end },
          ],
          ['/api/v1/labels', { start: DEMO_WINDOW.start, end: DEMO_WINDOW.end }],
        ] as const) {
          const r = await grafana(OPERATOR, {
            method: 'POST',
            path,
            params: p,
            urlParams: { namespace: 'team-b' },
          });
          assertSuccess(r, `operator narrowed ${path}`);
          const want = await stack.direct(TENANT_B).api(path, p);
          assert.ok(want.ok);
          const diff = path.endsWith('series')
            ? diffSeries
            : path.endsWith('labels')
              ? diffStrings
              : diffQueryData;
          assert.equal(diff(data(r), want.data), undefined, `operator narrowed to team-b: ${path}`);
        }
        const values = await grafana(TENANT_A, {
          method: 'GET',
          path: '/api/v1/label/namespace/values',
          params: { start: DEMO_WINDOW.start, end: DEMO_WINDOW.end },
          urlParams: { namespace: 'team-a-dev' },
        });
        assert.deepEqual(data(values), ['team-a-dev']);
        // Narrowing outside the scope is a 403 (so Grafana does not retry as GET).
        const outside = await grafana(TENANT_A, {
          method: 'POST',
          path: '/api/v1/query',
          params,
          urlParams: { namespace: 'team-b' },
          retryAsGet: true,
        });
        assert.equal(outside.status, 403, outside.text);
        assert.equal(outside.attempts, 1);
      });

      test('refusals are 403, so the GET retry after 400/405 never happens', async () => {
        const window = { start: DEMO_WINDOW.start, end: DEMO_WINDOW.end };
        const refusals: [string, Params][] = [
          [
            '/api/v1/query',
            { query: 'sum(kube_pod_info{namespace="team-b"})', time: DEMO_EVAL_TIME },
          ],
          ['/api/v1/query_range', { query: 'up{namespace="kube-system"}', ...DEMO_RANGE }],
          ['/api/v1/series', { 'match[]': '{namespace="monitoring"}', ...window }],
          [
            '/api/v1/labels',
            { 'match[]': 'kube_pod_info{namespace="team-b"}', ...window, limit: 40000 },
          ],
          ['/api/v1/label/pod/values', { 'match[]': '{namespace="team-b"}', ...window }],
          ['/api/v1/query_exemplars', { query: 'up{namespace="team-b"}', ...window }],
        ];
        const before = stack.recorder.count((r) => !isProbe(r));
        for (const [path, params] of refusals) {
          const r = await grafana(TENANT_A, { method: 'POST', path, params, retryAsGet: true });
          assert.equal(r.status, 403, `${path}: ${r.text}`);
          assert.equal(r.attempts, 1, `${path}: Grafana would retry`);
          assert.equal((r.json as Json).errorType, 'forbidden');
        }
        assert.equal(
          stack.recorder.count((r) => !isProbe(r)),
          before,
          'a refusal reached the upstream',
        );
        // A syntax error is a 400: Grafana retries as GET and gets the same 400, never data.
        const bad = await grafana(TENANT_A, {
          method: 'POST',
          path: '/api/v1/query',
          params: { query: 'sum(rate(up[5m])', time: DEMO_EVAL_TIME },
          retryAsGet: true,
        });
        assert.equal(bad.attempts, 2);
        assert.equal(bad.status, 400);
        // Label values on POST (Prometheus itself only serves GET: 405) are answered directly.
        const post = await grafana(TENANT_B, {
          method: 'POST',
          path: '/api/v1/label/pod/values',
          params: window,
          retryAsGet: true,
        });
        assertSuccess(post, 'POST label values');
        assert.equal(post.attempts, 1);
        const want = await stack.direct(TENANT_B).api('/api/v1/label/pod/values', window);
        assert.ok(want.ok);
        assert.equal(diffStrings(data(post), want.data), undefined);
      });

      test('no tenant response leaks another namespace or its pods; no token reached the upstream', () => {
        for (const caller of [TENANT_A, TENANT_B]) {
          const list = bodies.get(caller.name) ?? [];
          assert.ok(list.length > 40, `only ${list.length} responses to ${caller.name}`);
          const forbidden = outOfScopeTokens(stack, caller);
          assert.ok(forbidden.size > 10);
          // An answer may hold nothing out of scope. A refusal may name what the caller itself
          // wrote (`namespace "team-b" is outside your scope`), and nothing else.
          const leaks = list
            .map((b) => {
              const found = leakedTokens(b.text, forbidden);
              const echoed = new Set(b.status >= 400 ? leakedTokens(b.asked, found) : []);
              return { ...b, leaked: found.filter((f) => !echoed.has(f)) };
            })
            .filter((b) => b.leaked.length > 0);
          const refusalsNaming = list.filter(
            (b) => b.status >= 400 && leakedTokens(b.text, forbidden).length > 0,
          );
          // The refusal tests run as tenant A: the scan saw refusals that name a namespace.
          if (caller === TENANT_A) assert.ok(refusalsNaming.length >= 5, 'no refusals scanned');
          assert.deepEqual(
            leaks.map((l) => `${l.what}: ${l.leaked.slice(0, 5).join(', ')}`),
            [],
            `LEAK in responses to ${caller.name}`,
          );
          // Every in-scope namespace was seen somewhere: the scan looked at real answers.
          for (const ns of caller.namespaces) {
            assert.ok(
              list.some((b) => b.text.includes(ns)),
              `${ns} never appeared`,
            );
          }
        }
        assert.ok(stack.recorder.count() > 100);
        for (const r of stack.recorder.requests) {
          assert.equal(r.headers.authorization, undefined, `${r.path}: Authorization forwarded`);
          assert.ok(
            !JSON.stringify(r.headers).includes('e2e-token-'),
            `${r.path}: a token was forwarded`,
          );
          assert.ok(!r.query.includes('e2e-token-') && !r.body.includes('e2e-token-'));
        }
      });
    },
  );
}

interface Alert {
  readonly labels: Readonly<Record<string, string>>;
  readonly state: string;
}
interface RuleGroup {
  readonly name: string;
  readonly rules: readonly {
    readonly name: string;
    readonly type: string;
    readonly state?: string;
    readonly alerts?: readonly Alert[];
  }[];
}

function visibleTo(caller: Caller, labels: Readonly<Record<string, string>>): boolean {
  if (caller.namespaces === 'all') return true;
  return labels.namespace !== undefined && caller.namespaces.includes(labels.namespace);
}

/** Pods of `namespaces` in the exporter's live data. */
function livePods(stack: OracleStack, namespaces: readonly string[] | 'all'): string[] {
  return demoSeries(stack.exporter.time, stack.exporter.time, namespaces)
    .filter(
      (s) =>
        s.name === 'kube_pod_info' && s.from <= stack.exporter.time && stack.exporter.time < s.to,
    )
    .map((s) => s.labels.pod ?? '');
}

/** Namespaces outside the caller's scope and every pod of them (backfilled or live). */
function outOfScopeTokens(stack: OracleStack, caller: Caller): Set<string> {
  const out = new Set<string>();
  const inScope = (ns: string | undefined): boolean =>
    ns !== undefined && (caller.namespaces === 'all' || caller.namespaces.includes(ns));
  for (const s of [
    ...demoSeries(DEMO_WINDOW.start, DEMO_WINDOW.end),
    ...demoSeries(stack.exporter.time, stack.exporter.time),
  ]) {
    const ns = s.labels.namespace;
    if (ns === undefined || inScope(ns)) continue;
    out.add(ns);
    if (s.labels.pod) out.add(s.labels.pod);
  }
  return out;
}
