/**
 * Load bounds of the Kubernetes mode through the real server (issue 4 "Proof"), counted at the
 * API stand-in, with real Prometheus 3.5 behind promgate (`--tenancy rbac --jwks
 * --token-audience promgate`, ES256 ServiceAccount keys):
 *
 * - 1,000 HTTP requests from 50 distinct tokens (10 ServiceAccounts × 5 tokens each, as token
 *   rotation makes them), all at once in random order, cause at most 50 TokenReviews — and, as
 *   SubjectAccessReviews ignore the per-token credential id, at most one rbac fan-out per
 *   ServiceAccount (not per token). Every answer stays within the caller's namespaces.
 * - 10,000 junk tokens (foreign signature, wrong issuer, expired, wrong audience, tampered,
 *   unknown key id, alg none, garbage) at 32 in flight: each 401 with WWW-Authenticate, and not
 *   one TokenReview; the JWKS is refetched at most a couple of times (rate-limited).
 *
 * Needs the test bed (`npm run testbed`); fails with that hint when it is missing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DEMO_EVAL_TIME } from '../../src/demo/data.js';
import { startKubeStandin, type KubeStandin } from '../k8s/standin.js';
import { startDemoPrometheus, type PrometheusServer } from '../support/index.js';
import { mapLimit } from './support/compare.js';
import {
  assertNoTokens,
  assertWithin,
  demoClusterNamespaces,
  namespacesIn,
  rawCall,
  startKubeGate,
  type KubeGate,
} from './k8s-support/kube-gate.js';

const PATH = `/api/v1/query?query=${encodeURIComponent('count by (namespace) (kube_pod_info)')}&time=${DEMO_EVAL_TIME}`;
const SERVICE_ACCOUNTS = 10;
const TOKENS_PER_SA = 5;
const REQUESTS = 1_000;
const JUNK = 10_000;
const JUNK_IN_FLIGHT = 32;

const b64url = (v: unknown): string =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Randomly ordered copy (Fisher–Yates). */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('kubernetes mode under load (counted at the API stand-in)', () => {
  let kube: KubeStandin;
  let prom: PrometheusServer;
  let gate: KubeGate;
  const sampleTokens: string[] = [];

  before(
    async () => {
      kube = await startKubeStandin({ namespaces: demoClusterNamespaces(), algorithm: 'ES256' });
      prom = await startDemoPrometheus({ version: 3 });
      gate = await startKubeGate({
        kube,
        upstream: prom.url,
        version: 3,
        tenancy: 'rbac',
        args: ['--jwks', '--token-audience=promgate'],
      });
    },
    { timeout: 60_000 },
  );
  after(async () => {
    if (gate) {
      const log = gate.logText();
      // Invariant 6: no JWT-shaped text at all, and none of a sample of the opaque junk.
      assert.doesNotMatch(log, /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/, 'a JWT reached the log');
      assertNoTokens(log, sampleTokens, 'the log');
    }
    await gate?.stop();
    await Promise.allSettled([prom?.stop(), kube?.stop()]);
  });

  test(`${REQUESTS} requests from ${SERVICE_ACCOUNTS * TOKENS_PER_SA} tokens cause ≤ ${SERVICE_ACCOUNTS * TOKENS_PER_SA} TokenReviews`, async () => {
    const namespaces = kube.namespaceNames();
    // ServiceAccount i lives in namespace i % 5 and may get pods there and in the next one.
    const callers: { token: string; scope: string[] }[] = [];
    for (let i = 0; i < SERVICE_ACCOUNTS; i++) {
      const home = namespaces[i % namespaces.length] as string;
      const next = namespaces[(i + 1) % namespaces.length] as string;
      const user = `system:serviceaccount:${home}:reader-${i}`;
      for (const ns of [home, next]) {
        kube.grant({ user, namespace: ns, verbs: ['get'], resources: ['pods'] });
      }
      for (let k = 0; k < TOKENS_PER_SA; k++) {
        const token = await kube.issueToken(`${home}/reader-${i}`, { audiences: ['promgate'] });
        callers.push({ token, scope: [home, next].sort() });
      }
    }
    sampleTokens.push(...callers.map((c) => c.token));
    const order = shuffled(Array.from({ length: REQUESTS }, (_, i) => i % callers.length));
    kube.resetCounters();
    const started = Date.now();
    const problems: string[] = [];
    // 50 in flight: concurrent misses for one token must coalesce, not only sequential hits.
    await mapLimit(order, callers.length, async (i) => {
      const c = callers[i] as (typeof callers)[number];
      const r = await rawCall(gate.url, PATH, `Bearer ${c.token}`);
      if (r.status !== 200) {
        problems.push(`HTTP ${r.status}: ${r.text.slice(0, 200)}`);
        return;
      }
      const seen = namespacesIn(r.json);
      try {
        assertWithin(seen, c.scope, `reader token ${i}`);
        assert.deepEqual(seen, c.scope);
      } catch (e) {
        problems.push((e as Error).message);
      }
    });
    const seconds = (Date.now() - started) / 1000;
    const { tokenreviews, subjectaccessreviews } = kube.counters;
    console.log(
      `load: ${REQUESTS} requests from ${callers.length} tokens (${SERVICE_ACCOUNTS} ServiceAccounts) in ${seconds.toFixed(1)} s ` +
        `(${(REQUESTS / seconds).toFixed(0)}/s): ${tokenreviews} TokenReviews, ${subjectaccessreviews} SubjectAccessReviews, ` +
        `max ${kube.maxInFlight.tokenreviews} TokenReviews in flight`,
    );
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} bad answers`);
    assert.ok(
      tokenreviews <= callers.length,
      `${tokenreviews} TokenReviews for ${callers.length} tokens`,
    );
    assert.equal(tokenreviews, callers.length, 'every distinct token is reviewed once');
    // Per ServiceAccount: one cluster-wide check + one review per namespace — whatever the
    // number of its tokens (the credential id is not part of the review).
    const perIdentity = 1 + namespaces.length;
    assert.ok(
      subjectaccessreviews <= SERVICE_ACCOUNTS * perIdentity,
      `${subjectaccessreviews} SubjectAccessReviews for ${SERVICE_ACCOUNTS} ServiceAccounts (≤ ${SERVICE_ACCOUNTS * perIdentity})`,
    );
  });

  test(`${JUNK} junk tokens with --jwks: each 401, not one TokenReview`, async () => {
    const sa = 'team-a-dev/junk';
    const kinds: [string, () => Promise<string> | string][] = [
      [
        'foreign signature',
        () => kube.issueToken(sa, { signer: 'foreign', audiences: ['promgate'] }),
      ],
      [
        'wrong issuer',
        () => kube.issueToken(sa, { issuer: 'https://other.example', audiences: ['promgate'] }),
      ],
      ['expired', () => kube.issueToken(sa, { expiresInSeconds: -3600, audiences: ['promgate'] })],
      ['wrong audience', () => kube.issueToken(sa, { audiences: ['not-promgate'] })],
      [
        'tampered payload',
        async () => {
          const [h, , s] = (await kube.issueToken(sa, { audiences: ['promgate'] })).split('.');
          const payload = {
            sub: 'system:serviceaccount:kube-system:admin',
            aud: ['promgate'],
            n: randomBytes(6).toString('hex'),
          };
          return `${h}.${b64url(payload)}.${s}`;
        },
      ],
      [
        'unknown key id',
        () =>
          `${b64url({ alg: 'ES256', kid: `k-${randomBytes(4).toString('hex')}` })}.${b64url({ sub: 'x', aud: ['promgate'] })}.${randomBytes(64).toString('base64url')}`,
      ],
      [
        'alg none',
        () =>
          `${b64url({ alg: 'none' })}.${b64url({ sub: randomBytes(8).toString('hex'), aud: ['promgate'] })}.`,
      ],
      ['garbage', () => randomBytes(24).toString('base64url')],
      [
        'JWT-shaped garbage',
        () =>
          `${randomBytes(20).toString('base64url')}.${randomBytes(40).toString('base64url')}.${randomBytes(32).toString('base64url')}`,
      ],
    ];
    const junk: { kind: string; token: string }[] = [];
    for (let i = 0; i < JUNK; i++) {
      const [kind, make] = kinds[i % kinds.length] as (typeof kinds)[number];
      junk.push({ kind, token: await make() });
    }
    assert.equal(new Set(junk.map((j) => j.token)).size, JUNK, 'junk tokens are distinct');
    for (let i = 0; i < junk.length; i += 500)
      sampleTokens.push((junk[i] as (typeof junk)[number]).token);

    kube.resetCounters();
    const started = Date.now();
    const wrong = new Map<string, number>();
    await mapLimit(shuffled(junk), JUNK_IN_FLIGHT, async ({ kind, token }) => {
      const r = await rawCall(gate.url, PATH, `Bearer ${token}`);
      const ok =
        r.status === 401 &&
        /^Bearer\b/.test(r.headers.get('www-authenticate') ?? '') &&
        (r.json as { errorType?: string } | undefined)?.errorType === 'unauthorized';
      if (!ok) {
        const k = `${kind}: HTTP ${r.status} ${r.text.slice(0, 120)}`;
        wrong.set(k, (wrong.get(k) ?? 0) + 1);
      }
    });
    const seconds = (Date.now() - started) / 1000;
    const c = kube.counters;
    console.log(
      `junk: ${JUNK} tokens (${kinds.length} kinds) at ${JUNK_IN_FLIGHT} in flight in ${seconds.toFixed(1)} s ` +
        `(${(JUNK / seconds).toFixed(0)}/s): ${c.tokenreviews} TokenReviews, ${c.jwks} JWKS and ${c.discovery} discovery fetches`,
    );
    assert.deepEqual(
      [...wrong.entries()],
      [],
      'junk tokens not answered 401 with WWW-Authenticate',
    );
    assert.equal(c.tokenreviews, 0, 'junk reached TokenReview');
    assert.ok(
      c.jwks + c.discovery <= 4,
      `${c.jwks} JWKS + ${c.discovery} discovery fetches for unknown key ids`,
    );

    // The junk did not push out the good: a known token is still served from the cache.
    const good = sampleTokens[0] as string;
    const r = await rawCall(gate.url, PATH, `Bearer ${good}`);
    assert.equal(r.status, 200);
    assert.equal(kube.counters.tokenreviews, 0);
  });
});
