/**
 * Authentication and authorization through the whole server: 401s with WWW-Authenticate,
 * Bearer and Basic, 403 bodies, 503 when the backend cannot answer (never cached), 429 per
 * identity, and no token in any log line or metric.
 */
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../src/config/index.js';
import { ApiError } from '../../src/errors.js';
import { startPromgate } from '../../src/server.js';
import type { AccessBackend } from '../../src/auth/types.js';
import { startFakeUpstream, startHarness, tempDir, TOKENS, type Harness } from './fake-upstream.js';

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('authentication', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('401 with WWW-Authenticate for a missing token, in Prometheus error JSON', async () => {
    const res = await h.request('/api/v1/query?query=up', { token: null });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
    const body = (await res.json()) as Record<string, string>;
    assert.deepEqual(Object.keys(body).sort(), ['error', 'errorType', 'status']);
    assert.equal(body['status'], 'error');
    assert.equal(body['errorType'], 'unauthorized');
  });

  it('401 for an invalid token and for malformed credentials', async () => {
    for (const authorization of [
      'Bearer nope',
      'Bearer a b',
      'Digest x',
      basic('u', 'wrong'),
      basic('u', ''),
    ]) {
      const res = await h.request('/api/v1/query?query=up', { headers: { authorization } });
      assert.equal(res.status, 401, authorization);
      assert.ok(res.headers.get('www-authenticate'));
      const text = await res.text();
      assert.ok(!text.includes('nope') && !text.includes('wrong'), 'the credential is not echoed');
    }
  });

  it('accepts Bearer and HTTP Basic with the token as the password', async () => {
    assert.equal((await h.request('/api/v1/query?query=up')).status, 200);
    const res = await h.request('/api/v1/query?query=up', {
      headers: { authorization: basic('promtool', TOKENS.teamB) },
    });
    assert.equal(res.status, 200);
    const last = h.upstream.requests.at(-1);
    assert.deepEqual(last?.form, [['query', 'up{namespace="ns-b"}']]);
    assert.equal(last?.headers['authorization'], undefined);
  });

  it('403 bodies name what is refused', async () => {
    const res = await h.request(
      `/api/v1/query?query=${encodeURIComponent('up{namespace="ns-b"}')}`,
    );
    assert.equal(res.status, 403);
    const body = (await res.json()) as Record<string, string>;
    assert.equal(body['errorType'], 'forbidden');
    assert.match(body['error'] ?? '', /ns-b/);
  });

  it('a token removed from the tokens file stops working after the reload', async () => {
    writeFileSync(
      h.tokensFile,
      `tokens:\n  - name: ops\n    token: "${TOKENS.ops}"\n    clusterWide: true\n`,
    );
    let status = 200;
    for (let i = 0; i < 100 && status === 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await h.request('/api/v1/query?query=up', { token: TOKENS.teamB })).status;
    }
    assert.equal(status, 401);
    assert.equal((await h.request('/api/v1/query?query=up', { token: TOKENS.ops })).status, 200);
  });

  it('never writes a token into a log line or a metric', async () => {
    const metricsText = await (await fetch(`${h.promgate.metricsUrl}/metrics`)).text();
    const logs = JSON.stringify(h.logs);
    assert.ok(
      h.logs.some((l) => l['msg'] === 'request'),
      'request lines were captured',
    );
    assert.ok(
      h.logs.some((l) => l['identity'] === 'team-a'),
      'identities are logged by name',
    );
    for (const token of [...Object.values(TOKENS), 'nope', 'wrong']) {
      assert.ok(!logs.includes(token), `token ${token.slice(0, 6)}… found in the logs`);
      assert.ok(!metricsText.includes(token), `token ${token.slice(0, 6)}… found in the metrics`);
      const b64 = Buffer.from(`promtool:${token}`).toString('base64');
      assert.ok(!logs.includes(b64));
    }
    assert.match(
      metricsText,
      /promgate_authentication_total\{mode="static",outcome="invalid"\} [1-9]/,
    );
    assert.match(
      metricsText,
      /promgate_authentication_total\{mode="static",outcome="missing"\} [1-9]/,
    );
    assert.match(metricsText, /promgate_authentication_total\{mode="static",outcome="ok"\} [1-9]/);
    assert.match(metricsText, /promgate_promql_rejections_total\{reason="out_of_scope"\} [1-9]/);
    assert.match(metricsText, /promgate_tokens_file_reloads_total\{result="success"\} [1-9]/);
  });
});

describe('backend unavailable and concurrency', () => {
  it('503 when the backend cannot answer, and the next request is tried again (not cached)', async () => {
    const upstream = await startFakeUpstream();
    let down = true;
    let calls = 0;
    const backend: AccessBackend = {
      authenticator: {
        mode: 'kubernetes',
        async authenticate() {
          calls++;
          if (down) throw new ApiError(503, 'unavailable', 'Kubernetes API unreachable');
          return { name: 'system:serviceaccount:ns-a:grafana', kind: 'serviceaccount', groups: [] };
        },
      },
      scopes: { resolve: async () => ({ kind: 'values', values: ['ns-a'] }) },
      ready: () => true,
      close: async () => undefined,
    };
    const dir = tempDir();
    writeFileSync(join(dir, 't.yaml'), 'tokens: []\n');
    const config = buildConfig(
      [
        '--upstream',
        upstream.url,
        '--tokens-file',
        join(dir, 't.yaml'),
        '--listen',
        '127.0.0.1:0',
        '--metrics-listen',
        '127.0.0.1:0',
        '--log-level',
        'silent',
      ],
      {},
    );
    const promgate = await startPromgate(config, { backend });
    try {
      const go = () =>
        fetch(`${promgate.url}/api/v1/query?query=up`, {
          headers: { authorization: 'Bearer some-jwt' },
        });
      const r1 = await go();
      assert.equal(r1.status, 503);
      assert.equal(((await r1.json()) as Record<string, string>)['errorType'], 'unavailable');
      down = false;
      assert.equal((await go()).status, 200);
      assert.equal(calls, 2);
      // A backend that throws something unexpected is a 503 too, never a denial.
      backend.authenticator.authenticate = async () => {
        throw new Error('boom');
      };
      assert.equal((await go()).status, 503);
    } finally {
      await promgate.close();
      await upstream.close();
    }
  });

  it('429 with Retry-After beyond the per-identity concurrency limit', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const h = await startHarness(['--max-concurrent-per-identity', '1'], {
      handler: (_req, res) => {
        void gate.then(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"status":"success","data":{"resultType":"vector","result":[]}}');
        });
      },
    });
    try {
      const first = h.request('/api/v1/query?query=up');
      // Wait until the first request is at the upstream.
      for (
        let i = 0;
        i < 200 && !h.upstream.requests.some((r) => r.path === '/api/v1/query');
        i++
      ) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const second = await h.request('/api/v1/query?query=up');
      assert.equal(second.status, 429);
      assert.equal(second.headers.get('retry-after'), '1');
      const other = h.request('/api/v1/query?query=up', { token: TOKENS.teamB });
      release();
      assert.equal((await first).status, 200);
      assert.equal((await other).status, 200, 'other identities are not limited');
      assert.equal((await h.request('/api/v1/query?query=up')).status, 200, 'the slot is released');
    } finally {
      release();
      await h.close();
    }
  });
});
