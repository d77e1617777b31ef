/**
 * AccessReviews without the per-credential `extra` key: tokens of one identity that differ only
 * in `authentication.kubernetes.io/credential-id` (every rotation of a bound token) share one
 * SubjectAccessReview and its cached decision; the review sent carries every other `extra` key
 * and no credential id. Checked with a recording fake API and end to end through the Kubernetes
 * stand-in (two real tokens of one ServiceAccount).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { V1SubjectAccessReviewSpec } from '@kubernetes/client-node';
import { createKubernetesBackend, KUBERNETES_DEFAULTS } from '../../src/auth/kubernetes/index.js';
import type { Identity } from '../../src/auth/types.js';
import { createMetrics } from '../../src/metrics.js';
import {
  AccessReviews,
  PER_CREDENTIAL_EXTRA,
  reviewSubject,
} from '../../src/tenancy/access-reviews.js';
import { recordingLogger } from '../k8s/helpers.js';
import { startKubeStandin, type KubeStandin } from '../k8s/standin.js';

const CREDENTIAL_ID = 'authentication.kubernetes.io/credential-id';
const POD_NAME = 'authentication.kubernetes.io/pod-name';
const POD_UID = 'authentication.kubernetes.io/pod-uid';

function saIdentity(extra?: Record<string, readonly string[]>): Identity {
  return Object.freeze({
    name: 'system:serviceaccount:team-a:grafana',
    kind: 'serviceaccount',
    uid: 'sa-uid-1',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
    ...(extra ? { extra } : {}),
    serviceAccount: { namespace: 'team-a', name: 'grafana' },
  });
}

function recordingApi(allowed: boolean): {
  api: { subjectAccessReview(spec: V1SubjectAccessReviewSpec): Promise<{ allowed: boolean }> };
  specs: V1SubjectAccessReviewSpec[];
} {
  const specs: V1SubjectAccessReviewSpec[] = [];
  return {
    specs,
    api: {
      subjectAccessReview: (spec) => {
        specs.push(structuredClone(spec));
        return Promise.resolve({ allowed });
      },
    },
  };
}

function reviews(allowed = true): {
  reviews: AccessReviews;
  specs: V1SubjectAccessReviewSpec[];
} {
  const { api, specs } = recordingApi(allowed);
  return {
    reviews: new AccessReviews(
      api,
      { allowTtlMs: 60_000, denyTtlMs: 60_000, maxEntries: 100 },
      createMetrics({ collectDefault: false }),
    ),
    specs,
  };
}

const PODS_IN_TEAM_A = { namespace: 'team-a', verb: 'get', group: '', resource: 'pods' };

describe('AccessReviews and per-credential extra', () => {
  test('the credential id is the only per-credential key', () => {
    assert.deepEqual(PER_CREDENTIAL_EXTRA, [CREDENTIAL_ID]);
  });

  test('two tokens of one identity (credential ids differ) share one review', async () => {
    const { reviews: r, specs } = reviews();
    const first = saIdentity({ [CREDENTIAL_ID]: ['JTI=one'] });
    const rotated = saIdentity({ [CREDENTIAL_ID]: ['JTI=two'] });
    assert.equal((await r.check(first, PODS_IN_TEAM_A)).allowed, true);
    assert.equal((await r.check(rotated, PODS_IN_TEAM_A)).allowed, true);
    assert.equal(specs.length, 1, 'the rotated token re-checked the namespace');
    assert.ok(r.peek(rotated, PODS_IN_TEAM_A), 'the decision is cached for the rotated token');
    // …and for the identity without any extra (same user, uid, groups).
    assert.ok(r.peek(saIdentity(), PODS_IN_TEAM_A));
  });

  test('concurrent checks from two credentials of one identity coalesce', async () => {
    const { reviews: r, specs } = reviews(false);
    const answers = await Promise.all(
      ['a', 'b', 'c'].map((jti) =>
        r.check(saIdentity({ [CREDENTIAL_ID]: [`JTI=${jti}`] }), PODS_IN_TEAM_A),
      ),
    );
    assert.deepEqual(
      answers.map((a) => a.allowed),
      [false, false, false],
    );
    assert.equal(specs.length, 1);
  });

  test('the review sent keeps every other extra key and drops the credential id', async () => {
    const { reviews: r, specs } = reviews();
    const identity = saIdentity({
      [CREDENTIAL_ID]: ['JTI=one'],
      [POD_NAME]: ['grafana-0'],
      [POD_UID]: ['pod-uid-0'],
      'example.org/claim': ['x', 'y'],
    });
    await r.check(identity, PODS_IN_TEAM_A);
    assert.equal(specs.length, 1);
    assert.deepEqual(specs[0], {
      user: 'system:serviceaccount:team-a:grafana',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
      uid: 'sa-uid-1',
      extra: {
        [POD_NAME]: ['grafana-0'],
        [POD_UID]: ['pod-uid-0'],
        'example.org/claim': ['x', 'y'],
      },
      resourceAttributes: PODS_IN_TEAM_A,
    });
  });

  test('an extra holding only the credential id is left out entirely', async () => {
    const { reviews: r, specs } = reviews();
    await r.check(saIdentity({ [CREDENTIAL_ID]: ['JTI=one'] }), PODS_IN_TEAM_A);
    assert.equal(specs.length, 1);
    assert.equal('extra' in (specs[0] as object), false, JSON.stringify(specs[0]));
  });

  test('other extra keys still tell identities apart (pod-bound tokens of two pods)', async () => {
    const { reviews: r, specs } = reviews();
    await r.check(
      saIdentity({ [POD_NAME]: ['grafana-0'], [CREDENTIAL_ID]: ['JTI=one'] }),
      PODS_IN_TEAM_A,
    );
    await r.check(
      saIdentity({ [POD_NAME]: ['grafana-1'], [CREDENTIAL_ID]: ['JTI=two'] }),
      PODS_IN_TEAM_A,
    );
    assert.equal(specs.length, 2);
    assert.deepEqual(
      specs.map((s) => s.extra?.[POD_NAME]),
      [['grafana-0'], ['grafana-1']],
    );
  });

  test('user, uid and groups still tell identities apart', async () => {
    const { reviews: r, specs } = reviews();
    const base = saIdentity({ [CREDENTIAL_ID]: ['JTI=one'] });
    await r.check(base, PODS_IN_TEAM_A);
    await r.check({ ...base, uid: 'sa-uid-2' }, PODS_IN_TEAM_A); // SA deleted and recreated
    await r.check({ ...base, groups: [...base.groups, 'extra-group'] }, PODS_IN_TEAM_A);
    await r.check({ ...base, name: 'system:serviceaccount:team-a:other' }, PODS_IN_TEAM_A);
    assert.equal(specs.length, 4);
  });

  test('reviewSubject: same object without a credential id, memoised with one', () => {
    const plain = saIdentity({ [POD_NAME]: ['grafana-0'] });
    assert.equal(reviewSubject(plain), plain);
    const none = saIdentity();
    assert.equal(reviewSubject(none), none);
    const withId = saIdentity({ [CREDENTIAL_ID]: ['JTI=one'], [POD_NAME]: ['grafana-0'] });
    const subject = reviewSubject(withId);
    assert.equal(reviewSubject(withId), subject);
    assert.deepEqual(subject.extra, { [POD_NAME]: ['grafana-0'] });
    assert.equal(subject.name, withId.name);
    assert.deepEqual(subject.serviceAccount, withId.serviceAccount);
    // The caller's identity is not changed.
    assert.deepEqual(withId.extra?.[CREDENTIAL_ID], ['JTI=one']);
  });
});

describe('through the stand-in: a rotated ServiceAccount token', () => {
  let kube: KubeStandin;
  before(async () => {
    kube = await startKubeStandin({ namespaces: ['team-a', 'team-b'] });
  });
  after(() => kube?.stop());

  test('needs a TokenReview but no new SubjectAccessReview', async () => {
    const backend = await createKubernetesBackend(
      {
        ...KUBERNETES_DEFAULTS,
        kubeconfig: kube.kubeconfigPath,
        tenancy: 'rbac',
        tokenAudiences: ['promgate'],
      },
      { metrics: createMetrics({ collectDefault: false }), logger: recordingLogger().logger },
    );
    try {
      for (let i = 0; i < 500 && !backend.ready(); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(backend.ready(), 'the namespace informer did not sync');
      kube.grant({
        user: 'system:serviceaccount:team-a:grafana',
        namespace: 'team-b',
        verbs: ['get'],
        resources: ['pods'],
      });
      const tokens = [
        await kube.issueToken('team-a/grafana', { audiences: ['promgate'] }),
        await kube.issueToken('team-a/grafana', { audiences: ['promgate'], pod: 'grafana-0' }),
      ];
      const scopes: unknown[] = [];
      kube.resetCounters();
      const identities: Identity[] = [];
      for (const token of tokens) {
        const identity = await backend.authenticator.authenticate(token);
        assert.ok(identity, 'the token did not authenticate');
        identities.push(identity);
        scopes.push(await backend.scopes.resolve(identity));
      }
      // The stand-in puts the token's jti into extra as the credential id, like the API server.
      assert.notDeepEqual(
        identities[0]?.extra?.[CREDENTIAL_ID],
        identities[1]?.extra?.[CREDENTIAL_ID],
      );
      assert.equal(kube.counters.tokenreviews, 2);
      // Cluster-wide check + one per namespace for the first token; the pod-bound token differs
      // in pod-name / pod-uid, which are kept, so it is reviewed too — but a plain rotation is not:
      const firstRound = kube.counters.subjectaccessreviews;
      assert.equal(firstRound, 2 * 3, 'one cluster-wide + two namespace reviews per identity');
      const rotated = await kube.issueToken('team-a/grafana', { audiences: ['promgate'] });
      const identity = await backend.authenticator.authenticate(rotated);
      assert.ok(identity);
      scopes.push(await backend.scopes.resolve(identity));
      assert.equal(kube.counters.tokenreviews, 3);
      assert.equal(kube.counters.subjectaccessreviews, firstRound, 'the rotation caused SARs');
      assert.deepEqual(scopes, [
        { kind: 'values', values: ['team-b'] },
        { kind: 'values', values: ['team-b'] },
        { kind: 'values', values: ['team-b'] },
      ]);
      for (const spec of kube.accessReviewSpecs) {
        assert.equal(spec.extra?.[CREDENTIAL_ID], undefined, JSON.stringify(spec));
      }
      assert.ok(
        kube.accessReviewSpecs.some((s) => s.extra?.[POD_NAME]?.[0] === 'grafana-0'),
        'pod-name was not passed on',
      );
    } finally {
      await backend.close();
    }
  });
});
