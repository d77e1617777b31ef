/**
 * The differential oracle (DESIGN.md "Testing strategy", issue 3 "Proof"), as a suite that
 * test/e2e/oracle-v2.test.ts and oracle-v3.test.ts run against Prometheus 2.42 and 3.5.
 *
 * For every caller T (tenant A: team-a-dev + team-a-prod, tenant B: team-b, a cluster-wide
 * operator) and every request R: `promgate(R as T)` on the full server equals R sent directly
 * to T's tenant-only server (the full server for the operator). R ranges over
 * - every corpus query valid on this version, as `query` (DEMO_EVAL_TIME) and `query_range`
 *   (DEMO_RANGE): resultType, series and exact values, and annotations (positions aside);
 * - `series`, `labels` and `label/<name>/values` with a set of `match[]` selectors (and none
 *   where Prometheus allows it) over two explicit windows;
 * - `/federate` on live data (the frozen-clock demo exporter scraped by every server).
 * Expected refusals: tenants get 403 for a query or selector naming another namespace by
 * equality (strict scope), and 400/403 for corpus queries promgate refuses on purpose; a
 * separate test proves that none of those reached the upstream (a recording proxy sits in
 * front of the full server). Invalid queries are 400 for everyone.
 *
 * Each test collects every mismatch and fails once with the list; a mismatch where promgate
 * has MORE than the direct server is marked LEAK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO_EVAL_TIME, DEMO_RANGE, DEMO_WINDOW } from '../../../src/demo/data.js';
import { CORPUS, validFor, type PromVersion } from '../../corpus/queries.js';
import { type ApiResult, type Params } from '../../support/index.js';
import {
  annotations,
  diffExposition,
  diffQueryData,
  diffSeries,
  diffStrings,
  mapLimit,
  namedNamespaces,
  outsideScope,
  parseExposition,
} from './compare.js';
import { isProbe } from './recorder.js';
import {
  bearer,
  CALLERS,
  DEMO_JOB,
  startOracleStack,
  type Caller,
  type OracleStack,
} from './stack.js';

/** Requests in flight at once (the machine has 2 cores shared by 3 servers and promgate). */
const CONCURRENCY = 8;

/** Two windows for series and label calls: the whole backfill, and one hour with pod churn. */
const WINDOWS: readonly { readonly start: number; readonly end: number }[] = [
  { start: DEMO_WINDOW.start, end: DEMO_WINDOW.end },
  { start: DEMO_WINDOW.start + 3600, end: DEMO_WINDOW.start + 7200 },
];

/**
 * `match[]` sets for series, labels, label values and federate. Some name namespaces by
 * equality: a tenant outside them must get 403.
 */
export const MATCH_SETS: readonly (readonly string[])[] = [
  ['{__name__=~".+"}'],
  ['kube_pod_info'],
  ['up'],
  ['{namespace=~"team-.*"}'],
  ['{__name__=~"node_.*"}'],
  ['container_memory_working_set_bytes{container!=""}', 'http_requests_total{code="500"}'],
  ['{job="kubelet"}'],
  ['{namespace!="team-a-dev"}'],
  ['{__name__=~".+", namespace=""}'],
  ['batch_job_last_success_timestamp_seconds'],
  ['{namespace="team-a-prod"}'],
  ['{namespace="team-b", pod=~"api-.*"}'],
  ['kube_pod_info{namespace="team-a-dev"}', 'kube_pod_info{namespace="team-b"}'],
];

/** Label names for label values (`U__` ones as Grafana escapes them). */
export const LABEL_NAMES: readonly string[] = [
  'namespace',
  'pod',
  '__name__',
  'job',
  'exported_namespace',
  'U__namespace',
  'U__pod',
  'U__created__by__kind',
  'U__http_2e_status__code',
  // Malformed (`_c…` is not a hex escape): Prometheus ≥ 3.1 and promgate take it literally.
  'U__http_2e_status_code',
];

/** `match[]` sets for label values (a subset: names × sets × windows × callers adds up). */
const VALUE_MATCH_SETS: readonly (readonly string[])[] = [
  [],
  ['up'],
  ['{__name__=~".+"}'],
  ['kube_pod_info{pod=~"web-.*"}'],
  ['{namespace="team-b"}'],
];

type Outcome = 'compared' | 'error-equal' | 'refused' | 'invalid';

interface Tally {
  readonly counts: Map<string, number>;
  readonly problems: string[];
}

function note(t: Tally, key: string, outcome: Outcome, n = 1): void {
  const k = `${key} ${outcome}`;
  t.counts.set(k, (t.counts.get(k) ?? 0) + n);
}

/** Whether a query answer holds at least one series or a scalar/string. */
function hasData(data: unknown): boolean {
  const d = data as { resultType: string; result: unknown };
  return (
    d.resultType === 'scalar' || d.resultType === 'string' || (d.result as unknown[]).length > 0
  );
}

const who = (c: Caller): string =>
  `${c.name} (${c.namespaces === 'all' ? 'cluster-wide' : c.namespaces.join('+')})`;

/** A U__-escaped label name as Prometheus ≥ 3.1 and promgate decode it (REFERENCE §1.4). */
function decodeU(name: string): string {
  if (!name.startsWith('U__')) return name;
  const body = name.slice(3);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== '_') {
      out += c;
      continue;
    }
    if (body[i + 1] === '_') {
      out += '_';
      i++;
      continue;
    }
    const m = /^_([0-9a-fA-F]{1,6})_/.exec(body.slice(i));
    if (!m) return name;
    out += String.fromCodePoint(parseInt(m[1] ?? '', 16));
    i += m[0].length - 1;
  }
  return out;
}

/**
 * absent() and absent_over_time() copy the equality matchers of their argument into their
 * output series. For a one-namespace scope promgate's enforced matcher is `namespace="<ns>"`,
 * so promgate's answer carries that label where the tenant-only server's (which needs no
 * enforced matcher) does not. The label's value is the caller's own namespace — nothing from
 * outside the scope — so the expected answer gains it for the comparison. (A multi-namespace
 * scope is enforced with `=~`, which absent() does not copy: compared unchanged.)
 */
function withAbsentLabel(data: unknown, caller: Caller): unknown {
  if (caller.namespaces === 'all' || caller.namespaces.length !== 1) return data;
  const ns = caller.namespaces[0] as string;
  const d = data as { resultType: string; result: unknown };
  if (d.resultType !== 'vector' && d.resultType !== 'matrix') return data;
  const result = (d.result as { metric: Record<string, string> }[]).map((s) =>
    'namespace' in s.metric ? s : { ...s, metric: { ...s.metric, namespace: ns } },
  );
  return { ...d, result };
}

/** Checks a refusal: 403 for a scope refusal, 400 (or 403) otherwise, in Prometheus's shape. */
function checkRefusal(
  r: ApiResult<unknown>,
  want: 'forbidden' | 'refused',
  what: string,
  problems: string[],
): void {
  if (r.ok) {
    problems.push(`${what}: promgate answered ${r.status} with data; expected a refusal`);
    return;
  }
  const okStatus = want === 'forbidden' ? [403] : [400, 403];
  if (!okStatus.includes(r.status) || !['bad_data', 'forbidden'].includes(r.errorType)) {
    problems.push(
      `${what}: expected ${okStatus.join('/')} from promgate, got ${r.status} ${r.errorType}: ${r.error}`,
    );
  }
}

/**
 * The expectation for a PromQL query or a selector list as `caller`: a 403 when it names a
 * namespace outside the caller's scope by equality, a refusal when promgate refuses it on
 * purpose, else an answer equal to the direct server's.
 */
function expectationFor(
  caller: Caller,
  texts: readonly string[],
  refused: boolean,
): 'forbidden' | 'refused' | 'answer' {
  if (caller.namespaces === 'all') return 'answer';
  // A query promgate refuses on purpose may be refused before its matchers are looked at
  // (e.g. a `#` comment ended by `\r` hides `namespace="team-b"` from one parser): 400 or 403.
  if (refused) return 'refused';
  const named = texts.flatMap((t) => namedNamespaces(t));
  return outsideScope(named, caller.namespaces).length > 0 ? 'forbidden' : 'answer';
}

/** Compares an answered call: both fail alike, or both succeed with `diff` undefined. */
function compareAnswers(
  got: ApiResult<unknown>,
  want: ApiResult<unknown>,
  what: string,
  diff: (a: unknown, b: unknown) => string | undefined,
  problems: string[],
): Outcome | undefined {
  if (!want.ok) {
    if (got.ok || got.status !== want.status || got.errorType !== want.errorType) {
      problems.push(
        `${what}: direct server failed ${want.status} ${want.errorType} (${want.error}); promgate ${
          got.ok ? `answered ${got.status}` : `failed ${got.status} ${got.errorType}: ${got.error}`
        }`,
      );
      return undefined;
    }
    return 'error-equal';
  }
  if (!got.ok) {
    problems.push(`${what}: promgate failed ${got.status} ${got.errorType}: ${got.error}`);
    return undefined;
  }
  const d = diff(got.data, want.data);
  if (d !== undefined) {
    problems.push(`${what}: ${d}`);
    return undefined;
  }
  return 'compared';
}

function failIfProblems(problems: readonly string[], checked: number): void {
  assert.ok(checked > 0, 'nothing was checked');
  if (problems.length > 0) {
    assert.fail(
      `${problems.length} mismatches out of ${checked} checks:\n` +
        problems.slice(0, 60).join('\n') +
        (problems.length > 60 ? `\n… and ${problems.length - 60} more` : ''),
    );
  }
}

export function oracleSuite(version: PromVersion): void {
  describe(`differential oracle against Prometheus ${version}.x`, { timeout: 170_000 }, () => {
    let stack: OracleStack;
    const tally: Tally = { counts: new Map(), problems: [] };
    const started = Date.now();

    before(
      async () => {
        stack = await startOracleStack({ version });
      },
      { timeout: 90_000 },
    );
    after(async () => {
      const lines = [...tally.counts.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, n]) => `  ${k}: ${n}`);
      console.log(
        `oracle ${stack?.full.versionString ?? version}: ${((Date.now() - started) / 1000).toFixed(1)} s\n${lines.join('\n')}`,
      );
      await stack?.stop();
    });

    const queries = validFor(version);
    const invalid = CORPUS.filter((q) => !q.validIn.includes(version));

    for (const endpoint of ['query', 'query_range'] as const) {
      test(`${endpoint}: every valid corpus query (${queries.length}) as each caller`, async () => {
        const problems: string[] = [];
        const timing: Params =
          endpoint === 'query'
            ? { time: DEMO_EVAL_TIME }
            : { start: DEMO_RANGE.start, end: DEMO_RANGE.end, step: DEMO_RANGE.step };
        const jobs = CALLERS.flatMap((caller) => queries.map((q) => ({ caller, q })));
        const nonEmpty: string[] = [];
        await mapLimit(jobs, CONCURRENCY, async ({ caller, q }) => {
          const what = `${endpoint} [${q.id}] as ${who(caller)} ${JSON.stringify(q.query)}`;
          const key = `${endpoint} ${caller.name}`;
          const expect = expectationFor(caller, [q.query], q.refused !== undefined);
          const params = { query: q.query, ...timing };
          const got = await stack.call(caller, `/api/v1/${endpoint}`, params, { method: 'POST' });
          if (expect !== 'answer') {
            checkRefusal(got, expect, what, problems);
            note(tally, key, 'refused');
            return;
          }
          let want = await stack.direct(caller).api(`/api/v1/${endpoint}`, params);
          if (want.ok && q.tags.includes('absent'))
            want = { ...want, data: withAbsentLabel(want.data, caller) };
          const outcome = compareAnswers(got, want, what, diffQueryData, problems);
          if (outcome === 'compared' && got.ok && want.ok) {
            const [a, b] = [annotations(got), annotations(want)];
            if (JSON.stringify(a) !== JSON.stringify(b)) {
              problems.push(
                `${what}: annotations promgate=${JSON.stringify(a)} direct=${JSON.stringify(b)}`,
              );
              return;
            }
          }
          if (outcome) note(tally, key, outcome);
          if (outcome === 'compared' && got.ok && hasData(got.data)) nonEmpty.push(q.id);
        });
        failIfProblems(problems, jobs.length);
        // Most comparisons must be about data, not two empty answers.
        assert.ok(
          nonEmpty.length > jobs.length / 2,
          `only ${nonEmpty.length} of ${jobs.length} compared answers hold data`,
        );
        note(tally, `${endpoint} (all callers) non-empty`, 'compared', nonEmpty.length);
      });
    }

    test('the oracle sees a leak: the full and the tenant-only answers differ', async () => {
      // Guards against a vacuous oracle (tenant servers with every series, promgate pointed
      // at the wrong server, a comparison that ignores labels).
      const params = { query: 'count by (namespace) (kube_pod_info)', time: DEMO_EVAL_TIME };
      const full = await stack.full.api('/api/v1/query', params);
      assert.ok(full.ok, full.ok ? '' : full.error);
      for (const caller of CALLERS) {
        if (caller.namespaces === 'all') continue;
        const own = await stack.direct(caller).api('/api/v1/query', params);
        assert.ok(own.ok, own.ok ? '' : own.error);
        const d = diffQueryData(full.data, own.data) ?? '';
        assert.match(d, /^LEAK: promgate has [34] series/, `full vs ${caller.name}'s server: ${d}`);
        const viaGate = await stack.call(caller, '/api/v1/query', params);
        assert.ok(viaGate.ok, viaGate.ok ? '' : viaGate.error);
        assert.equal(diffQueryData(viaGate.data, own.data), undefined);
        const namespaces = (viaGate.data as { result: { metric: { namespace?: string } }[] }).result
          .map((s) => s.metric.namespace)
          .sort();
        assert.deepEqual(namespaces, caller.namespaces);
      }
    });

    test(`query: invalid corpus queries (${invalid.length}) are 400 for everyone`, async () => {
      const problems: string[] = [];
      const jobs = CALLERS.flatMap((caller) => invalid.map((q) => ({ caller, q })));
      await mapLimit(jobs, CONCURRENCY, async ({ caller, q }) => {
        const what = `query [${q.id}] as ${who(caller)} ${JSON.stringify(q.query)}`;
        const got = await stack.call(
          caller,
          '/api/v1/query',
          { query: q.query, time: DEMO_EVAL_TIME },
          { method: 'POST' },
        );
        // A tenant may get 403 first when the query also names another namespace.
        const statuses = caller.namespaces === 'all' ? [400] : [400, 403];
        if (got.ok || !statuses.includes(got.status)) {
          problems.push(
            `${what}: expected ${statuses.join('/')}, got ${got.status} ${got.ok ? 'data' : got.error}`,
          );
        }
        note(tally, `query ${caller.name}`, 'invalid');
      });
      failIfProblems(problems, jobs.length);
    });

    test('refusals never reach the upstream', async () => {
      const problems: string[] = [];
      type Job = {
        caller: Caller;
        path: string;
        params: Params;
        what: string;
        want: 'forbidden' | 'refused';
      };
      const jobs: Job[] = [];
      for (const caller of CALLERS) {
        if (caller.namespaces === 'all') continue;
        for (const q of queries) {
          const want = expectationFor(caller, [q.query], q.refused !== undefined);
          if (want === 'answer') continue;
          for (const endpoint of ['query', 'query_range'] as const) {
            jobs.push({
              caller,
              path: `/api/v1/${endpoint}`,
              params: {
                query: q.query,
                time: DEMO_EVAL_TIME,
                start: DEMO_RANGE.start,
                end: DEMO_RANGE.end,
                step: 60,
              },
              what: `${endpoint} [${q.id}] as ${who(caller)}`,
              want,
            });
          }
        }
        for (const set of MATCH_SETS) {
          const want = expectationFor(caller, set, false);
          if (want === 'answer') continue;
          for (const path of [
            '/api/v1/series',
            '/api/v1/labels',
            '/api/v1/label/pod/values',
            '/federate',
          ]) {
            jobs.push({
              caller,
              path,
              params: { 'match[]': [...set], ...WINDOWS[0] },
              what: `${path} ${JSON.stringify(set)} as ${who(caller)}`,
              want,
            });
          }
        }
      }
      assert.ok(jobs.length > 40, `only ${jobs.length} refusal cases`);
      const before = stack.recorder.count((r) => !isProbe(r));
      await mapLimit(jobs, CONCURRENCY, async (j) => {
        const got = await stack.call(j.caller, j.path, j.params, {
          method: j.path.includes('/label/') ? 'GET' : 'POST',
        });
        checkRefusal(got, j.want, j.what, problems);
      });
      const reached = stack.recorder.requests.filter((r) => !isProbe(r)).slice(before);
      for (const r of reached) {
        problems.push(`reached the upstream: ${r.method} ${r.path}?${r.query} ${r.body}`);
      }
      note(tally, 'refusals-not-forwarded', 'refused');
      failIfProblems(problems, jobs.length);
    });

    test('series: match[] sets × windows as each caller', async () => {
      const problems: string[] = [];
      const jobs = CALLERS.flatMap((caller) =>
        MATCH_SETS.flatMap((set) => WINDOWS.map((w) => ({ caller, set, w }))),
      );
      await mapLimit(jobs, CONCURRENCY, async ({ caller, set, w }) => {
        const what = `series ${JSON.stringify(set)} [${w.start},${w.end}] as ${who(caller)}`;
        const params = { 'match[]': [...set], ...w };
        const got = await stack.call(caller, '/api/v1/series', params, { method: 'POST' });
        const expect = expectationFor(caller, set, false);
        if (expect !== 'answer') {
          checkRefusal(got, expect, what, problems);
          note(tally, `series ${caller.name}`, 'refused');
          return;
        }
        const want = await stack.direct(caller).api('/api/v1/series', params);
        const outcome = compareAnswers(got, want, what, diffSeries, problems);
        if (outcome) note(tally, `series ${caller.name}`, outcome);
      });
      // Without match[], Prometheus answers 400; so does promgate, for everyone.
      for (const caller of CALLERS) {
        const got = await stack.call(caller, '/api/v1/series', WINDOWS[0], { method: 'POST' });
        if (got.ok || got.status !== 400)
          problems.push(`series without match[] as ${who(caller)}: ${got.status}, want 400`);
      }
      failIfProblems(problems, jobs.length);
    });

    test('labels: match[] sets (and none) × windows as each caller', async () => {
      const problems: string[] = [];
      const sets: readonly (readonly string[])[] = [[], ...MATCH_SETS];
      const jobs = CALLERS.flatMap((caller) =>
        sets.flatMap((set) => WINDOWS.map((w) => ({ caller, set, w }))),
      );
      await mapLimit(jobs, CONCURRENCY, async ({ caller, set, w }) => {
        const what = `labels ${JSON.stringify(set)} [${w.start},${w.end}] as ${who(caller)}`;
        const params = { 'match[]': [...set], ...w };
        const got = await stack.call(caller, '/api/v1/labels', params, { method: 'POST' });
        const expect = expectationFor(caller, set, false);
        if (expect !== 'answer') {
          checkRefusal(got, expect, what, problems);
          note(tally, `labels ${caller.name}`, 'refused');
          return;
        }
        const want = await stack.direct(caller).api('/api/v1/labels', params);
        const outcome = compareAnswers(got, want, what, diffStrings, problems);
        if (outcome) note(tally, `labels ${caller.name}`, outcome);
      });
      failIfProblems(problems, jobs.length);
    });

    test(`label values: ${LABEL_NAMES.length} names × match[] sets × windows as each caller`, async () => {
      const problems: string[] = [];
      const jobs = CALLERS.flatMap((caller) =>
        LABEL_NAMES.flatMap((name) =>
          VALUE_MATCH_SETS.flatMap((set) => WINDOWS.map((w) => ({ caller, name, set, w }))),
        ),
      );
      await mapLimit(jobs, CONCURRENCY, async ({ caller, name, set, w }) => {
        const what = `label/${name}/values ${JSON.stringify(set)} [${w.start},${w.end}] as ${who(caller)}`;
        const params = { 'match[]': [...set], ...w };
        const got = await stack.call(caller, `/api/v1/label/${name}/values`, params);
        const expect = expectationFor(caller, set, false);
        if (expect !== 'answer') {
          checkRefusal(got, expect, what, problems);
          note(tally, `label-values ${caller.name}`, 'refused');
          return;
        }
        // promgate decodes `U__` names itself on every upstream version (REFERENCE §1.4) and
        // asks for a legacy-valid decoded label by its plain name; Prometheus 2.x would look
        // the escaped name up literally (and find nothing), so on 2.x the direct question
        // names the decoded label. A decoded name 2.x cannot express (`http.status_code`) is
        // sent escaped by promgate, which 2.x takes literally: asked as given.
        const decoded = decodeU(name);
        const directName = version === 2 && /^[A-Za-z_]\w*$/.test(decoded) ? decoded : name;
        const want = await stack.direct(caller).api(`/api/v1/label/${directName}/values`, params);
        const outcome = compareAnswers(got, want, what, diffStrings, problems);
        if (outcome) note(tally, `label-values ${caller.name}`, outcome);
      });
      failIfProblems(problems, jobs.length);
    });

    test('federate: live demo data, match[] sets as each caller', async () => {
      await stack.waitLive();
      const problems: string[] = [];
      const sets: readonly (readonly string[])[] = [
        ...MATCH_SETS,
        ['{__name__=~"kube_.*"}', 'container_cpu_usage_seconds_total'],
      ];
      const jobs = CALLERS.flatMap((caller) => sets.map((set) => ({ caller, set })));
      const federate = async (
        base: string,
        set: readonly string[],
        headers: Record<string, string>,
      ) => {
        const qs = set.map((m) => `match[]=${encodeURIComponent(m)}`).join('&');
        const res = await fetch(`${base}/federate?${qs}`, {
          headers,
          signal: AbortSignal.timeout(30_000),
        });
        return { status: res.status, text: await res.text() };
      };
      // The scrape job's own series (`up`, `scrape_*` with job=DEMO_JOB) carry no namespace:
      // every server has its own, with values that change on each scrape. They are not demo
      // data: dropped from the direct answer (and from promgate's for the operator, which sees
      // the full server's). A tenant's answer through promgate must not contain any.
      const ownSeries = (key: string): boolean => key.includes(`job=${JSON.stringify(DEMO_JOB)}`);
      const withoutOwn = (m: Map<string, string>): Map<string, string> =>
        new Map([...m].filter(([k]) => !ownSeries(k)));
      let nonEmpty = 0;
      await mapLimit(jobs, CONCURRENCY, async ({ caller, set }) => {
        const what = `federate ${JSON.stringify(set)} as ${who(caller)}`;
        const got = await federate(stack.gate.url, set, bearer(caller));
        const expect = expectationFor(caller, set, false);
        if (expect !== 'answer') {
          if (got.status !== 403)
            problems.push(`${what}: ${got.status}, want 403: ${got.text.slice(0, 200)}`);
          note(tally, `federate ${caller.name}`, 'refused');
          return;
        }
        const want = await federate(stack.direct(caller).url, set, {});
        if (got.status === 400 && want.status === 200) {
          // Prometheus's /federate skips the check every other selector endpoint makes (a
          // selector needs one matcher that does not match ""; `{namespace!="x"}` has none);
          // promgate checks match[] alike on every endpoint. Accepted when the direct server's
          // /api/v1/series refuses the same match[] with 400.
          const series = await stack.direct(caller).api('/api/v1/series', { 'match[]': [...set] });
          if (!series.ok && series.status === 400) {
            note(tally, `federate ${caller.name}`, 'error-equal');
            return;
          }
        }
        if (got.status !== 200 || want.status !== 200) {
          problems.push(
            `${what}: promgate ${got.status}, direct ${want.status}: ${got.text.slice(0, 200)}`,
          );
          return;
        }
        const gotMap = parseExposition(got.text);
        if (caller.namespaces !== 'all') {
          const own = [...gotMap.keys()].filter(ownSeries);
          if (own.length)
            problems.push(`${what}: LEAK: unlabelled scrape series ${own.slice(0, 3).join(' ')}`);
        }
        const d = diffExposition(withoutOwn(gotMap), withoutOwn(parseExposition(want.text)));
        if (d !== undefined) {
          problems.push(`${what}: ${d}`);
          return;
        }
        if (gotMap.size > 0) nonEmpty++;
        note(tally, `federate ${caller.name}`, 'compared');
      });
      // Prometheus federates nothing without match[] (200, empty); promgate refuses instead.
      for (const caller of CALLERS) {
        const got = await federate(stack.gate.url, [], bearer(caller));
        if (got.status !== 400)
          problems.push(`federate without match[] as ${who(caller)}: ${got.status}, want 400`);
      }
      // A POST form (Prometheus serves /federate on GET only; promgate forwards it as GET)
      // federates the same as the direct GET.
      for (const caller of CALLERS) {
        const set = ['kube_pod_info', '{__name__=~"http_requests_total|up"}'];
        const res = await fetch(`${stack.gate.url}/federate`, {
          method: 'POST',
          headers: { ...bearer(caller), 'content-type': 'application/x-www-form-urlencoded' },
          body: set.map((m) => `match[]=${encodeURIComponent(m)}`).join('&'),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        const want = await federate(stack.direct(caller).url, set, {});
        const d =
          res.status === 200
            ? diffExposition(
                withoutOwn(parseExposition(text)),
                withoutOwn(parseExposition(want.text)),
              )
            : `status ${res.status}: ${text.slice(0, 200)}`;
        if (d !== undefined)
          problems.push(`federate POST ${JSON.stringify(set)} as ${who(caller)}: ${d}`);
        else note(tally, `federate ${caller.name} (POST)`, 'compared');
      }
      failIfProblems(problems, jobs.length);
      assert.ok(nonEmpty >= CALLERS.length * 5, `only ${nonEmpty} non-empty federate answers`);
    });
  });
}
