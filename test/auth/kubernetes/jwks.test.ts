/**
 * `--jwks`: the local JWT pre-check against the stand-in's OIDC discovery and JWKS.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { KubeApi, KubeApiError, loadKubeConfig } from '../../../src/auth/kubernetes/client.js';
import { JwksPrecheck, type JwksOptions } from '../../../src/auth/kubernetes/jwks.js';
import { createMetrics } from '../../../src/metrics.js';
import { metricValue, recordingLogger, sleep } from '../../k8s/helpers.js';
import { startKubeStandin, type KubeStandin } from '../../k8s/standin.js';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

function precheckFor(kube: KubeStandin, options: Partial<JwksOptions> = {}) {
  const metrics = createMetrics({ collectDefault: false });
  const log = recordingLogger();
  const api = new KubeApi(
    loadKubeConfig(kube.kubeconfigPath),
    { timeoutMs: 2000, maxConcurrent: 4, maxPending: 100 },
    metrics,
  );
  const precheck = new JwksPrecheck(
    api,
    {
      audiences: ['promgate'],
      clockToleranceSec: 5,
      refreshIntervalMs: 600_000,
      timeoutMs: 2000,
      ...options,
    },
    { metrics, logger: log.logger },
  );
  return { precheck, metrics, log };
}

describe('JwksPrecheck', () => {
  let kube: KubeStandin;
  before(async () => {
    kube = await startKubeStandin();
  });
  after(() => kube.stop());

  test('accepts cluster tokens for the audience, and legacy tokens on their signature', async () => {
    const { precheck } = precheckFor(kube);
    try {
      assert.equal(
        await precheck.check(await kube.issueToken('a/g', { audiences: ['promgate'] })),
        'ok',
      );
      assert.equal(await precheck.check(await kube.issueToken('a/g', { legacy: true })), 'ok');
      assert.ok(precheck.ready());
    } finally {
      precheck.close();
    }
  });

  test('refuses junk, foreign, wrong-issuer, wrong-audience, expired and tampered tokens', async () => {
    const { precheck } = precheckFor(kube);
    try {
      const good = await kube.issueToken('a/g', { audiences: ['promgate'] });
      const [h, p] = good.split('.');
      const payload = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<
        string,
        unknown
      >;
      const junk: Record<string, string> = {
        opaque: 'not-a-jwt',
        twoParts: 'a.b',
        garbage: 'a.b.c',
        unsigned: `${b64({ alg: 'none' })}.${b64(payload)}.`,
        foreign: await kube.issueToken('a/g', { audiences: ['promgate'], signer: 'foreign' }),
        wrongIssuer: await kube.issueToken('a/g', {
          audiences: ['promgate'],
          issuer: 'https://other.example',
        }),
        wrongAudience: await kube.issueToken('a/g', { audiences: ['someone-else'] }),
        defaultAudience: await kube.issueToken('a/g'),
        expired: await kube.issueToken('a/g', { audiences: ['promgate'], expiresInSeconds: -120 }),
        tampered: `${h}.${b64({ ...payload, sub: 'system:serviceaccount:kube-system:admin' })}.${good.split('.')[2]}`,
        oversized: 'x'.repeat(20_000),
      };
      for (const [name, token] of Object.entries(junk)) {
        assert.equal(await precheck.check(token), 'reject', name);
      }
    } finally {
      precheck.close();
    }
  });

  test('an unknown kid refetches the keys (key rotation), rate-limited by the cooldown', async () => {
    const { precheck } = precheckFor(kube);
    try {
      assert.equal(
        await precheck.check(await kube.issueToken('a/g', { audiences: ['promgate'] })),
        'ok',
      );
      await kube.rotateSigningKey();
      kube.resetCounters();
      // Within the (30 s) cooldown after the first fetch, an unknown kid is refused, no refetch…
      const rotated = await kube.issueToken('a/g', { audiences: ['promgate'] });
      assert.equal(await precheck.check(rotated), 'reject');
      assert.equal(kube.counters.jwks, 0);
    } finally {
      precheck.close();
    }
    // …with a short cooldown, the unknown kid triggers one refetch and passes.
    const short = precheckFor(kube, { cooldownMs: 0 });
    try {
      assert.equal(
        await short.precheck.check(await kube.issueToken('a/g', { audiences: ['promgate'] })),
        'ok',
      );
      await kube.rotateSigningKey();
      kube.resetCounters();
      assert.equal(
        await short.precheck.check(await kube.issueToken('a/g', { audiences: ['promgate'] })),
        'ok',
      );
      assert.equal(kube.counters.jwks, 1);
      assert.ok(
        (await metricValue(short.metrics, 'promgate_jwks_refreshes_total', { result: 'ok' })) >= 2,
      );
    } finally {
      short.precheck.close();
    }
  });

  test('random kids cannot cause a fetch storm', async () => {
    const { precheck } = precheckFor(kube);
    try {
      await precheck.check(await kube.issueToken('a/g', { audiences: ['promgate'] }));
      kube.resetCounters();
      for (let i = 0; i < 200; i++) {
        const token = `${b64({ alg: 'RS256', kid: randomBytes(8).toString('hex') })}.${b64({ iss: kube.issuer })}.${randomBytes(64).toString('base64url')}`;
        assert.equal(await precheck.check(token), 'reject');
      }
      assert.equal(kube.counters.jwks + kube.counters.discovery, 0);
    } finally {
      precheck.close();
    }
  });
});

describe('JwksPrecheck when the keys cannot be fetched', () => {
  test('fails closed (KubeApiError), backs off, recovers; known keys survive a JWKS outage', async () => {
    const kube = await startKubeStandin();
    const { precheck, log } = precheckFor(kube, { failureBackoffMs: 200 });
    try {
      const token = await kube.issueToken('a/g', { audiences: ['promgate'] });
      kube.fail('jwks', { status: 500 });
      await assert.rejects(precheck.check(token), KubeApiError);
      assert.equal(precheck.ready(), false);
      const fetchesBefore = kube.counters.jwks;
      for (let i = 0; i < 50; i++) await assert.rejects(precheck.check(token), KubeApiError);
      assert.equal(kube.counters.jwks, fetchesBefore, 'no refetch during the backoff');
      kube.fail('jwks', null);
      await sleep(250);
      assert.equal(await precheck.check(token), 'ok');
      // Now the endpoint goes down again: the known keys keep working.
      kube.fail('all', { status: 503 });
      assert.equal(await precheck.check(token), 'ok');
      kube.fail('all', null);
      assert.ok(!log.text().includes(token));
    } finally {
      precheck.close();
      await kube.stop();
    }
  });

  test('a discovery document with a non-https jwks_uri is refused', async () => {
    const kube = await startKubeStandin({ jwksUri: 'http://127.0.0.1:1/keys' });
    const { precheck } = precheckFor(kube);
    try {
      await assert.rejects(
        precheck.check(await kube.issueToken('a/g', { audiences: ['promgate'] })),
        /https jwks_uri/,
      );
    } finally {
      precheck.close();
      await kube.stop();
    }
  });
});
