/**
 * Real Prometheus clients through promgate, against a real Prometheus 3.5 holding the demo
 * cluster (backfilled history + a live, frozen-clock exporter):
 *
 * - `promtool query instant|range|series|labels` of both versions: 3.5 with
 *   `--http.config.file` (bearer token from a credentials file); 2.42 with Basic auth (token
 *   as the password) — and `--header Authorization=Bearer …`, which it has on `range` only.
 * - A downstream Prometheus (2.42 and 3.5) federating through promgate as two tenants and
 *   with a wrong token (`authorization: {credentials_file}`, `honor_labels`, `match[]`).
 * - A downstream Prometheus (2.42 as team-a, 3.5 as team-b) reading remotely through promgate
 *   (`read_recent`, `filter_external_labels: false`); 2.42 asks for SAMPLES and 3.5 for
 *   streamed chunks — a tap in front of promgate records which answer each one got.
 *
 * Every answer is checked against the upstream asked directly with the tenant's namespaces
 * (same series, same values), so that a client seeing too little fails as well as one seeing
 * too much. Needs the test bed (`npm run testbed`).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEMO_EVAL_TIME, DEMO_RANGE, DEMO_WINDOW } from '../../src/demo/data.js';
import {
  makeTempDir,
  prometheusBinaries,
  prometheusData,
  startDemoExporter,
  startDemoPrometheus,
  startPrometheus,
  waitFor,
  type DemoExporter,
  type PrometheusBinarySet,
  type PrometheusServer,
  type VectorSample,
} from '../support/index.js';
import { mapLimit } from './support/compare.js';
import {
  OPERATOR,
  TENANT_A,
  TENANT_B,
  startPromgateFor,
  type Caller,
  type PromgateUnderTest,
} from './support/stack.js';

const TENANTS = [TENANT_A, TENANT_B] as const;
const WRONG_TOKEN = 'e2e-token-nobody-has';
const DEMO_JOB = 'demo-exporter';

/** The tenant's namespaces (never 'all' for the tenants here). */
const nsOf = (c: Caller): readonly string[] => (c.namespaces === 'all' ? [] : c.namespaces);
/** A regex matching exactly the tenant's namespaces, for direct upstream queries. */
const nsRegex = (c: Caller): string => nsOf(c).join('|');
const sorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

let exporter: DemoExporter;
let upstream: PrometheusServer;
let gate: PromgateUnderTest;
let dir: string;
let bins: { v2: PrometheusBinarySet; v3: PrometheusBinarySet };
/** Files holding each tenant's token (credentials_file) and an HTTP config using it. */
const tokenFile = (name: string): string => join(dir, `${name}.token`);
const httpConfigFile = (name: string): string => join(dir, `${name}.http.yml`);
const gateHost = (): string => new URL(gate.url).host;

before(async () => {
  bins = prometheusBinaries();
  dir = makeTempDir('promgate-clients-');
  for (const [name, token] of [
    [TENANT_A.name, TENANT_A.token],
    [TENANT_B.name, TENANT_B.token],
    ['wrong', WRONG_TOKEN],
  ] as const) {
    await writeFile(tokenFile(name), `${token}\n`, { mode: 0o600 });
    await writeFile(
      httpConfigFile(name),
      `authorization:\n  type: Bearer\n  credentials_file: ${JSON.stringify(tokenFile(name))}\n`,
    );
  }
  exporter = await startDemoExporter();
  upstream = await startDemoPrometheus({
    version: 3,
    config: {
      global: { scrape_interval: '1s' },
      scrape_configs: [exporter.scrapeConfig({ jobName: DEMO_JOB })],
    },
  });
  gate = await startPromgateFor({ upstream: upstream.url, version: 3 });
  // The federating downstreams start now and ingest while the promtool tests run.
  await Promise.all(([2, 3] as const).map(async (v) => federators.set(v, await startFederator(v))));
  await waitFor(
    'the upstream to ingest the live exporter',
    async () => {
      // The exporter's samples carry its frozen start time; "now" sees them for 5 minutes.
      const r = await upstream.api<{ result: unknown[] }>('/api/v1/query', {
        query: 'count(kube_pod_info)',
      });
      return r.ok && r.data.result.length > 0;
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
});

after(async () => {
  await Promise.all([...federators.values()].map((f) => f.stop()));
  await gate?.stop();
  await Promise.all([upstream?.stop(), exporter?.stop()]);
});

/** The upstream's own answer for `query` at `time`, confined to the tenant by hand. */
async function directVector(query: string, time: number): Promise<VectorSample[]> {
  const data = await prometheusData<{ result: VectorSample[] }>(upstream.url, '/api/v1/query', {
    query,
    time,
  });
  return data.result;
}

// ---------------------------------------------------------------------------------------
// promtool

interface ToolRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs promtool; never throws on a non-zero exit (wrong-token runs are expected to fail). */
async function promtool(bin: string, args: readonly string[]): Promise<ToolRun> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** How a promtool version authenticates as a caller for a subcommand. */
type Auth = (sub: string, who: string, token: string) => { flags: string[]; server: string };

/** 3.5: `--http.config.file` for every subcommand. */
const httpConfigAuth: Auth = (_sub, who) => ({
  flags: [`--http.config.file=${httpConfigFile(who)}`],
  server: gate.url,
});
/** 2.42: Basic auth with the token as the password (its only way on instant/series/labels). */
const basicAuth: Auth = (_sub, who, token) => {
  const u = new URL(gate.url);
  u.username = who;
  u.password = token;
  return { flags: [], server: u.toString().replace(/\/$/, '') };
};
/** 2.42 `query range --header 'Authorization=Bearer …'`. */
const headerAuth: Auth = (_sub, _who, token) => ({
  flags: [`--header=Authorization=Bearer ${token}`],
  server: gate.url,
});

const INSTANT_QUERY = 'count by (namespace) (kube_pod_info)';
const RANGE_QUERY = 'sum by (namespace) (rate(container_cpu_usage_seconds_total[5m]))';

/** promtool's instant output, `{namespace="x"} => 3 @[1704076230]`, as namespace → value. */
function parseInstant(stdout: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^\{namespace="([^"]*)"\} => (\S+) @\[/.exec(line);
    assert.ok(m, `unexpected promtool instant line: ${line}`);
    out.set(m[1] ?? '', Number(m[2]));
  }
  return out;
}

/** promtool's range output: `{namespace="x"} =>` followed by `value @[t]` lines. */
function parseRange(stdout: string): Map<string, number> {
  const out = new Map<string, number>();
  let current: string | undefined;
  for (const line of stdout.split('\n')) {
    const head = /^\{namespace="([^"]*)"\} =>$/.exec(line);
    if (head) {
      current = head[1] ?? '';
      out.set(current, 0);
    } else if (/^\S+ @\[[\d.]+\]$/.test(line)) {
      assert.ok(current !== undefined, `sample before any series in:\n${stdout}`);
      out.set(current, (out.get(current) ?? 0) + 1);
    } else {
      assert.equal(line.trim(), '', `unexpected promtool range line: ${line}`);
    }
  }
  return out;
}

function promtoolSuite(
  label: string,
  tool: () => string,
  authFor: (sub: 'instant' | 'range' | 'series' | 'labels') => Auth,
): void {
  describe(label, () => {
    for (const tenant of TENANTS) {
      const ns = nsOf(tenant);
      test(`as ${tenant.name}: instant, range, series and labels hold only ${ns.join(', ')}`, async () => {
        const run = async (
          sub: 'instant' | 'range' | 'series' | 'labels',
          flags: string[],
          args: string[],
        ): Promise<string> => {
          const auth = authFor(sub)(sub, tenant.name, tenant.token);
          const argv = ['query', sub, ...auth.flags, ...flags, auth.server, ...args];
          const r = await promtool(tool(), argv);
          assert.equal(
            r.code,
            0,
            `promtool ${argv.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`,
          );
          return r.stdout;
        };
        const [instant, range, series, labels] = await Promise.all([
          run('instant', [`--time=${DEMO_EVAL_TIME}`], [INSTANT_QUERY]),
          run(
            'range',
            [`--start=${DEMO_RANGE.start}`, `--end=${DEMO_RANGE.end}`, '--step=5m'],
            [RANGE_QUERY],
          ),
          run(
            'series',
            ['--match=kube_pod_info', `--start=${DEMO_EVAL_TIME - 60}`, `--end=${DEMO_EVAL_TIME}`],
            [],
          ),
          run(
            'labels',
            [`--start=${DEMO_WINDOW.start}`, `--end=${DEMO_WINDOW.end}`],
            ['namespace'],
          ),
        ]);

        // instant: exactly the upstream's per-namespace counts for the tenant's namespaces.
        const want = await directVector(
          `count by (namespace) (kube_pod_info{namespace=~"${nsRegex(tenant)}"})`,
          DEMO_EVAL_TIME,
        );
        assert.deepEqual(
          [...parseInstant(instant)].sort(),
          want.map((s) => [s.metric.namespace, Number(s.value[1])]).sort(),
          `instant as ${tenant.name}:\n${instant}`,
        );

        // range: every tenant namespace, each with a sample per step, nothing else.
        const steps = Math.floor((DEMO_RANGE.end - DEMO_RANGE.start) / 300) + 1;
        const rangeSeries = parseRange(range);
        assert.deepEqual(sorted(rangeSeries.keys()), [...ns], `range as ${tenant.name}:\n${range}`);
        for (const [n, count] of rangeSeries) assert.equal(count, steps, `${n}: ${count} samples`);

        // series: the upstream's kube_pod_info series of the tenant, one per line.
        const seriesLines = series.split('\n').filter((l) => l.trim() !== '');
        const direct = await prometheusData<Record<string, string>[]>(
          upstream.url,
          '/api/v1/series',
          {
            'match[]': `kube_pod_info{namespace=~"${nsRegex(tenant)}"}`,
            start: DEMO_EVAL_TIME - 60,
            end: DEMO_EVAL_TIME,
          },
        );
        assert.ok(direct.length > 0);
        assert.equal(seriesLines.length, direct.length, `series as ${tenant.name}:\n${series}`);
        assert.deepEqual(
          sorted(seriesLines.map((l) => /namespace="([^"]*)"/.exec(l)?.[1] ?? `(none: ${l})`)),
          [...ns],
        );
        for (const s of direct) {
          assert.ok(series.includes(`pod="${s.pod}"`), `series as ${tenant.name} lacks ${s.pod}`);
        }

        // labels: exactly the tenant's namespaces.
        assert.deepEqual(
          labels.split('\n').filter((l) => l.trim() !== ''),
          [...ns],
          `labels as ${tenant.name}`,
        );
      });
    }

    test('a wrong token fails (401), and so does none', async () => {
      const auth = authFor('instant')('instant', 'nobody', WRONG_TOKEN);
      const r = await promtool(tool(), [
        'query',
        'instant',
        ...(auth.flags.some((f) => f.startsWith('--http.config.file'))
          ? [`--http.config.file=${httpConfigFile('wrong')}`]
          : auth.flags),
        auth.server,
        INSTANT_QUERY,
      ]);
      assert.notEqual(r.code, 0, `promtool with a wrong token succeeded:\n${r.stdout}`);
      assert.equal(r.stdout.trim(), '', 'no data with a wrong token');
      assert.match(r.stderr, /401|unauthorized|invalid token/i, r.stderr);

      const none = await promtool(tool(), ['query', 'instant', gate.url, INSTANT_QUERY]);
      assert.notEqual(none.code, 0, `promtool without a token succeeded:\n${none.stdout}`);
      assert.match(none.stderr, /401|unauthorized|missing credentials/i, none.stderr);
    });
  });
}

promtoolSuite(
  'promtool 3.5 with --http.config.file',
  () => bins.v3.promtool,
  () => httpConfigAuth,
);
promtoolSuite(
  'promtool 2.42 with Basic auth (token as password)',
  () => bins.v2.promtool,
  () => basicAuth,
);
promtoolSuite(
  'promtool 2.42 query range with --header Authorization=Bearer',
  () => bins.v2.promtool,
  // Only `range` has --header on 2.42; the other subcommands keep Basic auth.
  (sub) => (sub === 'range' ? headerAuth : basicAuth),
);

// ---------------------------------------------------------------------------------------
// Federation: a downstream Prometheus scraping /federate through promgate

/** What federation should bring for a tenant: the exporter's series of its namespaces that
 * match the downstream's match[] selectors, keyed by name and labels. */
const FEDERATE_MATCH = ['{job="kubelet"}', '{__name__=~"kube_pod_info|up"}'];
function expectedFederated(tenant: Caller): number {
  return exporter
    .body(nsOf(tenant))
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .filter((l) => /job="kubelet"/.test(l) || /^(kube_pod_info|up)\{/.test(l)).length;
}

function federateJob(name: string, who: string, tenantLabel: string): Record<string, unknown> {
  return {
    job_name: name,
    honor_labels: true,
    scrape_interval: '1s',
    scrape_timeout: '1s',
    metrics_path: '/federate',
    params: { 'match[]': FEDERATE_MATCH },
    authorization: { type: 'Bearer', credentials_file: tokenFile(who) },
    static_configs: [{ targets: [gateHost()], labels: { tenant: tenantLabel } }],
  };
}

/** The downstream federating servers, started in `before` so that they ingest meanwhile. */
const federators = new Map<2 | 3, PrometheusServer>();

function startFederator(version: 2 | 3): Promise<PrometheusServer> {
  return startPrometheus({
    version,
    config: {
      global: { scrape_interval: '1s', external_labels: { downstream: `v${version}` } },
      scrape_configs: [
        federateJob('federate-team-a', TENANT_A.name, TENANT_A.name),
        federateJob('federate-team-b', TENANT_B.name, TENANT_B.name),
        federateJob('federate-wrong', 'wrong', 'nobody'),
      ],
    },
  });
}

for (const version of [2, 3] as const) {
  describe(`downstream Prometheus ${version === 2 ? '2.42' : '3.5'} federating through promgate`, () => {
    let down: PrometheusServer;
    before(() => {
      const server = federators.get(version);
      assert.ok(server, `the ${version}.x federating server did not start`);
      down = server;
    });

    const count = async (query: string): Promise<number> => {
      const r = await down.api<{ result: VectorSample[] }>('/api/v1/query', { query });
      if (!r.ok) throw new Error(`${query}: ${r.error}`);
      return r.data.result.length === 0 ? 0 : Number(r.data.result[0]?.value[1]);
    };

    test('each tenant job ingests exactly its namespaces; the wrong token gets up=0 (401)', async () => {
      const want = new Map(TENANTS.map((t) => [t.name, expectedFederated(t)]));
      assert.ok(
        [...want.values()].every((n) => n > 0),
        'the exporter has series to federate',
      );
      await waitFor(
        `${down.versionString} to federate both tenants and scrape the wrong-token job`,
        async () => {
          for (const t of TENANTS) {
            const have = await count(`count({tenant="${t.name}", job!="federate-${t.name}"})`);
            if (have < (want.get(t.name) ?? 0)) return undefined;
          }
          return (await count('count(up{job="federate-wrong"})')) > 0;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );

      for (const t of TENANTS) {
        // Exactly the exporter's matching series of the tenant: none missing, none extra.
        assert.equal(
          await count(`count({tenant="${t.name}", job!="federate-${t.name}"})`),
          want.get(t.name),
          `series federated as ${t.name}`,
        );
        const groups = await down.api<{ result: VectorSample[] }>('/api/v1/query', {
          query: `group by (namespace) ({tenant="${t.name}", job!="federate-${t.name}"})`,
        });
        assert.ok(groups.ok, groups.ok ? '' : groups.error);
        assert.deepEqual(
          sorted(groups.data.result.map((s) => s.metric.namespace ?? '(no namespace)')),
          [...nsOf(t)],
          `namespaces federated as ${t.name}`,
        );
        assert.equal(await count(`up{job="federate-${t.name}"}`), 1, `up of federate-${t.name}`);
      }
      // The wrong token: the scrape fails with 401 and brings nothing.
      assert.equal(
        await count('count(up{job="federate-wrong"} == 0)'),
        1,
        'up=0 for the wrong token',
      );
      assert.equal(await count('count({tenant="nobody", job!="federate-wrong"})'), 0);
      const targets = await prometheusData<{
        activeTargets: { scrapePool: string; lastError: string; health: string }[];
      }>(down.url, '/api/v1/targets');
      const wrong = targets.activeTargets.find((t) => t.scrapePool === 'federate-wrong');
      assert.equal(wrong?.health, 'down');
      assert.match(wrong?.lastError ?? '', /401/);
    });
  });
}

// ---------------------------------------------------------------------------------------
// Remote read: a downstream Prometheus with remote_read pointing at promgate

interface Tap {
  readonly url: string;
  /** Content types of promgate's answers to /api/v1/read, in order. */
  readonly readAnswers: string[];
  stop(): Promise<void>;
}

/** A transparent proxy in front of promgate that notes the content type of read answers. */
async function startTap(target: string): Promise<Tap> {
  const to = new URL(target);
  const readAnswers: string[] = [];
  const server = createServer((req, res) => {
    const up = httpRequest(
      {
        host: to.hostname,
        port: to.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: to.host },
      },
      (upRes) => {
        if ((req.url ?? '').startsWith('/api/v1/read')) {
          readAnswers.push(`${upRes.statusCode} ${upRes.headers['content-type'] ?? ''}`);
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.once('error', (e) => res.destroy(e));
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    readAnswers,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

for (const { version, tenant, answer } of [
  { version: 2, tenant: TENANT_A, answer: /^200 application\/x-protobuf$/ },
  {
    version: 3,
    tenant: TENANT_B,
    answer: /^200 application\/x-streamed-protobuf; proto=prometheus\.ChunkedReadResponse$/,
  },
] as const) {
  const kind = version === 2 ? 'SAMPLES' : 'streamed chunks';
  describe(`downstream Prometheus ${version === 2 ? '2.42' : '3.5'} remote-reading through promgate as ${tenant.name} (${kind})`, () => {
    let down: PrometheusServer;
    let tap: Tap;
    const remoteRead = (via: Tap, who: string): Record<string, unknown> => ({
      url: `${via.url}/api/v1/read`,
      name: who,
      read_recent: true,
      filter_external_labels: false,
      authorization: { credentials_file: tokenFile(who) },
    });
    before(async () => {
      tap = await startTap(gate.url);
      down = await startPrometheus({
        version,
        config: {
          global: { external_labels: { downstream: `v${version}` } },
          remote_read: [remoteRead(tap, tenant.name)],
        },
      });
    });
    after(async () => {
      await down?.stop();
      await tap?.stop();
    });

    test(`queries see exactly ${nsOf(tenant).join(', ')}, with the upstream's values`, async () => {
      const ns = nsRegex(tenant);
      const cases: [string, string][] = [
        [
          'count by (namespace) (kube_pod_info)',
          `count by (namespace) (kube_pod_info{namespace=~"${ns}"})`,
        ],
        [
          'sum by (namespace, job) (rate(http_requests_total[5m]))',
          `sum by (namespace, job) (rate(http_requests_total{namespace=~"${ns}"}[5m]))`,
        ],
        // Everything the tenant has, by name: nothing without its namespace label comes back.
        [
          'count by (__name__, namespace) ({__name__=~".+"})',
          `count by (__name__, namespace) ({__name__=~".+", namespace=~"${ns}"})`,
        ],
      ];
      await mapLimit(cases, 2, async ([viaDownstream, direct]) => {
        const [got, want] = await Promise.all([
          prometheusData<{ result: VectorSample[] }>(down.url, '/api/v1/query', {
            query: viaDownstream,
            time: DEMO_EVAL_TIME,
          }),
          directVector(direct, DEMO_EVAL_TIME),
        ]);
        assert.ok(want.length > 0, `the upstream has data for ${direct}`);
        // Same series; values equal up to float rounding (2.42 and 3.5 sum differently).
        const byLabels = (r: readonly VectorSample[]): Map<string, number> =>
          new Map(
            r.map((s) => [JSON.stringify(Object.entries(s.metric).sort()), Number(s.value[1])]),
          );
        const g = byLabels(got.result);
        const w = byLabels(want);
        assert.deepEqual([...g.keys()].sort(), [...w.keys()].sort(), viaDownstream);
        for (const [k, v] of w) {
          const have = g.get(k) ?? NaN;
          assert.ok(
            Math.abs(have - v) <= 1e-9 * Math.max(1, Math.abs(v)),
            `${viaDownstream} ${k}: ${have} != ${v}`,
          );
        }
        assert.deepEqual(sorted(got.result.map((s) => s.metric.namespace ?? '(no namespace)')), [
          ...nsOf(tenant),
        ]);
      });
      // A range query over the backfilled window, too.
      const range = await prometheusData<{ result: { metric: Record<string, string> }[] }>(
        down.url,
        '/api/v1/query_range',
        { query: 'count by (namespace) (kube_pod_info)', ...DEMO_RANGE },
      );
      assert.deepEqual(sorted(range.result.map((s) => s.metric.namespace ?? '')), [
        ...nsOf(tenant),
      ]);
      assert.ok(tap.readAnswers.length > 0, 'the downstream read through promgate');
      for (const a of tap.readAnswers) assert.match(a, answer, `promgate answered ${kind} reads`);
    });

    test('a wrong token is refused (401) and brings no data', async () => {
      const wrongTap = await startTap(gate.url);
      const wrong = await startPrometheus({
        version,
        config: { remote_read: [remoteRead(wrongTap, 'wrong')] },
      }).catch(async (e: unknown) => {
        await wrongTap.stop();
        throw e;
      });
      try {
        const r = await wrong.api<{ result: VectorSample[] }>('/api/v1/query', {
          query: 'count by (namespace) (kube_pod_info)',
          time: DEMO_EVAL_TIME,
        });
        // Prometheus reports a failing remote read as an error or a warning; never data.
        const said = r.ok ? (r.warnings ?? []).join('\n') : r.error;
        if (r.ok) assert.deepEqual(r.data.result, []);
        assert.match(
          said,
          /401/,
          `the downstream did not report the 401: ${JSON.stringify(r.body)}`,
        );
      } finally {
        await wrong.stop();
        await wrongTap.stop();
      }
      assert.ok(wrongTap.readAnswers.length > 0, 'the wrong-token downstream asked promgate');
      for (const a of wrongTap.readAnswers) assert.match(a, /^401 /);
    });
  });
}

test('operator token through promtool 3.5 sees every namespace', async () => {
  // A cluster-wide caller is not rewritten: promtool's labels equal the upstream's.
  const file = join(dir, 'ops.http.yml');
  await writeFile(tokenFile('ops'), `${OPERATOR.token}\n`, { mode: 0o600 });
  await writeFile(
    file,
    `authorization:\n  type: Bearer\n  credentials_file: ${JSON.stringify(tokenFile('ops'))}\n`,
  );
  const r = await promtool(bins.v3.promtool, [
    'query',
    'labels',
    `--http.config.file=${file}`,
    `--start=${DEMO_WINDOW.start}`,
    `--end=${DEMO_WINDOW.end}`,
    gate.url,
    'namespace',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const direct = await prometheusData<string[]>(upstream.url, '/api/v1/label/namespace/values', {
    start: DEMO_WINDOW.start,
    end: DEMO_WINDOW.end,
  });
  assert.deepEqual(
    r.stdout.split('\n').filter((l) => l !== ''),
    direct,
  );
});
