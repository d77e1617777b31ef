/**
 * Table-driven route tests against a recording fake upstream: for every endpoint, GET and
 * POST form, what the upstream receives (method, path, parameters, headers) for a scoped
 * caller (team-a: ns-a, ns-a2) and a cluster-wide caller (ops).
 */
import { strict as assert } from 'node:assert';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { alertsBody, metadataBody, rulesBody, targetsBody } from '../filters/fixtures.js';
import { startHarness, TOKENS, type Harness, type Recorded } from '../server/fake-upstream.js';

const A = 'namespace=~"ns-a|ns-a2"';
const BUILDINFO = {
  status: 'success',
  data: {
    version: '3.5.3',
    revision: 'x',
    branch: 'HEAD',
    buildUser: 'u',
    buildDate: 'd',
    goVersion: 'go1.24',
  },
};

function answer(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '').split('?')[0]?.replace(/^\/prefix/, '');
  const json = (v: unknown): void => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(v));
  };
  if (path === '/api/v1/rules') return json(rulesBody('3.5'));
  if (path === '/api/v1/alerts') return json(alertsBody('3.5'));
  if (path === '/api/v1/targets') return json(targetsBody('3.5'));
  if (path === '/api/v1/metadata') return json(metadataBody('3.5'));
  if (path === '/api/v1/label/__name__/values')
    return json({
      status: 'success',
      data: ['http_request_duration_seconds_bucket', 'go_goroutines'],
    });
  if (path === '/api/v1/status/buildinfo') return json(BUILDINFO);
  return json({ status: 'success', data: { resultType: 'vector', result: [] } });
}

interface Case {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  /** Parameters: in the URL for GET, in the form body for POST. */
  params: [string, string][];
  expect: { method: string; path: string; params: [string, string][] };
  /** For the cluster-wide caller (default: same parameters, unrewritten). */
  expectAll?: { method: string; path: string; params: [string, string][] };
}

const CASES: Case[] = [
  {
    name: 'instant query keeps Prometheus parameters, drops unknown ones',
    method: 'GET',
    path: '/api/v1/query',
    params: [
      ['query', 'sum by (pod) (rate(http_requests_total[5m]))'],
      ['time', '4'],
      ['timeout', '30s'],
      ['stats', 'all'],
      ['lookback_delta', '1m'],
      ['limit', '5'],
      ['foo', 'bar'],
    ],
    expect: {
      method: 'POST',
      path: '/api/v1/query',
      params: [
        ['query', `sum by (pod) (rate(http_requests_total{${A}}[5m]))`],
        ['time', '4'],
        ['timeout', '30s'],
        ['stats', 'all'],
        ['lookback_delta', '1m'],
        ['limit', '5'],
      ],
    },
    expectAll: {
      method: 'POST',
      path: '/api/v1/query',
      params: [
        ['query', 'sum by (pod) (rate(http_requests_total[5m]))'],
        ['time', '4'],
        ['timeout', '30s'],
        ['stats', 'all'],
        ['lookback_delta', '1m'],
        ['limit', '5'],
      ],
    },
  },
  {
    name: 'Grafana health check 1+1',
    method: 'POST',
    path: '/api/v1/query',
    params: [
      ['query', '1+1'],
      ['time', '4'],
    ],
    expect: {
      method: 'POST',
      path: '/api/v1/query',
      params: [
        ['query', '1 + 1'],
        ['time', '4'],
      ],
    },
    expectAll: {
      method: 'POST',
      path: '/api/v1/query',
      params: [
        ['query', '1+1'],
        ['time', '4'],
      ],
    },
  },
  {
    name: 'range query',
    method: 'POST',
    path: '/api/v1/query_range',
    params: [
      ['query', 'up'],
      ['start', '1700000000'],
      ['end', '1700003600'],
      ['step', '15'],
      ['timeout', '10s'],
    ],
    expect: {
      method: 'POST',
      path: '/api/v1/query_range',
      params: [
        ['query', `up{${A}}`],
        ['start', '1700000000'],
        ['end', '1700003600'],
        ['step', '15'],
        ['timeout', '10s'],
      ],
    },
  },
  {
    name: 'exemplars',
    method: 'GET',
    path: '/api/v1/query_exemplars',
    params: [
      ['query', 'rate(x_bucket[1m])'],
      ['start', '1'],
      ['end', '2'],
    ],
    expect: {
      method: 'POST',
      path: '/api/v1/query_exemplars',
      params: [
        ['query', `rate(x_bucket{${A}}[1m])`],
        ['start', '1'],
        ['end', '2'],
      ],
    },
  },
  {
    name: 'series enforces every match[]',
    method: 'POST',
    path: '/api/v1/series',
    params: [
      ['match[]', '{__name__!=""}'],
      ['match[]', 'up{job="x"}'],
      ['start', '1'],
      ['end', '2'],
      ['limit', '40000'],
    ],
    expect: {
      method: 'POST',
      path: '/api/v1/series',
      params: [
        ['match[]', `{__name__!="",${A}}`],
        ['match[]', `up{job="x",${A}}`],
        ['start', '1'],
        ['end', '2'],
        ['limit', '40000'],
      ],
    },
  },
  {
    name: 'labels without match[] get the scope selector',
    method: 'POST',
    path: '/api/v1/labels',
    params: [
      ['start', '1'],
      ['end', '2'],
      ['limit', '40000'],
    ],
    expect: {
      method: 'POST',
      path: '/api/v1/labels',
      params: [
        ['match[]', `{${A}}`],
        ['start', '1'],
        ['end', '2'],
        ['limit', '40000'],
      ],
    },
    expectAll: {
      method: 'POST',
      path: '/api/v1/labels',
      params: [
        ['start', '1'],
        ['end', '2'],
        ['limit', '40000'],
      ],
    },
  },
  {
    name: 'labels with match[]',
    method: 'GET',
    path: '/api/v1/labels',
    params: [['match[]', 'up']],
    expect: { method: 'POST', path: '/api/v1/labels', params: [['match[]', `up{${A}}`]] },
  },
  {
    name: 'metric names (label values of __name__) are confined',
    method: 'GET',
    path: '/api/v1/label/__name__/values',
    params: [
      ['start', '1'],
      ['end', '2'],
      ['limit', '40000'],
    ],
    expect: {
      method: 'GET',
      path: '/api/v1/label/__name__/values',
      params: [
        ['match[]', `{${A}}`],
        ['start', '1'],
        ['end', '2'],
        ['limit', '40000'],
      ],
    },
    expectAll: {
      method: 'GET',
      path: '/api/v1/label/__name__/values',
      params: [
        ['start', '1'],
        ['end', '2'],
        ['limit', '40000'],
      ],
    },
  },
  {
    name: 'label values of the enforced label itself, U__-escaped',
    method: 'GET',
    path: '/api/v1/label/U__namespace/values',
    params: [],
    expect: {
      method: 'GET',
      path: '/api/v1/label/namespace/values',
      params: [['match[]', `{${A}}`]],
    },
    expectAll: { method: 'GET', path: '/api/v1/label/namespace/values', params: [] },
  },
  {
    // http.status_code escapes to U__http_2e_status__code (Go's EscapeName doubles "_").
    name: 'label values of a UTF-8 name stay escaped upstream; POST is forwarded as GET',
    method: 'POST',
    path: '/api/v1/label/U__http_2e_status__code/values',
    params: [['match[]', 'up']],
    expect: {
      method: 'GET',
      path: '/api/v1/label/U__http_2e_status__code/values',
      params: [['match[]', `up{${A}}`]],
    },
  },
  {
    name: 'federate, POST forwarded as GET',
    method: 'POST',
    path: '/federate',
    params: [
      ['match[]', '{job="app"}'],
      ['match[]', '{__name__=~"ns:.*"}'],
    ],
    expect: {
      method: 'GET',
      path: '/federate',
      params: [
        ['match[]', `{job="app",${A}}`],
        ['match[]', `{__name__=~"ns:.*",${A}}`],
      ],
    },
  },
  {
    name: 'format_query forwards the canonical print, not an enforced query',
    method: 'GET',
    path: '/api/v1/format_query',
    params: [['query', 'sum(rate(x[5m]))by(pod)']],
    expect: {
      method: 'POST',
      path: '/api/v1/format_query',
      params: [['query', 'sum(rate(x[5m])) by (pod)']],
    },
    expectAll: {
      method: 'POST',
      path: '/api/v1/format_query',
      params: [['query', 'sum(rate(x[5m])) by (pod)']],
    },
  },
  {
    name: 'parse_query',
    method: 'POST',
    path: '/api/v1/parse_query',
    params: [['query', 'up']],
    expect: { method: 'POST', path: '/api/v1/parse_query', params: [['query', 'up']] },
  },
  {
    name: 'rules: scoped callers never forward pagination or exclude_alerts',
    method: 'GET',
    path: '/api/v1/rules',
    params: [
      ['type', 'alert'],
      ['group_limit', '10'],
      ['exclude_alerts', 'true'],
      ['rule_name[]', 'A'],
      ['rule_name[]', 'B'],
    ],
    expect: {
      method: 'GET',
      path: '/api/v1/rules',
      params: [
        ['type', 'alert'],
        ['rule_name[]', 'A'],
        ['rule_name[]', 'B'],
      ],
    },
    expectAll: {
      method: 'GET',
      path: '/api/v1/rules',
      params: [
        ['type', 'alert'],
        ['rule_name[]', 'A'],
        ['rule_name[]', 'B'],
        ['exclude_alerts', 'true'],
        ['group_limit', '10'],
      ],
    },
  },
  {
    name: 'targets',
    method: 'GET',
    path: '/api/v1/targets',
    params: [
      ['state', 'active'],
      ['scrapePool', 'x'],
    ],
    expect: {
      method: 'GET',
      path: '/api/v1/targets',
      params: [
        ['state', 'active'],
        ['scrapePool', 'x'],
      ],
    },
  },
  {
    name: 'alerts',
    method: 'GET',
    path: '/api/v1/alerts',
    params: [],
    expect: { method: 'GET', path: '/api/v1/alerts', params: [] },
  },
  {
    name: 'buildinfo',
    method: 'GET',
    path: '/api/v1/status/buildinfo',
    params: [],
    expect: { method: 'GET', path: '/api/v1/status/buildinfo', params: [] },
  },
];

function sent(r: Recorded): [string, string][] {
  return r.method === 'GET' ? r.query : r.form;
}

describe('routes: what the upstream receives', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness([], { handler: answer, upstreamPath: '/prefix' });
  });
  after(() => h.close());

  async function run(
    c: Case,
    token: string,
  ): Promise<{ status: number; body: string; upstream: Recorded[] }> {
    const from = h.upstream.requests.length;
    const qs = new URLSearchParams(c.params).toString();
    const res =
      c.method === 'GET'
        ? await h.request(`${c.path}${qs ? `?${qs}` : ''}`, {
            token,
            headers: { 'user-agent': 'grafana/11' },
          })
        : await h.request(c.path, {
            token,
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              'user-agent': 'grafana/11',
            },
            body: qs,
          });
    const body = await res.text();
    return {
      status: res.status,
      body,
      upstream: h.upstream.requests
        .slice(from)
        .filter((r) => !r.path.endsWith('/buildinfo') || c.path.endsWith('/buildinfo')),
    };
  }

  for (const c of CASES) {
    it(`${c.method} ${c.path}: ${c.name} (scoped)`, async () => {
      const r = await run(c, TOKENS.teamA);
      assert.equal(r.status, 200, r.body);
      const u = r.upstream.filter(
        (x) => !x.path.endsWith('/label/__name__/values') || c.path.includes('__name__'),
      );
      assert.equal(u.length, 1, `upstream saw ${JSON.stringify(r.upstream.map((x) => x.url))}`);
      const got = u[0] as Recorded;
      assert.equal(got.method, c.expect.method);
      assert.equal(got.path, `/prefix${c.expect.path}`);
      assert.deepEqual(sent(got), c.expect.params);
      if (got.method === 'GET') assert.equal(got.body.length, 0);
      else assert.deepEqual(got.query, [], 'POST parameters only in the form body');
      assert.equal(
        got.headers['authorization'],
        undefined,
        "the caller's token is never forwarded",
      );
      assert.equal(got.headers['user-agent'], 'grafana/11');
    });

    it(`${c.method} ${c.path}: ${c.name} (cluster-wide)`, async () => {
      const r = await run(c, TOKENS.ops);
      assert.equal(r.status, 200, r.body);
      assert.equal(r.upstream.length, 1);
      const got = r.upstream[0] as Recorded;
      const expect = c.expectAll ?? { ...c.expect, params: c.params.filter(([k]) => k !== 'foo') };
      assert.equal(got.method, expect.method);
      assert.equal(got.path, `/prefix${expect.path}`);
      assert.deepEqual(sent(got), expect.params);
      assert.equal(got.headers['authorization'], undefined);
    });
  }

  it('parameters from the URL and the body of one POST are merged (Grafana custom parameters)', async () => {
    const from = h.upstream.requests.length;
    const res = await h.request('/api/v1/query_range?timeout=20s', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      body: 'query=up&start=1&end=2&step=1',
    });
    assert.equal(res.status, 200);
    const got = h.upstream.requests[from] as Recorded;
    assert.deepEqual(got.form, [
      ['query', `up{${A}}`],
      ['start', '1'],
      ['end', '2'],
      ['step', '1'],
      ['timeout', '20s'],
    ]);
  });

  it('filters rules, alerts and targets to the scope', async () => {
    for (const path of ['/api/v1/rules', '/api/v1/alerts', '/api/v1/targets']) {
      const res = await h.request(path);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      const text = await res.text();
      assert.ok(text.includes('ns-a'), `${path} keeps ns-a`);
      assert.ok(!text.includes('ns-b'), `${path} leaks ns-b: ${text.slice(0, 300)}`);
      const all = await (await h.request(path, { token: TOKENS.ops })).text();
      assert.ok(all.includes('ns-b'), 'cluster-wide callers get everything');
    }
    const excl = (await (await h.request('/api/v1/rules?exclude_alerts=true')).json()) as {
      data: { groups: { rules: { type: string; alerts?: unknown }[] }[] };
    };
    const alerting = excl.data.groups.flatMap((g) => g.rules).filter((r) => r.type === 'alerting');
    assert.ok(alerting.length > 0);
    for (const r of alerting) assert.equal(r.alerts, null);
  });

  it('filters metadata to the metric names of the scope and applies limit afterwards', async () => {
    const from = h.upstream.requests.length;
    const res = await h.request('/api/v1/metadata?limit=1&limit_per_metric=1');
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; data: Record<string, unknown> };
    assert.equal(body.status, 'success');
    assert.deepEqual(Object.keys(body.data), ['http_request_duration_seconds']);
    const names = h.upstream.requests
      .slice(from)
      .find((r) => r.path === '/prefix/api/v1/label/__name__/values');
    assert.deepEqual(names?.query, [['match[]', `{${A}}`]]);
    const meta = h.upstream.requests.slice(from).find((r) => r.path === '/prefix/api/v1/metadata');
    assert.deepEqual(meta?.query, [['limit_per_metric', '1']], 'limit is applied after filtering');
    const unlimited = (await (await h.request('/api/v1/metadata')).json()) as {
      data: Record<string, unknown>;
    };
    assert.deepEqual(Object.keys(unlimited.data).sort(), [
      'go_goroutines',
      'http_request_duration_seconds',
    ]);
  });

  it('passes buildinfo through unchanged', async () => {
    const res = await h.request('/api/v1/status/buildinfo');
    assert.deepEqual(await res.json(), BUILDINFO);
  });

  it('narrows by namespace parameter or X-Namespace header; the parameter is never forwarded', async () => {
    const from = h.upstream.requests.length;
    assert.equal((await h.request('/api/v1/query?query=up&namespace=ns-a2')).status, 200);
    assert.equal(
      (await h.request('/api/v1/query?query=up', { headers: { 'x-namespace': 'ns-a' } })).status,
      200,
    );
    assert.equal(
      (await h.request('/api/v1/query?query=up&namespace=ns-b', { token: TOKENS.ops })).status,
      200,
    );
    const sentQueries = h.upstream.requests.slice(from).map((r) => r.form);
    assert.deepEqual(sentQueries, [
      [['query', 'up{namespace="ns-a2"}']],
      [['query', 'up{namespace="ns-a"}']],
      [['query', 'up{namespace="ns-b"}']],
    ]);
  });

  it('forwards only allow-listed headers; configured upstream headers replace client copies', async () => {
    const h2 = await startHarness(['--upstream-header', 'X-Scope-OrgID=tenant-x'], {
      handler: answer,
    });
    try {
      const res = await h2.request('/api/v1/query?query=up', {
        headers: {
          accept: 'application/json',
          'accept-encoding': 'gzip',
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          'x-scope-orgid': 'evil',
          'x-http-method-override': 'DELETE',
          cookie: 'a=b',
          'x-forwarded-for': '1.2.3.4',
          'x-request-id': 'req-123',
        },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-request-id'), 'req-123');
      const got = h2.upstream.requests.find((r) => r.path === '/api/v1/query') as Recorded;
      const names = Object.keys(got.headers).sort();
      assert.deepEqual(names, [
        'accept',
        'accept-encoding',
        'connection',
        'content-length',
        'content-type',
        'host',
        'traceparent',
        'user-agent',
        'x-scope-orgid',
      ]);
      assert.equal(got.headers['x-scope-orgid'], 'tenant-x');
      assert.equal(got.method, 'POST');
    } finally {
      await h2.close();
    }
  });
});
