/** Interpreting TokenReview answers: identity, invalid, audiences, API trouble. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { V1TokenReviewStatus } from '@kubernetes/client-node';
import { KubeApi, KubeApiError, loadKubeConfig } from '../../../src/auth/kubernetes/client.js';
import { TokenReviewer } from '../../../src/auth/kubernetes/tokenreview.js';
import { createMetrics } from '../../../src/metrics.js';
import { metricValue } from '../../k8s/helpers.js';
import { startKubeStandin, type KubeStandin } from '../../k8s/standin.js';

const fakeApi = (status: V1TokenReviewStatus | Error) => ({
  tokenReview: async (): Promise<V1TokenReviewStatus> => {
    if (status instanceof Error) throw status;
    return status;
  },
});

describe('TokenReviewer (answers)', () => {
  const user = { username: 'system:serviceaccount:a:g', groups: ['system:serviceaccounts'] };

  test('audiences: the answer must name only requested audiences, and at least one', async () => {
    const metrics = createMetrics({ collectDefault: false });
    const cases: [string[] | undefined, boolean][] = [
      [['promgate'], true],
      [['promgate', 'other'], false],
      [['other'], false],
      [[], false],
      [undefined, false], // an authenticator that ignored the audiences
    ];
    for (const [audiences, expectOk] of cases) {
      const reviewer = new TokenReviewer(
        fakeApi({ authenticated: true, user, ...(audiences ? { audiences } : {}) }),
        ['promgate'],
        metrics,
      );
      const outcome = await reviewer.review('t');
      assert.equal(outcome.kind === 'authenticated', expectOk, JSON.stringify(audiences));
    }
  });

  test('without configured audiences, status.audiences is not required', async () => {
    const reviewer = new TokenReviewer(
      fakeApi({ authenticated: true, user }),
      [],
      createMetrics({ collectDefault: false }),
    );
    assert.equal((await reviewer.review('t')).kind, 'authenticated');
  });

  test('authenticated false / absent / no username is invalid', async () => {
    const metrics = createMetrics({ collectDefault: false });
    for (const status of [
      { authenticated: false, error: 'nope' },
      { error: 'invalid bearer token' },
      { authenticated: true, user: {} },
    ]) {
      const reviewer = new TokenReviewer(fakeApi(status), [], metrics);
      assert.deepEqual(await reviewer.review('t'), { kind: 'invalid' });
    }
    assert.equal(
      await metricValue(metrics, 'promgate_kubernetes_tokenreviews_total', { result: 'rejected' }),
      3,
    );
  });

  test('400 is an invalid token; 5xx, timeouts and 401/403 are thrown (→ 503), counted as errors', async () => {
    const metrics = createMetrics({ collectDefault: false });
    const bad = new TokenReviewer(
      fakeApi(new KubeApiError('TokenReview', 400, 'BadRequest', 'HTTP 400')),
      [],
      metrics,
    );
    assert.deepEqual(await bad.review('t'), { kind: 'invalid' });
    for (const err of [
      new KubeApiError('TokenReview', 503, 'ServiceUnavailable', 'HTTP 503'),
      new KubeApiError('TokenReview', undefined, 'Timeout', 'deadline'),
      new KubeApiError('TokenReview', 401, 'Unauthorized', 'HTTP 401'),
      new KubeApiError('TokenReview', 403, 'Forbidden', 'HTTP 403'),
    ]) {
      await assert.rejects(new TokenReviewer(fakeApi(err), [], metrics).review('t'), KubeApiError);
    }
    assert.equal(
      await metricValue(metrics, 'promgate_kubernetes_tokenreviews_total', { result: 'error' }),
      4,
    );
  });
});

describe('TokenReviewer against the stand-in', () => {
  let kube: KubeStandin;
  let reviewer: TokenReviewer;
  before(async () => {
    kube = await startKubeStandin();
    const metrics = createMetrics({ collectDefault: false });
    const api = new KubeApi(
      loadKubeConfig(kube.kubeconfigPath),
      { timeoutMs: 2000, maxConcurrent: 4, maxPending: 10 },
      metrics,
    );
    reviewer = new TokenReviewer(api, ['promgate'], metrics);
  });
  after(() => kube.stop());

  test('a promgate-audience token authenticates; a default-audience or legacy one does not', async () => {
    const good = await kube.issueToken('team-a/grafana', { audiences: ['promgate'] });
    const outcome = await reviewer.review(good);
    assert.equal(outcome.kind, 'authenticated');
    if (outcome.kind === 'authenticated') {
      assert.deepEqual(outcome.identity.serviceAccount, { namespace: 'team-a', name: 'grafana' });
    }
    assert.equal((await reviewer.review(await kube.issueToken('team-a/grafana'))).kind, 'invalid');
    assert.equal(
      (await reviewer.review(await kube.issueToken('team-a/grafana', { legacy: true }))).kind,
      'invalid',
    );
    assert.equal(
      (await reviewer.review(kube.addUserToken({ username: 'alice' }))).kind,
      'invalid',
      'audience-agnostic user tokens fail a custom audience',
    );
  });
});
