/** TokenReview user → Identity, and identity cache keys. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  identityFromUser,
  identityKey,
  parseServiceAccount,
} from '../../../src/auth/kubernetes/identity.js';

describe('identity', () => {
  test('ServiceAccounts are recognised from system:serviceaccount:<ns>:<name>', () => {
    assert.deepEqual(parseServiceAccount('system:serviceaccount:team-a:grafana'), {
      namespace: 'team-a',
      name: 'grafana',
    });
    for (const not of [
      'system:serviceaccount:team-a',
      'system:serviceaccount:team-a:grafana:extra',
      'system:serviceaccount::grafana',
      'system:serviceaccount:Team:grafana',
      'system:serviceaccounts:team-a',
      'alice',
      'system:node:worker-1',
    ]) {
      assert.equal(parseServiceAccount(not), undefined, not);
    }
  });

  test('identityFromUser: SA identity with uid, groups, extra', () => {
    const id = identityFromUser({
      username: 'system:serviceaccount:team-a:grafana',
      uid: 'u-1',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/pod-name': ['g-1'] },
    });
    assert.deepEqual(id, {
      name: 'system:serviceaccount:team-a:grafana',
      kind: 'serviceaccount',
      uid: 'u-1',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/pod-name': ['g-1'] },
      serviceAccount: { namespace: 'team-a', name: 'grafana' },
    });
    assert.ok(Object.isFrozen(id));
  });

  test('identityFromUser: other users are kind user; no username is no identity', () => {
    const id = identityFromUser({ username: 'alice@example.com', groups: ['devs'] });
    assert.equal(id?.kind, 'user');
    assert.equal(id?.serviceAccount, undefined);
    assert.equal(identityFromUser({ username: '' }), undefined);
    assert.equal(identityFromUser(undefined), undefined);
  });

  test('identityKey: stable under group/extra order, different for any SAR-relevant change', () => {
    const a = identityFromUser({ username: 'alice', groups: ['x', 'y'], extra: { k: ['1', '2'] } });
    const b = identityFromUser({ username: 'alice', groups: ['y', 'x'], extra: { k: ['2', '1'] } });
    assert.ok(a && b);
    assert.equal(identityKey(a), identityKey(b));
    const others = [
      { username: 'bob', groups: ['x', 'y'], extra: { k: ['1', '2'] } },
      { username: 'alice', groups: ['x'], extra: { k: ['1', '2'] } },
      { username: 'alice', uid: 'u', groups: ['x', 'y'], extra: { k: ['1', '2'] } },
      { username: 'alice', groups: ['x', 'y'], extra: { k: ['1'] } },
    ];
    for (const o of others) {
      const id = identityFromUser(o);
      assert.ok(id);
      assert.notEqual(identityKey(id), identityKey(a), JSON.stringify(o));
    }
  });
});
