/**
 * Observability end to end (issue 5, "Observability" and "Proof"): promgate runs as a child
 * process (`node .build/src/main.js`, the same code as dist/) with static tokens in front of a
 * real Prometheus 3.5 holding the demo cluster. A mix of tenant requests — successes on every
 * main route, a PromQL rejection, an out-of-scope 403, a narrowing 403, 401s, a 404, answers
 * Prometheus refuses (400) or times out (503) — runs between two scrapes of `/metrics` on the
 * metrics listener, and every family of issue 5 must be there with HELP and move exactly as
 * the traffic says. A second promgate in front of a Prometheus that is then stopped shows 502s,
 * upstream errors and readiness (`/readyz`, `promgate_ready`) going down while `/healthz` stays.
 * Finally the processes' stdout is read: exactly one JSON line per request with its request id
 * (honoured or generated, echoed in the response), route, identity, scope size, status and
 * durations; query text only with `--log-queries`.
 *
 * Needs the test bed's Prometheus 3 (`npm run testbed`); without it this file fails.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { DEMO_EVAL_TIME, DEMO_RANGE } from '../../src/demo/data.js';
import { createMetrics } from '../../src/metrics.js';
import {
  makeTempDir,
  removeDir,
  run,
  startDemoPrometheus,
  startPrometheus,
  waitFor,
  type PrometheusServer,
} from '../support/index.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

const TEAM_A = {
  name: 'team-a',
  token: 'obs-token-team-a-7f3e',
  ns: ['team-a-dev', 'team-a-prod'],
};
const OPS = { name: 'ops', token: 'obs-token-ops-91c2' };
const TOKENS_YAML = stringify({
  tokens: [
    { name: TEAM_A.name, token: TEAM_A.token, namespaces: TEAM_A.ns },
    { name: OPS.name, token: OPS.token, clusterWide: true },
  ],
});

/** Route families: the only values the `route` label may take (plus `none` for a 404). */
const FAMILIES = new Set([
  'query',
  'query_range',
  'query_exemplars',
  'series',
  'labels',
  'label_values',
  'federate',
  'read',
  'rules',
  'alerts',
  'targets',
  'metadata',
  'buildinfo',
  'format_query',
  'parse_query',
  'none',
]);

// ---------------------------------------------------------------------------------------
// promgate as a child process, stdout kept apart from stderr

interface Child {
  readonly url: string;
  readonly metricsUrl: string;
  stdout(): string;
  stderr(): string;
  /** SIGTERM and wait for the exit: stdout is complete afterwards (promgate flushes on close). */
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

async function spawnPromgate(args: readonly string[]): Promise<Child> {
  const child = spawn(
    process.execPath,
    [MAIN, '--listen=127.0.0.1:0', '--metrics-listen=127.0.0.1:0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      children.delete(child);
      resolve();
    }),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  let started: Record<string, unknown> | undefined;
  for (const deadline = Date.now() + 30_000; started === undefined;) {
    if (gone || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`promgate did not start (${gone ? 'exited' : 'timeout'}):\n${out}${err}`);
    }
    started = logLines(out).find((l) => l['msg'] === 'promgate started');
    if (started === undefined) await sleep(50);
  }
  return {
    url: String(started['listen']),
    metricsUrl: String(started['metrics']),
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      if (!gone) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The JSON lines of a stdout; a line that is not JSON fails the test (logs are JSON only). */
function logLines(stdout: string): Record<string, unknown>[] {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  // The last line may still be arriving.
  return lines.flatMap((l, i) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      if (i === lines.length - 1 && !stdout.endsWith('\n')) return [];
      throw new Error(`a stdout line is not JSON: ${l}`);
    }
  });
}

// ---------------------------------------------------------------------------------------
// Prometheus text exposition, parsed

interface Scrape {
  readonly text: string;
  readonly help: Map<string, string>;
  readonly type: Map<string, string>;
  readonly samples: { name: string; labels: Record<string, string>; value: number }[];
}

async function scrape(metricsUrl: string): Promise<Scrape> {
  const res = await fetch(`${metricsUrl}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

function parseExposition(text: string): Scrape {
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const samples: Scrape['samples'] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# HELP (\S+) (.*)$/.exec(line);
    if (m) {
      help.set(m[1] ?? '', m[2] ?? '');
      continue;
    }
    m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m) {
      type.set(m[1] ?? '', m[2] ?? '');
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return { text, help, type, samples };
}

/** Sum of the samples of `name` whose labels include `labels`. */
function value(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  return s.samples
    .filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))
    .reduce((a, x) => a + x.value, 0);
}

function delta(a: Scrape, b: Scrape, name: string, labels: Record<string, string> = {}): number {
  return value(b, name, labels) - value(a, name, labels);
}

// ---------------------------------------------------------------------------------------
// Requests

interface Sent {
  readonly what: string;
  readonly route: string;
  readonly method: string;
  readonly status: number;
  readonly requestId: string;
  /** The request id the client sent, if any. */
  readonly givenId?: string;
  /** promgate was expected to replace `givenId` with one of its own. */
  readonly idReplaced?: boolean;
  readonly bytes: number;
  readonly identity?: string;
  readonly scope?: number | 'all';
  /** The request reached the upstream. */
  readonly upstream: boolean;
  readonly body: string;
}

async function send(
  base: string,
  spec: {
    what: string;
    route: string;
    path: string;
    params?: Record<string, string | string[]>;
    method?: 'GET' | 'POST';
    token?: string | null;
    requestId?: string;
    idReplaced?: boolean;
    identity?: string;
    scope?: number | 'all';
    upstream: boolean;
  },
): Promise<Sent> {
  const method = spec.method ?? 'GET';
  const usp = new URLSearchParams();
  for (const [k, v] of Object.entries(spec.params ?? {}))
    for (const item of Array.isArray(v) ? v : [v]) usp.append(k, item);
  const qs = usp.toString();
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (spec.token) headers['authorization'] = `Bearer ${spec.token}`;
  if (spec.requestId !== undefined) headers['x-request-id'] = spec.requestId;
  if (method === 'POST') headers['content-type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(`${base}${spec.path}${method === 'GET' && qs ? `?${qs}` : ''}`, {
    method,
    headers,
    ...(method === 'POST' ? { body: qs } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(res.headers.get('content-encoding'), null, `${spec.what}: sent uncompressed`);
  const requestId = res.headers.get('x-request-id');
  assert.ok(requestId, `${spec.what}: X-Request-Id in the response`);
  return {
    what: spec.what,
    route: spec.route,
    method,
    status: res.status,
    requestId,
    ...(spec.requestId === undefined ? {} : { givenId: spec.requestId }),
    ...(spec.idReplaced ? { idReplaced: true } : {}),
    bytes: body.length,
    ...(spec.identity === undefined ? {} : { identity: spec.identity }),
    ...(spec.scope === undefined ? {} : { scope: spec.scope }),
    upstream: spec.upstream,
    body: body.toString('utf8'),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Marks the query texts: none may appear in an info-level log. */
const MARKER = 'obsmarker';

// ---------------------------------------------------------------------------------------

describe('observability: metrics, health and logs of a running promgate', () => {
  let prom: PrometheusServer;
  let spare: PrometheusServer | undefined;
  let gate: Child;
  let gateB: Child;
  let dir: string;
  const sentA: Sent[] = [];
  const sentB: Sent[] = [];

  before(async () => {
    dir = makeTempDir('promgate-obs-');
    const tokensFile = join(dir, 'tokens.yaml');
    await writeFile(tokensFile, TOKENS_YAML);
    [prom, spare] = await Promise.all([
      // A low sample limit makes one query a deterministic 422 from Prometheus itself.
      startDemoPrometheus({ version: 3, extraArgs: ['--query.max-samples=5000'] }),
      startPrometheus({ version: 3 }),
    ]);
    const common = [`--tokens-file=${tokensFile}`, '--promql-experimental-functions'];
    [gate, gateB] = await Promise.all([
      spawnPromgate([`--upstream=${prom.url}`, ...common]),
      spawnPromgate([
        `--upstream=${spare.url}`,
        ...common,
        '--upstream-probe-interval=200ms',
        '--log-queries',
      ]),
    ]);
    for (const g of [gate, gateB]) {
      await waitFor('promgate ready', async () => {
        const res = await fetch(`${g.metricsUrl}/readyz`);
        await res.arrayBuffer();
        return res.status === 200 ? true : undefined;
      });
    }
  });

  after(async () => {
    await Promise.allSettled([gate?.stop(), gateB?.stop()]);
    await Promise.allSettled([prom?.stop(), spare?.stop()]);
    if (dir) removeDir(dir);
  });

  test('/healthz, /readyz and every family with HELP before any traffic', async () => {
    for (const g of [gate, gateB]) {
      assert.equal((await fetch(`${g.metricsUrl}/healthz`)).status, 200);
      assert.equal((await fetch(`${g.metricsUrl}/readyz`)).status, 200);
    }
    const s = await scrape(gate.metricsUrl);
    const families = createMetrics({ collectDefault: true }).registry.getMetricsAsArray();
    for (const f of families) {
      assert.ok(s.help.get(f.name), `${f.name} has HELP text in the scrape`);
      assert.equal(s.type.get(f.name), String(f.type), `${f.name}'s TYPE`);
    }
    assert.equal(value(s, 'promgate_ready'), 1, 'promgate_ready follows /readyz');
    const info = s.samples.filter((x) => x.name === 'promgate_build_info');
    assert.equal(info.length, 1);
    assert.equal(info[0]?.value, 1);
    assert.match(info[0]?.labels['version'] ?? '', /^\d+\.\d+\.\d+/);
    assert.equal(info[0]?.labels['node_version'], process.versions.node);
    assert.ok(value(s, 'process_cpu_seconds_total') > 0, 'process metrics');
    assert.ok(s.help.has('nodejs_eventloop_lag_seconds'), 'Node.js runtime metrics');
  });

  test('a mix of tenant requests moves every family of issue 5 exactly as sent', async () => {
    const before = await scrape(gate.metricsUrl);
    const a = { token: TEAM_A.token, identity: TEAM_A.name, scope: TEAM_A.ns.length };
    const t = String(DEMO_EVAL_TIME);
    const range = { start: String(DEMO_RANGE.start), end: String(DEMO_RANGE.end) };
    const specs: Parameters<typeof send>[1][] = [
      {
        what: 'query (GET)',
        route: 'query',
        path: '/api/v1/query',
        params: { query: `count by (namespace) (kube_pod_info{pod!="${MARKER}-1"})`, time: t },
        ...a,
        requestId: 'obs-query-1',
        upstream: true,
      },
      {
        what: 'query_range (POST)',
        route: 'query_range',
        path: '/api/v1/query_range',
        method: 'POST',
        params: { query: `sum(kube_pod_info{pod!="${MARKER}-2"})`, ...range, step: '600' },
        ...a,
        upstream: true,
      },
      {
        what: 'series',
        route: 'series',
        path: '/api/v1/series',
        params: { 'match[]': [`kube_pod_info{pod!="${MARKER}-3"}`, 'up'], ...range },
        ...a,
        requestId: 'obs-series',
        upstream: true,
      },
      {
        what: 'labels (POST)',
        route: 'labels',
        path: '/api/v1/labels',
        method: 'POST',
        params: range,
        ...a,
        upstream: true,
      },
      {
        what: 'label values',
        route: 'label_values',
        path: '/api/v1/label/namespace/values',
        params: range,
        ...a,
        upstream: true,
      },
      {
        what: 'federate',
        route: 'federate',
        path: '/federate',
        params: { 'match[]': `{__name__="kube_pod_info",pod!="${MARKER}-4"}` },
        ...a,
        upstream: true,
      },
      { what: 'rules', route: 'rules', path: '/api/v1/rules', ...a, upstream: true },
      {
        what: 'query as a cluster-wide caller',
        route: 'query',
        path: '/api/v1/query',
        params: { query: 'count(kube_pod_info)', time: t },
        token: OPS.token,
        identity: OPS.name,
        scope: 'all',
        upstream: true,
      },
      {
        what: 'PromQL that does not parse (400, rejected)',
        route: 'query',
        path: '/api/v1/query',
        params: { query: `sum(rate(${MARKER}_bad[5m])`, time: t },
        ...a,
        upstream: false,
      },
      {
        what: 'out-of-scope namespace (403)',
        route: 'query',
        path: '/api/v1/query',
        params: { query: `up{namespace="team-b",job="${MARKER}"}`, time: t },
        ...a,
        requestId: 'obs-out-of-scope',
        upstream: false,
      },
      {
        what: 'narrowing outside the scope (403)',
        route: 'query',
        path: '/api/v1/query',
        params: { query: 'up', namespace: 'team-b', time: t },
        ...a,
        upstream: false,
      },
      {
        what: 'missing token (401)',
        route: 'query',
        path: '/api/v1/query',
        params: { query: 'up', time: t },
        token: null,
        upstream: false,
      },
      {
        what: 'invalid token (401)',
        route: 'series',
        path: '/api/v1/series',
        params: { 'match[]': 'up' },
        token: 'obs-not-a-token',
        upstream: false,
      },
      {
        what: 'unknown path (404)',
        route: 'none',
        path: '/api/v1/status/config',
        ...a,
        identity: undefined,
        scope: undefined,
        upstream: false,
      },
      {
        what: 'Prometheus refuses: end before start (400 from upstream)',
        route: 'query_range',
        path: '/api/v1/query_range',
        params: { query: 'up', start: range.end, end: range.start, step: '60' },
        ...a,
        upstream: true,
      },
      {
        what: 'Prometheus refuses to load that many samples (422 from upstream)',
        route: 'query',
        path: '/api/v1/query',
        // A range vector as the result: every sample of ~65 series over 3 h at once.
        params: { query: '{__name__=~"kube_.+"}[3h]', time: t },
        ...a,
        upstream: true,
      },
    ];
    for (const spec of specs) sentA.push(await send(gate.url, spec));

    const expectStatus: Record<string, number> = {
      'query (GET)': 200,
      'query_range (POST)': 200,
      series: 200,
      'labels (POST)': 200,
      'label values': 200,
      federate: 200,
      rules: 200,
      'query as a cluster-wide caller': 200,
      'PromQL that does not parse (400, rejected)': 400,
      'out-of-scope namespace (403)': 403,
      'narrowing outside the scope (403)': 403,
      'missing token (401)': 401,
      'invalid token (401)': 401,
      'unknown path (404)': 404,
      'Prometheus refuses: end before start (400 from upstream)': 400,
      'Prometheus refuses to load that many samples (422 from upstream)': 422,
    };
    for (const s of sentA) {
      assert.equal(
        s.status,
        expectStatus[s.what],
        `${s.what}: status (body ${s.body.slice(0, 300)})`,
      );
    }
    const refused = sentA.find((s) => s.what.startsWith('Prometheus refuses'));
    assert.match(refused?.body ?? '', /"errorType":"bad_data"/, 'Prometheus’s own error body');
    const tooMany = sentA.find((s) => s.what.startsWith('Prometheus refuses to load'));
    assert.match(tooMany?.body ?? '', /"errorType":"execution"/, 'Prometheus’s own error body');

    const after = await scrape(gate.metricsUrl);

    // Requests by route, method and code: exactly what was sent (probes are not requests).
    const counted = new Map<string, number>();
    for (const s of sentA) {
      const key = `${s.route}|${s.method}|${s.status}`;
      counted.set(key, (counted.get(key) ?? 0) + 1);
    }
    for (const [key, n] of counted) {
      const [route = '', method = '', code = ''] = key.split('|');
      assert.equal(
        delta(before, after, 'promgate_http_requests_total', { route, method, code }),
        n,
        `promgate_http_requests_total{route="${route}",method="${method}",code="${code}"}`,
      );
    }
    assert.equal(delta(before, after, 'promgate_http_requests_total'), sentA.length);
    // Bounded route label: families only, never a raw path.
    for (const x of after.samples.filter((x) => x.labels['route'] !== undefined)) {
      if (x.name.startsWith('promgate_upstream_') && x.labels['route'] === 'probe') continue;
      assert.ok(FAMILIES.has(x.labels['route'] ?? ''), `${x.name}: route="${x.labels['route']}"`);
    }
    assert.doesNotMatch(after.text, /route="[^"]*\//, 'no path in a route label');

    // Durations: one observation per request, by route.
    for (const route of new Set(sentA.map((s) => s.route))) {
      const n = sentA.filter((s) => s.route === route).length;
      assert.equal(
        delta(before, after, 'promgate_http_request_duration_seconds_count', { route }),
        n,
        `request duration count for ${route}`,
      );
      const up = sentA.filter((s) => s.route === route && s.upstream).length;
      assert.equal(
        delta(before, after, 'promgate_upstream_request_duration_seconds_count', { route }),
        up,
        `upstream duration count for ${route}`,
      );
    }
    assert.ok(
      delta(before, after, 'promgate_http_request_duration_seconds_sum') > 0,
      'durations add up',
    );
    // Prometheus's 4xx answers are the caller's errors, passed on unchanged, not upstream
    // failures (5xx and connection failures are: see the stopped upstream below).
    assert.equal(delta(before, after, 'promgate_upstream_errors_total'), 0);

    // PromQL: rewrites timed by kind; rejections by reason.
    assert.ok(
      delta(before, after, 'promgate_promql_rewrite_duration_seconds_count', { kind: 'query' }) >=
        5,
    );
    assert.ok(
      delta(before, after, 'promgate_promql_rewrite_duration_seconds_count', {
        kind: 'selector',
      }) >= 3,
      'series and federate selectors',
    );
    assert.equal(delta(before, after, 'promgate_promql_rejections_total', { reason: 'parse' }), 1);
    assert.equal(
      delta(before, after, 'promgate_promql_rejections_total', { reason: 'out_of_scope' }),
      1,
    );
    assert.equal(delta(before, after, 'promgate_promql_rejections_total'), 2);

    // Authentication by mode and outcome.
    const authenticated = sentA.filter((s) => s.identity !== undefined).length;
    assert.equal(
      delta(before, after, 'promgate_authentication_total', { mode: 'static', outcome: 'ok' }),
      authenticated,
    );
    assert.equal(
      delta(before, after, 'promgate_authentication_total', {
        mode: 'static',
        outcome: 'missing',
      }),
      1,
    );
    assert.equal(
      delta(before, after, 'promgate_authentication_total', {
        mode: 'static',
        outcome: 'invalid',
      }),
      1,
    );
    // Authorization denials by reason.
    assert.equal(
      delta(before, after, 'promgate_authorization_denials_total', { reason: 'out_of_scope' }),
      1,
    );
    assert.equal(
      delta(before, after, 'promgate_authorization_denials_total', { reason: 'narrowing' }),
      1,
    );
    assert.equal(delta(before, after, 'promgate_authorization_denials_total'), 2);
    // Scope sizes of the scoped callers (cluster-wide ones are not counted).
    assert.equal(
      delta(before, after, 'promgate_scope_size_count'),
      sentA.filter((s) => typeof s.scope === 'number').length,
    );
    assert.equal(
      delta(before, after, 'promgate_scope_size_sum'),
      sentA.filter((s) => typeof s.scope === 'number').length * TEAM_A.ns.length,
    );

    // Nothing in flight any more; every route that served requests has its gauge at 0.
    for (const route of new Set(sentA.map((s) => s.route)))
      assert.equal(value(after, 'promgate_http_requests_in_flight', { route }), 0, route);
    // Response bytes: exactly the bytes the client received (uncompressed), by route. (Federate's
    // answer is empty: the backfilled samples are older than its 5-minute lookback.)
    assert.ok(sentA.filter((s) => s.route === 'query').every((s) => s.bytes > 0));
    for (const route of new Set(sentA.map((s) => s.route))) {
      const bytes = sentA.filter((s) => s.route === route).reduce((n, s) => n + s.bytes, 0);
      assert.equal(
        delta(before, after, 'promgate_http_response_bytes_total', { route }),
        bytes,
        `response bytes for ${route}`,
      );
    }
    assert.equal(value(after, 'promgate_ready'), 1);
  });

  test('Prometheus’s own linter has nothing to say about promgate’s families', async () => {
    const s = await scrape(gate.metricsUrl);
    let out = '';
    try {
      await run(prom.binaries.promtool, ['check', 'metrics'], { input: s.text });
    } catch (e) {
      out = (e as Error).message; // exit code 3: lint problems (prom-client's own defaults have some)
    }
    const ours = out.split('\n').filter((l) => l.startsWith('promgate_'));
    assert.deepEqual(ours, [], out);
  });

  test('a stopped upstream: 502, upstream errors, /readyz 503 and promgate_ready 0', async () => {
    const b0 = await scrape(gateB.metricsUrl);
    assert.equal(value(b0, 'promgate_ready'), 1);
    const a = { token: TEAM_A.token, identity: TEAM_A.name, scope: TEAM_A.ns.length };
    sentB.push(
      await send(gateB.url, {
        what: 'query, upstream up',
        route: 'query',
        path: '/api/v1/query',
        params: { query: `up{job="${MARKER}-b1"}` },
        ...a,
        requestId: 'obs-b-1',
        upstream: true,
      }),
    );
    assert.equal(sentB[0]?.status, 200);
    await spare?.stop();
    sentB.push(
      await send(gateB.url, {
        what: 'query, upstream stopped',
        route: 'query',
        path: '/api/v1/query',
        params: { query: `up{job="${MARKER}-b2"}` },
        ...a,
        requestId: 'obs-b-2',
        upstream: true,
      }),
    );
    assert.equal(sentB[1]?.status, 502, sentB[1]?.body);
    assert.match(sentB[1]?.body ?? '', /"errorType":"unavailable"/);
    const b1 = await scrape(gateB.metricsUrl);
    assert.equal(
      delta(b0, b1, 'promgate_upstream_errors_total', { route: 'query', reason: 'connection' }),
      1,
    );
    assert.equal(
      delta(b0, b1, 'promgate_http_requests_total', { route: 'query', method: 'GET', code: '502' }),
      1,
    );
    assert.equal(value(b1, 'promgate_http_requests_in_flight', { route: 'query' }), 0);

    // Three probe intervals (200 ms) without an answer: not ready, in /readyz and the gauge.
    const body = await waitFor(
      '/readyz 503 after the upstream stopped',
      async () => {
        const res = await fetch(`${gateB.metricsUrl}/readyz`);
        const text = await res.text();
        return res.status === 503 ? text : undefined;
      },
      { timeoutMs: 15_000 },
    );
    assert.match(body, /upstream has not answered recently/);
    const b2 = await scrape(gateB.metricsUrl);
    assert.equal(value(b2, 'promgate_ready'), 0, 'promgate_ready in step with /readyz');
    assert.ok(
      delta(b0, b2, 'promgate_upstream_errors_total', { route: 'probe', reason: 'connection' }) >=
        1,
      'failed probes are counted under route="probe"',
    );
    assert.equal((await fetch(`${gateB.metricsUrl}/healthz`)).status, 200, 'still alive');
  });

  test('request ids: a usable X-Request-Id is kept, anything else replaced', async () => {
    const query = {
      route: 'query',
      path: '/api/v1/query',
      params: { query: 'up', time: String(DEMO_EVAL_TIME) },
      token: TEAM_A.token,
      identity: TEAM_A.name,
      scope: TEAM_A.ns.length,
      upstream: true,
    };
    // Kept: what tracing systems send (letters, digits and . _ : @ / + = -, up to 128).
    for (const id of ['trace-1:span/2@a+b=c.d_e', 'k'.repeat(128)]) {
      const s = await send(gate.url, { what: `request id ${id}`, ...query, requestId: id });
      assert.equal(s.requestId, id);
      sentA.push(s);
    }
    // Replaced: spaces, quotes, too long, empty (nothing a log reader could be fooled by).
    for (const id of ['with spaces', 'quote"', 'x'.repeat(129), '']) {
      const s = await send(gate.url, {
        what: `request id ${JSON.stringify(id)}`,
        ...query,
        requestId: id,
        idReplaced: true,
      });
      assert.match(s.requestId, UUID, JSON.stringify(id));
      sentA.push(s);
    }
    // Also on an answer promgate gives itself.
    const refused = await send(gate.url, {
      what: 'request id on a 401',
      ...query,
      token: 'obs-not-a-token',
      identity: undefined,
      scope: undefined,
      upstream: false,
      requestId: 'obs-refused-1',
    });
    assert.equal(refused.status, 401);
    assert.equal(refused.requestId, 'obs-refused-1');
    sentA.push(refused);
  });

  test('one JSON log line per request: id, route, identity, scope, status, durations', async () => {
    await gate.stop();
    await gateB.stop();
    assert.equal(gate.stderr(), '', 'nothing on stderr');
    const lines = logLines(gate.stdout());
    for (const l of lines) {
      assert.equal(l['service'], 'promgate');
      assert.equal(typeof l['level'], 'string');
      assert.equal(typeof l['time'], 'string');
    }
    const requestLines = lines.filter((l) => l['msg'] === 'request');
    assert.equal(requestLines.length, sentA.length, 'one request line per request, no more');
    for (const s of sentA) {
      const mine = requestLines.filter((l) => l['reqId'] === s.requestId);
      assert.equal(mine.length, 1, `${s.what}: exactly one line for request ${s.requestId}`);
      const l = mine[0] as Record<string, unknown>;
      if (s.givenId !== undefined && !s.idReplaced)
        assert.equal(s.requestId, s.givenId, `${s.what}: X-Request-Id honoured`);
      else assert.match(s.requestId, UUID, `${s.what}: a generated request id`);
      assert.equal(l['level'], 'info');
      assert.equal(l['route'], s.route, s.what);
      assert.equal(l['method'], s.method, s.what);
      assert.equal(l['status'], s.status, s.what);
      assert.equal(l['identity'], s.identity, `${s.what}: identity name`);
      assert.equal(l['scope'], s.scope, `${s.what}: scope size`);
      assert.equal(l['bytes'], s.bytes, `${s.what}: bytes`);
      assert.equal(typeof l['durationMs'], 'number', `${s.what}: total duration`);
      assert.ok((l['durationMs'] as number) >= 0);
      if (s.identity !== undefined) {
        assert.equal(typeof l['authMs'], 'number', `${s.what}: auth duration`);
        assert.ok((l['authMs'] as number) <= (l['durationMs'] as number));
      }
      if (s.upstream) {
        assert.equal(typeof l['upstreamMs'], 'number', `${s.what}: upstream duration`);
        assert.ok((l['upstreamMs'] as number) <= (l['durationMs'] as number));
      } else assert.equal(l['upstreamMs'], undefined, `${s.what}: never reached the upstream`);
      assert.equal(l['queries'], undefined, `${s.what}: no query text at info level`);
    }
    assert.ok(!gate.stdout().includes(MARKER), 'no query text anywhere in an info-level log');

    // --log-queries: the query text is in the request line (also when the upstream failed).
    const linesB = logLines(gateB.stdout()).filter((l) => l['msg'] === 'request');
    assert.equal(linesB.length, sentB.length);
    for (const [i, s] of sentB.entries()) {
      const l = linesB.find((x) => x['reqId'] === s.requestId);
      assert.ok(l, `${s.what}: logged`);
      assert.equal(l['status'], s.status);
      assert.deepEqual(l['queries'], [['query', `up{job="${MARKER}-b${i + 1}"}`]], s.what);
    }
  });
});
