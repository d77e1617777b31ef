/**
 * The Kubernetes client wrapper: kubeconfig loading order, errors safe to log, deadlines,
 * bounded concurrency — against the stand-in through client-node.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import {
  KubeApi,
  KubeApiError,
  loadKubeConfig,
  toKubeApiError,
} from '../../../src/auth/kubernetes/client.js';
import { createMetrics } from '../../../src/metrics.js';
import { startKubeStandin, type KubeStandin } from '../../k8s/standin.js';

function kubeconfig(server: string, extraCluster: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server, ...extraCluster } }],
    users: [{ name: 'u', user: { token: 't' } }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'x',
  });
}

describe('loadKubeConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'promgate-kc-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, server: string, extra = {}): string => {
    const p = join(dir, name);
    writeFileSync(p, kubeconfig(server, extra));
    return p;
  };

  test('--kubeconfig wins over $KUBECONFIG and ~/.kube/config', () => {
    const explicit = write('explicit', 'https://explicit.example:6443');
    const env = write('env', 'https://env.example:6443');
    const kc = loadKubeConfig(explicit, { KUBECONFIG: env }, dir);
    assert.equal(kc.getCurrentCluster()?.server, 'https://explicit.example:6443');
  });

  test('then $KUBECONFIG, then ~/.kube/config', () => {
    const env = write('env2', 'https://env.example:6443');
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = env; // loadFromDefault reads process.env
    try {
      assert.equal(
        loadKubeConfig(undefined, { KUBECONFIG: env }, dir).getCurrentCluster()?.server,
        'https://env.example:6443',
      );
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
    const home = join(dir, 'home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(join(home, '.kube', 'config'), kubeconfig('https://home.example:6443'));
    assert.equal(
      loadKubeConfig(undefined, {}, home).getCurrentCluster()?.server,
      'https://home.example:6443',
    );
  });

  test('no configuration at all is an actionable error (no localhost:8080 fallback)', () => {
    assert.throws(
      () => loadKubeConfig(undefined, {}, join(dir, 'nowhere')),
      /no Kubernetes configuration found: pass --kubeconfig/,
    );
  });

  test('plain http needs insecure-skip-tls-verify', () => {
    assert.throws(() => loadKubeConfig(write('http', 'http://127.0.0.1:1'), {}, dir), /plain-HTTP/);
    const ok = loadKubeConfig(
      write('http-ok', 'http://127.0.0.1:1', { 'insecure-skip-tls-verify': true }),
      {},
      dir,
    );
    assert.equal(ok.getCurrentCluster()?.skipTLSVerify, true);
  });
});

describe('toKubeApiError', () => {
  test('never carries the body of a TokenReview error (it may quote the token)', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0.c2ln';
    const body = JSON.stringify({
      kind: 'Status',
      code: 422,
      reason: 'Invalid',
      message: `TokenReview "" is invalid: spec.token: Invalid value: "${token}"`,
    });
    const raw = new ApiException(422, 'Unknown API Status Code!', body, {});
    assert.ok(raw.message.includes(token), 'client-node embeds the body in its message');
    const e = toKubeApiError(raw, 'TokenReview');
    assert.ok(!e.message.includes(token));
    assert.equal(e.status, 422);
    assert.equal(e.reason, 'Invalid');
  });

  test('keeps the Status message of other calls, reads Retry-After, names network errors', () => {
    const body = JSON.stringify({
      kind: 'Status',
      code: 403,
      reason: 'Forbidden',
      message: 'namespaces is forbidden: User "system:serviceaccount:mon:promgate" cannot list',
    });
    const e = toKubeApiError(new ApiException(403, 'x', body, {}), 'namespace list');
    assert.match(e.message, /cannot list/);
    assert.ok(e.isCredentialProblem);
    const r = toKubeApiError(
      new ApiException(429, 'x', '{}', { 'retry-after': '7' }),
      'SubjectAccessReview',
    );
    assert.equal(r.retryAfterSeconds, 7);
    const net = Object.assign(new Error('request to https://x failed'), { code: 'ECONNREFUSED' });
    assert.equal(toKubeApiError(net, 'TokenReview').reason, 'ECONNREFUSED');
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    assert.equal(toKubeApiError(abort, 'TokenReview').reason, 'Timeout');
  });
});

describe('KubeApi against the stand-in', () => {
  let kube: KubeStandin;
  const metrics = createMetrics({ collectDefault: false });
  const make = (
    opts: Partial<{ timeoutMs: number; maxConcurrent: number; maxPending: number }> = {},
  ) =>
    new KubeApi(
      loadKubeConfig(kube.kubeconfigPath),
      { timeoutMs: 2_000, maxConcurrent: 4, maxPending: 100, ...opts },
      metrics,
    );
  before(async () => {
    kube = await startKubeStandin({ namespaces: ['a', 'b'] });
  });
  after(() => kube.stop());

  test('the generated kubeconfig verifies the stand-in’s certificate', () => {
    const text = readFileSync(kube.kubeconfigPath, 'utf8');
    assert.match(text, /certificate-authority-data/);
    assert.doesNotMatch(text, /insecure-skip-tls-verify/);
  });

  test('TokenReview sends the audiences and returns the status', async () => {
    const api = make();
    const token = await kube.issueToken('a/grafana', { audiences: ['promgate'] });
    kube.resetCounters();
    const status = await api.tokenReview(token, ['promgate']);
    assert.equal(status.authenticated, true);
    assert.deepEqual(kube.reviewedAudiences, [['promgate']]);
    await api.tokenReview(token, []);
    assert.deepEqual(kube.reviewedAudiences[1], []);
  });

  test('a slow API server hits the deadline (Timeout), a 5xx is an HTTP error, down is a network error', async () => {
    const api = make({ timeoutMs: 100 });
    kube.fail('tokenreviews', { latencyMs: 400, times: 1 });
    await assert.rejects(
      api.tokenReview('x', []),
      (e: unknown) => e instanceof KubeApiError && e.reason === 'Timeout',
    );
    kube.fail('tokenreviews', { hang: true, times: 1 }); // headers, then nothing
    await assert.rejects(
      api.tokenReview('x', []),
      (e: unknown) => e instanceof KubeApiError && e.reason === 'Timeout',
    );
    kube.fail('tokenreviews', { status: 503, times: 1 });
    await assert.rejects(
      api.tokenReview('x', []),
      (e: unknown) => e instanceof KubeApiError && e.status === 503,
    );
    kube.setDown(true);
    try {
      await assert.rejects(
        api.tokenReview('x', []),
        (e: unknown) =>
          e instanceof KubeApiError && e.status === undefined && e.reason !== 'Unexpected',
      );
    } finally {
      kube.setDown(false);
    }
  });

  test('a refused credential is flagged as a credential problem', async () => {
    const api = make();
    kube.fail('subjectaccessreviews', { status: 403, times: 1 });
    await assert.rejects(
      api.subjectAccessReview({ user: 'x', resourceAttributes: { verb: 'get', resource: 'pods' } }),
      (e: unknown) => e instanceof KubeApiError && e.isCredentialProblem,
    );
  });

  test('at most maxConcurrent reviews reach the API server at once', async () => {
    const api = make({ maxConcurrent: 3 });
    kube.resetCounters();
    kube.fail('subjectaccessreviews', { latencyMs: 30 });
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          api.subjectAccessReview({
            user: `u${i}`,
            resourceAttributes: { namespace: 'a', verb: 'get', resource: 'pods' },
          }),
        ),
      );
    } finally {
      kube.fail('subjectaccessreviews', null);
    }
    assert.equal(kube.counters.subjectaccessreviews, 20);
    assert.ok(
      kube.maxInFlight.subjectaccessreviews <= 3,
      `peak ${kube.maxInFlight.subjectaccessreviews}`,
    );
  });

  test('connections are reused (keep-alive) across reviews', async () => {
    const api = make();
    await api.tokenReview('warm-up', []);
    kube.resetCounters();
    for (let i = 0; i < 20; i++) await api.tokenReview(`t${i}`, []);
    assert.equal(kube.counters.tokenreviews, 20);
    assert.ok(kube.counters.connections <= 1, `${kube.counters.connections} new connections`);
    api.close();
  });

  test('OIDC discovery and keyset come back parsed', async () => {
    const api = make();
    const doc = (await api.openidConfiguration()) as { issuer: string };
    assert.equal(doc.issuer, kube.issuer);
    const jwks = (await api.openidKeyset()) as { keys: unknown[] };
    assert.ok(Array.isArray(jwks.keys));
  });
});
