/**
 * The whole `kubernetes` backend (createKubernetesBackend) against the stand-in, through
 * client-node and a kubeconfig: caching and its load bounds, the negative TTL, no caching of
 * errors, stale-if-error, `--jwks` refusing junk without TokenReviews, and no token in any log.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  createKubernetesBackend,
  KUBERNETES_DEFAULTS,
  type KubernetesOptions,
} from '../../../src/auth/kubernetes/index.js';
import type { AccessBackend, Identity } from '../../../src/auth/types.js';
import { ApiError } from '../../../src/errors.js';
import { createMetrics, type Metrics } from '../../../src/metrics.js';
import {
  metricValue,
  recordingLogger,
  sleep,
  waitFor,
  type RecordingLogger,
} from '../../k8s/helpers.js';
import { startKubeStandin, type KubeStandin } from '../../k8s/standin.js';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('kubernetes backend', () => {
  let kube: KubeStandin;
  const log: RecordingLogger = recordingLogger();
  const issued: string[] = [];
  const backends: AccessBackend[] = [];

  async function backend(
    overrides: Partial<KubernetesOptions> = {},
  ): Promise<{ backend: AccessBackend; metrics: Metrics }> {
    const metrics = createMetrics({ collectDefault: false });
    const b = await createKubernetesBackend(
      {
        ...KUBERNETES_DEFAULTS,
        kubeconfig: kube.kubeconfigPath,
        tokenAudiences: ['promgate'],
        clusterWidePermission: null,
        ...overrides,
      },
      { metrics, logger: log.logger },
    );
    backends.push(b);
    return { backend: b, metrics };
  }

  async function token(
    sa: string,
    options: Parameters<KubeStandin['issueToken']>[1] = {},
  ): Promise<string> {
    const t = await kube.issueToken(sa, { audiences: ['promgate'], ...options });
    issued.push(t);
    return t;
  }

  before(async () => {
    kube = await startKubeStandin({ namespaces: ['team-a', 'team-b'] });
  });
  after(async () => {
    for (const b of backends) await b.close();
    await kube.stop();
    // Invariant 6: no token ever reached a log line.
    const text = log.text();
    for (const t of issued) assert.ok(!text.includes(t), 'a token was logged');
    for (const t of issued)
      assert.ok(!text.includes(t.split('.')[2] ?? t), 'a token signature was logged');
  });

  test('load: 1,000 authentications from 50 distinct tokens cause at most 50 TokenReviews', async () => {
    const { backend: b, metrics } = await backend();
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => token(`team-a/sa-${i}`)));
    kube.resetCounters();
    const order = Array.from({ length: 1000 }, (_, i) => i % 50).sort(() => Math.random() - 0.5);
    // All at once: concurrent misses must coalesce, not just sequential hits.
    const identities = await Promise.all(
      order.map((i) => b.authenticator.authenticate(tokens[i] ?? '')),
    );
    identities.forEach((id, k) => {
      assert.equal(id?.name, `system:serviceaccount:team-a:sa-${order[k]}`);
    });
    console.log(`# 1,000 authentications / 50 tokens → ${kube.counters.tokenreviews} TokenReviews`);
    assert.ok(kube.counters.tokenreviews <= 50, `${kube.counters.tokenreviews} TokenReviews`);
    assert.equal(kube.counters.tokenreviews, 50);
    const event = (e: string): Promise<number> =>
      metricValue(metrics, 'promgate_cache_events_total', { cache: 'token', event: e });
    assert.equal(await event('miss'), 50);
    assert.equal((await event('hit')) + (await event('coalesced')), 950);
    assert.equal(
      await metricValue(metrics, 'promgate_kubernetes_tokenreviews_total', {
        result: 'authenticated',
      }),
      50,
    );
  });

  test('load: 10,000 junk tokens with --jwks cause no TokenReview and evict nobody', async () => {
    const { backend: b, metrics } = await backend({ jwks: true, tokenCacheSize: 100 });
    const good = await token('team-a/grafana');
    assert.equal(
      (await b.authenticator.authenticate(good))?.name,
      'system:serviceaccount:team-a:grafana',
    );
    const kid = JSON.parse(Buffer.from(good.split('.')[0] ?? '', 'base64url').toString()) as {
      kid: string;
    };
    // A few real-but-wrong tokens (signed by the cluster for another audience, expired, foreign).
    const signed = [
      await kube.issueToken('team-a/x'),
      await kube.issueToken('team-a/x', { audiences: ['promgate'], expiresInSeconds: -600 }),
      await kube.issueToken('team-a/x', { audiences: ['promgate'], signer: 'foreign' }),
    ];
    kube.resetCounters();
    const junk: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      switch (i % 4) {
        case 0:
          junk.push(randomBytes(24).toString('base64url'));
          break;
        case 1: // JWT-shaped, the cluster's kid, a random signature
          junk.push(
            `${b64({ alg: 'RS256', kid: kid.kid })}.${b64({ iss: kube.issuer, aud: ['promgate'], sub: `x${i}`, exp: 2e9 })}.${randomBytes(256).toString('base64url')}`,
          );
          break;
        case 2: // unknown kid
          junk.push(
            `${b64({ alg: 'RS256', kid: `k${i}` })}.${b64({ i })}.${randomBytes(32).toString('base64url')}`,
          );
          break;
        default:
          junk.push(signed[i % signed.length] ?? '');
      }
    }
    for (let i = 0; i < junk.length; i += 500) {
      const results = await Promise.all(
        junk.slice(i, i + 500).map((t) => b.authenticator.authenticate(t)),
      );
      assert.ok(results.every((r) => r === null));
    }
    console.log(`# 10,000 junk tokens with --jwks → ${kube.counters.tokenreviews} TokenReviews`);
    assert.equal(kube.counters.tokenreviews, 0);
    assert.equal(kube.counters.jwks + kube.counters.discovery, 0, 'no key fetch storm either');
    // The good caller is still cached.
    await b.authenticator.authenticate(good);
    assert.equal(kube.counters.tokenreviews, 0);
    assert.equal(
      await metricValue(metrics, 'promgate_cache_events_total', {
        cache: 'token',
        event: 'eviction',
      }),
      0,
    );
  });

  test('without --jwks, junk goes to TokenReview but is negatively cached for the short TTL', async () => {
    const { backend: b } = await backend({ tokenCacheNegativeTtlMs: 200 });
    kube.resetCounters();
    assert.equal(await b.authenticator.authenticate('junk-token'), null);
    assert.equal(await b.authenticator.authenticate('junk-token'), null);
    assert.equal(kube.counters.tokenreviews, 1);
    await sleep(250);
    assert.equal(await b.authenticator.authenticate('junk-token'), null);
    assert.equal(kube.counters.tokenreviews, 2);
    // Not even worth a review: empty, whitespace, control characters, oversized.
    for (const t of ['', 'a b', 'tok\n', 'x'.repeat(20_000)])
      assert.equal(await b.authenticator.authenticate(t), null);
    assert.equal(kube.counters.tokenreviews, 2);
  });

  test('API-server errors are 503 with Retry-After, never a denial, and never cached', async () => {
    const { backend: b, metrics } = await backend();
    const t = await token('team-a/grafana');
    kube.resetCounters();
    kube.fail('tokenreviews', { status: 500, times: 1 });
    await assert.rejects(b.authenticator.authenticate(t), (e: unknown) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 503);
      assert.ok(e.headers['retry-after']);
      assert.ok(!e.message.includes(t));
      return true;
    });
    assert.equal(
      (await b.authenticator.authenticate(t))?.name,
      'system:serviceaccount:team-a:grafana',
    );
    assert.equal(kube.counters.tokenreviews, 2);
    kube.fail('tokenreviews', { status: 429, times: 1, retryAfterSeconds: 7 });
    const fresh = await token('team-a/other');
    await assert.rejects(b.authenticator.authenticate(fresh), (e: unknown) => {
      assert.ok(e instanceof ApiError && e.status === 503 && e.headers['retry-after'] === '7');
      return true;
    });
    assert.equal(
      await metricValue(metrics, 'promgate_kubernetes_tokenreviews_total', { result: 'error' }),
      2,
    );
  });

  test('stale-if-error: cached callers keep working for the window while the API is down; new tokens 503', async () => {
    const { backend: b } = await backend({ tokenCacheTtlMs: 150, staleIfErrorMs: 700 });
    const known = await token('team-a/known');
    const identity = await b.authenticator.authenticate(known);
    assert.ok(identity);
    await sleep(200); // the entry expired
    kube.setDown(true);
    try {
      const stale = await b.authenticator.authenticate(known);
      assert.equal(stale?.name, identity.name, 'served stale within the window');
      const unknown = await token('team-a/new');
      await assert.rejects(
        b.authenticator.authenticate(unknown),
        (e: unknown) => e instanceof ApiError && e.status === 503,
      );
      await sleep(800); // past expiry + window
      await assert.rejects(
        b.authenticator.authenticate(known),
        (e: unknown) => e instanceof ApiError && e.status === 503,
      );
    } finally {
      kube.setDown(false);
    }
    assert.equal((await b.authenticator.authenticate(known))?.name, identity.name);
  });

  test('revocation is seen after the positive TTL', async () => {
    const { backend: b } = await backend({ tokenCacheTtlMs: 150 });
    const t = await token('team-b/revoked');
    assert.ok(await b.authenticator.authenticate(t));
    kube.revokeToken(t);
    assert.ok(await b.authenticator.authenticate(t), 'still cached');
    await sleep(200);
    assert.equal(await b.authenticator.authenticate(t), null);
  });

  test('an aborted caller gets its abort; the shared review still fills the cache', async () => {
    const { backend: b } = await backend();
    const t = await token('team-a/abort');
    kube.resetCounters();
    kube.fail('tokenreviews', { latencyMs: 100, times: 1 });
    const controller = new AbortController();
    const pending = b.authenticator.authenticate(t, controller.signal);
    controller.abort(new Error('client went away'));
    await assert.rejects(pending, /client went away/);
    await waitFor(async () => (await b.authenticator.authenticate(t)) !== null, 'cached identity');
    assert.equal(kube.counters.tokenreviews, 1);
  });

  test('ready(): serviceaccount mode at once; --jwks once keys are fetched; close() makes it unready', async () => {
    const { backend: plain } = await backend();
    assert.equal(plain.ready(), true);
    const { backend: withJwks } = await backend({ jwks: true });
    await waitFor(() => withJwks.ready(), 'JWKS fetched');
    await withJwks.close();
    assert.equal(withJwks.ready(), false);
  });

  test('non-ServiceAccount users authenticate (default audience)', async () => {
    const { backend: b } = await backend({ tokenAudiences: [] });
    const t = kube.addUserToken({ username: 'alice@example.com', groups: ['devs'] });
    issued.push(t);
    const id: Identity | null = await b.authenticator.authenticate(t);
    assert.equal(id?.kind, 'user');
    assert.deepEqual(id?.groups, ['devs', 'system:authenticated']);
  });

  test('bad options are refused with a message', async () => {
    await assert.rejects(backend({ tokenCacheSize: 0 }), /tokenCacheSize must be > 0/);
    await assert.rejects(backend({ tokenAudiences: [''] }), /--token-audience/);
    await assert.rejects(backend({ kubeconfig: '/nonexistent/kubeconfig' }), /ENOENT|no such file/);
  });
});
