/**
 * Smuggling attempts (issue 3): nothing reaches the upstream unenforced. Each case asserts
 * that the fake upstream saw no request at all, or exactly the enforced one.
 */
import { strict as assert } from 'node:assert';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startHarness, TOKENS, type Harness } from './fake-upstream.js';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends a request with the path exactly as given (fetch would normalise `..` and `//`). */
function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        agent: false, // one connection per case: no keep-alive coupling between cases
        headers: {
          authorization: `Bearer ${TOKENS.teamA}`,
          // Node's client sends a GET body without framing unless the length is given.
          ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('smuggling: nothing reaches the upstream unenforced', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  /** Runs `f` and returns what the upstream received meanwhile (the readiness probe ignored). */
  async function seen(
    f: () => Promise<RawResponse>,
  ): Promise<{ res: RawResponse; upstream: typeof h.upstream.requests }> {
    const from = h.upstream.requests.length;
    const res = await f();
    return {
      res,
      upstream: h.upstream.requests
        .slice(from)
        .filter((r) => r.path !== '/api/v1/status/buildinfo'),
    };
  }

  const notFound = [
    '//api/v1/query?query=up',
    '/api/v1/../v1/query?query=up',
    '/api/v1/./query?query=up',
    '/api/v1/%71uery?query=up',
    '/api%2Fv1%2Fquery?query=up',
    '/api/v1/label/a%2Fb/values',
    '/api/v1/label/../../query/values',
    '/api/v1/query/?query=up',
    '/api/v1/query;x=1?query=up',
    '/API/V1/QUERY?query=up',
    '/api/v1/Query?query=up',
    '/api/v1/admin/tsdb/delete_series?match[]=up',
    '/api/v1/status/config',
    '/api/v1/status/flags',
    '/api/v1/write',
    '/graph',
    '/metrics',
    '/debug/pprof/',
    '/-/reload',
    '/',
    '/api/v1/query%00',
    '/a%zz',
  ];
  for (const path of notFound) {
    it(`404 for ${path}, before authentication, with no upstream call`, async () => {
      const { res, upstream } = await seen(() =>
        raw(h.promgate.url, 'GET', path, { authorization: '' }),
      );
      assert.equal(res.status, 404, res.body);
      assert.deepEqual(JSON.parse(res.body).status, 'error');
      assert.equal(JSON.parse(res.body).errorType, 'not_found');
      assert.equal(upstream.length, 0);
    });
  }

  it('absolute-form request targets are not routes', async () => {
    const { res, upstream } = await seen(() =>
      raw(h.promgate.url, 'GET', 'http://evil.example/api/v1/query?query=up'),
    );
    assert.equal(res.status, 404);
    assert.equal(upstream.length, 0);
  });

  it('a query given in the URL and in the body is a 400 naming it', async () => {
    const { res, upstream } = await seen(() =>
      raw(
        h.promgate.url,
        'POST',
        '/api/v1/query?query=up',
        { 'content-type': 'application/x-www-form-urlencoded' },
        'query=secret_metric',
      ),
    );
    assert.equal(res.status, 400);
    assert.match(JSON.parse(res.body).error, /parameter "query" is given 2 times/);
    assert.equal(upstream.length, 0);
  });

  it('a query given twice in the URL is a 400', async () => {
    const { res, upstream } = await seen(() =>
      raw(h.promgate.url, 'GET', '/api/v1/query?query=up&query=x'),
    );
    assert.equal(res.status, 400);
    assert.equal(upstream.length, 0);
  });

  it('match[] from URL and body are a union, each enforced', async () => {
    const { res, upstream } = await seen(() =>
      raw(
        h.promgate.url,
        'POST',
        '/api/v1/series?match[]=up',
        { 'content-type': 'application/x-www-form-urlencoded' },
        'match%5B%5D=secret',
      ),
    );
    assert.equal(res.status, 200, res.body);
    assert.equal(upstream.length, 1);
    assert.deepEqual(upstream[0]?.form, [
      ['match[]', 'secret{namespace=~"ns-a|ns-a2"}'],
      ['match[]', 'up{namespace=~"ns-a|ns-a2"}'],
    ]);
  });

  for (const [type, body] of [
    [
      'multipart/form-data; boundary=XX',
      '--XX\r\nContent-Disposition: form-data; name="query"\r\n\r\nsecret\r\n--XX--\r\n',
    ],
    ['application/json', '{"query":"secret"}'],
    ['text/plain', 'query=secret'],
  ] as const) {
    it(`a ${type} body is refused (415), nothing forwarded`, async () => {
      const { res, upstream } = await seen(() =>
        raw(h.promgate.url, 'POST', '/api/v1/query?query=up', { 'content-type': type }, body),
      );
      assert.equal(res.status, 415);
      assert.equal(upstream.length, 0);
    });
  }

  it('a body without Content-Type is refused', async () => {
    const { res, upstream } = await seen(() =>
      raw(h.promgate.url, 'POST', '/api/v1/query', {}, 'query=secret'),
    );
    assert.equal(res.status, 415);
    assert.equal(upstream.length, 0);
  });

  it('a compressed form body is refused', async () => {
    const { res, upstream } = await seen(() =>
      raw(
        h.promgate.url,
        'POST',
        '/api/v1/query',
        { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
        'query=up',
      ),
    );
    assert.equal(res.status, 415);
    assert.equal(upstream.length, 0);
  });

  it('a GET with a body is refused', async () => {
    const { res, upstream } = await seen(() =>
      raw(
        h.promgate.url,
        'GET',
        '/api/v1/query?query=up',
        { 'content-type': 'application/x-www-form-urlencoded' },
        'query=secret',
      ),
    );
    assert.equal(res.status, 400);
    assert.equal(upstream.length, 0);
  });

  it('X-HTTP-Method-Override and friends change nothing', async () => {
    const { res, upstream } = await seen(() =>
      raw(h.promgate.url, 'GET', '/api/v1/query?query=up', {
        'x-http-method-override': 'DELETE',
        'x-method-override': 'PUT',
        'x-http-method': 'PATCH',
      }),
    );
    assert.equal(res.status, 200);
    assert.equal(upstream.length, 1);
    assert.equal(upstream[0]?.method, 'POST');
    assert.equal(upstream[0]?.path, '/api/v1/query');
    for (const name of ['x-http-method-override', 'x-method-override', 'x-http-method']) {
      assert.equal(upstream[0]?.headers[name], undefined);
    }
    const { res: res2, upstream: up2 } = await seen(() =>
      raw(h.promgate.url, 'DELETE', '/api/v1/admin/tsdb/delete_series?match[]=up', {
        'x-http-method-override': 'GET',
      }),
    );
    assert.equal(res2.status, 404);
    assert.equal(up2.length, 0);
  });

  it('a raw ";" in the query string is a 400 (Go would drop the pair, Node would keep it)', async () => {
    const { res, upstream } = await seen(() =>
      raw(h.promgate.url, 'GET', '/api/v1/query?query=up;query=secret'),
    );
    assert.equal(res.status, 400);
    assert.equal(upstream.length, 0);
  });

  it('wrong methods are 405 with Allow', async () => {
    for (const [method, path] of [
      ['PUT', '/api/v1/query'],
      ['DELETE', '/api/v1/series'],
      ['POST', '/api/v1/rules'],
      ['GET', '/api/v1/read'],
      ['HEAD', '/api/v1/query'],
      ['OPTIONS', '/api/v1/query'],
    ] as const) {
      const { res, upstream } = await seen(() => raw(h.promgate.url, method, path));
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.ok(res.headers['allow']);
      assert.equal(upstream.length, 0);
    }
  });

  it('a namespace outside the scope is a 403 naming it (parameter, body or header)', async () => {
    const cases: [string, Record<string, string>, string?][] = [
      ['/api/v1/query?query=up&namespace=ns-b', {}],
      ['/api/v1/query?query=up&namespace=ns-a&namespace=ns-b', {}],
      ['/api/v1/query?query=up', { 'x-namespace': 'ns-a, ns-b' }],
      [
        '/api/v1/query?query=up',
        { 'content-type': 'application/x-www-form-urlencoded' },
        'namespace=ns-b',
      ],
    ];
    for (const [path, headers, body] of cases) {
      const { res, upstream } = await seen(() =>
        raw(h.promgate.url, body ? 'POST' : 'GET', path, headers, body),
      );
      assert.equal(res.status, 403, path);
      assert.match(JSON.parse(res.body).error, /"ns-b" is not in your scope/);
      assert.equal(upstream.length, 0);
    }
  });

  it('a query naming another namespace is a 403 naming it', async () => {
    const { res, upstream } = await seen(() =>
      raw(
        h.promgate.url,
        'GET',
        `/api/v1/query?query=${encodeURIComponent('up{namespace="ns-b"}')}`,
      ),
    );
    assert.equal(res.status, 403);
    assert.match(JSON.parse(res.body).error, /ns-b/);
    assert.equal(upstream.length, 0);
  });

  it('U__namespace label values are confined like namespace', async () => {
    const { res, upstream } = await seen(() =>
      raw(h.promgate.url, 'GET', '/api/v1/label/U__namespace/values'),
    );
    assert.equal(res.status, 200);
    assert.equal(upstream[0]?.path, '/api/v1/label/namespace/values');
    assert.deepEqual(upstream[0]?.query, [['match[]', '{namespace=~"ns-a|ns-a2"}']]);
  });

  it('an invalid raw label name is a 400', async () => {
    const { res, upstream } = await seen(() =>
      raw(h.promgate.url, 'GET', '/api/v1/label/1abc/values'),
    );
    assert.equal(res.status, 400);
    assert.equal(upstream.length, 0);
  });

  it('a client X-Scope-OrgID never reaches the upstream', async () => {
    const { upstream } = await seen(() =>
      raw(h.promgate.url, 'GET', '/api/v1/query?query=up', { 'x-scope-orgid': 'other-tenant' }),
    );
    assert.equal(upstream[0]?.headers['x-scope-orgid'], undefined);
  });

  it('a \\r-terminated comment cannot hide a second selector', async () => {
    const q = 'count(up) # \r + count(up{namespace="ns-b"})';
    const { res, upstream } = await seen(() =>
      raw(h.promgate.url, 'GET', `/api/v1/query?query=${encodeURIComponent(q)}`),
    );
    assert.ok(res.status === 400 || res.status === 403, res.body);
    assert.equal(upstream.length, 0);
  });

  it('federate without match[] is a 400 (Prometheus would answer an empty 200)', async () => {
    const { res, upstream } = await seen(() => raw(h.promgate.url, 'GET', '/federate'));
    assert.equal(res.status, 400);
    assert.equal(upstream.length, 0);
  });

  it('an oversized body is a 413', async () => {
    const big = `query=${'x'.repeat(5 << 20)}`;
    const { res, upstream } = await seen(() =>
      raw(
        h.promgate.url,
        'POST',
        '/api/v1/query',
        { 'content-type': 'application/x-www-form-urlencoded' },
        big,
      ),
    );
    assert.equal(res.status, 413);
    assert.equal(upstream.length, 0);
  });

  it('an over-long query is a 400 for cluster-wide callers too', async () => {
    const q = `sum(${'x + '.repeat(20_000)}x)`;
    for (const token of [TOKENS.teamA, TOKENS.ops]) {
      const { res, upstream } = await seen(() =>
        raw(
          h.promgate.url,
          'POST',
          '/api/v1/query',
          { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
          `query=${encodeURIComponent(q)}`,
        ),
      );
      assert.equal(res.status, 400, res.body);
      assert.equal(upstream.length, 0);
    }
  });
});
