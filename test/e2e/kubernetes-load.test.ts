/**
 * Load bound of the Kubernetes mode through the real server (issue 4 "Proof"), counted at the
 * API stand-in, with real Prometheus 3.5 behind promgate (`--tenancy rbac --jwks
 * --token-audience promgate`): 1,000 HTTP requests from 50 distinct tokens (10 ServiceAccounts
 * × 5 tokens each, as token rotation makes them), 50 in flight in random order, cause at most 50
 * TokenReviews — and, as SubjectAccessReviews ignore the per-token credential id, one rbac
 * fan-out per ServiceAccount (not per token). Every answer shows exactly the caller's
 * namespaces. (The junk-token flood is kubernetes-junk.test.ts.)
 *
 * Needs the test bed (`npm run testbed`); fails with that hint when it is missing.
 */
import assert from 'node:assert/strict';
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
      // Invariant 6: no JWT-shaped text at all.
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
});
