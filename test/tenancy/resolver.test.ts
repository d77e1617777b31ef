/**
 * Scope resolution through the whole backend against the stand-in: each tenancy mode, the
 * cluster-wide checks, scope changes without restart, SAR caching and sharing, and 503 (never an
 * empty scope) when the answer is unknown.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createKubernetesBackend,
  KUBERNETES_DEFAULTS,
  type KubernetesOptions,
} from '../../src/auth/kubernetes/index.js';
import type { AccessBackend, Identity } from '../../src/auth/types.js';
import { ApiError } from '../../src/errors.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import type { Scope } from '../../src/scope.js';
import { metricValue, recordingLogger, sleep, waitFor } from '../k8s/helpers.js';
import { startKubeStandin, type KubeStandin } from '../k8s/standin.js';

const LABEL = 'field.cattle.io/projectId';
const NAMESPACES = [
  { name: 'team-a', labels: { [LABEL]: 'p-1' } },
  { name: 'team-a-dev', labels: { [LABEL]: 'p-1' } },
  { name: 'team-b', labels: { [LABEL]: 'p-2' } },
  'lonely',
  'kube-system',
];

const values = (scope: Scope): readonly string[] | 'all' =>
  scope.kind === 'all' ? 'all' : scope.values;

let kube: KubeStandin;
const backends: AccessBackend[] = [];
before(async () => {
  kube = await startKubeStandin({ namespaces: NAMESPACES });
});
after(async () => {
  for (const b of backends) await b.close();
  await kube.stop();
});

async function setup(overrides: Partial<KubernetesOptions> & { skipReadyWait?: boolean }): Promise<{
  backend: AccessBackend;
  metrics: Metrics;
  login: (who: string) => Promise<Identity>;
}> {
  const metrics = createMetrics({ collectDefault: false });
  const { skipReadyWait, ...options } = overrides;
  const backend = await createKubernetesBackend(
    {
      ...KUBERNETES_DEFAULTS,
      kubeconfig: kube.kubeconfigPath,
      tokenAudiences: ['promgate'],
      clusterWidePermission: null,
      ...options,
    },
    { metrics, logger: recordingLogger().logger },
  );
  backends.push(backend);
  if (options.tenancy && options.tenancy !== 'serviceaccount' && !skipReadyWait) {
    await waitFor(() => backend.ready(), 'informer synced');
  }
  /** `ns/name` → a ServiceAccount identity; anything else → a user token's identity. */
  const login = async (who: string): Promise<Identity> => {
    const audiences = options.tokenAudiences ?? ['promgate'];
    const token = who.includes('/')
      ? await kube.issueToken(who, audiences.length > 0 ? { audiences: [...audiences] } : {})
      : kube.addUserToken({ username: who, groups: ['devs'] });
    const identity = await backend.authenticator.authenticate(token);
    assert.ok(identity, `${who} authenticates`);
    return identity;
  };
  return { backend, metrics, login };
}

describe('serviceaccount tenancy', () => {
  test('a ServiceAccount sees its own namespace; other users nothing (403)', async () => {
    const { backend, login, metrics } = await setup({
      tenancy: 'serviceaccount',
      tokenAudiences: [],
    });
    assert.deepEqual(values(await backend.scopes.resolve(await login('team-a/grafana'))), [
      'team-a',
    ]);
    assert.deepEqual(values(await backend.scopes.resolve(await login('alice'))), []);
    assert.equal(await metricValue(metrics, 'promgate_scope_size_count'), 2);
  });
});

describe('cluster-wide callers', () => {
  test('by group', async () => {
    const { backend, login } = await setup({
      tenancy: 'serviceaccount',
      clusterWideGroups: ['system:serviceaccounts:monitoring'],
    });
    assert.equal(values(await backend.scopes.resolve(await login('monitoring/grafana'))), 'all');
    assert.deepEqual(values(await backend.scopes.resolve(await login('team-a/grafana'))), [
      'team-a',
    ]);
  });

  test('by cluster-scoped permission (ClusterRoleBinding only), cached', async () => {
    const { backend, login } = await setup({
      tenancy: 'serviceaccount',
      clusterWidePermission: { verb: 'get', group: '', resource: 'namespaces' },
      sarCacheDeniedTtlMs: 100,
    });
    const admin = await login('ops/admin');
    const tenant = await login('team-b/grafana');
    const revoke = kube.grant({
      user: admin.name,
      verbs: ['get', 'list'],
      resources: ['namespaces'],
    });
    // A RoleBinding for namespaces inside one namespace is not cluster-wide.
    const revokeNs = kube.grant({
      user: tenant.name,
      namespace: 'team-b',
      verbs: ['get'],
      resources: ['namespaces'],
    });
    try {
      kube.resetCounters();
      assert.equal(values(await backend.scopes.resolve(admin)), 'all');
      assert.deepEqual(values(await backend.scopes.resolve(tenant)), ['team-b']);
      await backend.scopes.resolve(admin);
      await backend.scopes.resolve(tenant);
      assert.equal(kube.counters.subjectaccessreviews, 2, 'cached');
      const spec = kube.accessReviewSpecs[0];
      assert.equal(spec?.resourceAttributes?.namespace, undefined, 'cluster-scoped check');
      assert.deepEqual(spec?.groups, admin.groups, 'groups are passed');
    } finally {
      revoke();
      revokeNs();
    }
  });
});

describe('project tenancy', () => {
  test('namespaces sharing the project label; follows relabelling and deletion without restart', async () => {
    const { backend, login } = await setup({ tenancy: 'project', tokenAudiences: [] });
    const grafana = await login('team-a/grafana');
    assert.deepEqual(values(await backend.scopes.resolve(grafana)), ['team-a', 'team-a-dev']);
    assert.deepEqual(values(await backend.scopes.resolve(await login('lonely/x'))), ['lonely']);
    assert.deepEqual(values(await backend.scopes.resolve(await login('team-b/x'))), ['team-b']);
    assert.deepEqual(
      values(await backend.scopes.resolve(await login('alice'))),
      [],
      'users: nothing',
    );

    kube.upsertNamespace({ name: 'lonely', labels: { [LABEL]: 'p-1' } });
    await waitFor(
      async () => values(await backend.scopes.resolve(grafana)).includes('lonely'),
      'lonely joined p-1',
    );
    kube.upsertNamespace({ name: 'team-a-new', labels: { [LABEL]: 'p-1' } });
    kube.deleteNamespace('team-a-dev');
    await waitFor(async () => {
      const v = values(await backend.scopes.resolve(grafana));
      return v.includes('team-a-new') && !v.includes('team-a-dev');
    }, 'added and deleted');
    assert.deepEqual(values(await backend.scopes.resolve(grafana)), [
      'lonely',
      'team-a',
      'team-a-new',
    ]);
    kube.setNamespaces(NAMESPACES);
    await waitFor(
      async () => String(values(await backend.scopes.resolve(grafana))) === 'team-a,team-a-dev',
      'restored',
    );
  });

  test('a configurable project label', async () => {
    kube.upsertNamespace({ name: 'x-1', labels: { 'caas.telekom.de/multiprojectkey': 'm' } });
    kube.upsertNamespace({ name: 'x-2', labels: { 'caas.telekom.de/multiprojectkey': 'm' } });
    try {
      const { backend, login } = await setup({
        tenancy: 'project',
        projectLabel: 'caas.telekom.de/multiprojectkey',
      });
      assert.deepEqual(values(await backend.scopes.resolve(await login('x-1/sa'))), ['x-1', 'x-2']);
    } finally {
      kube.deleteNamespace('x-1');
      kube.deleteNamespace('x-2');
    }
  });

  test('503, never an empty scope, while the namespace list is unknown', async () => {
    const { login } = await setup({ tenancy: 'serviceaccount' }); // only to log in
    const identity = await login('team-a/grafana');
    kube.fail('namespaces', { status: 500 });
    try {
      const { backend } = await setup({ tenancy: 'project', skipReadyWait: true });
      await sleep(100);
      assert.equal(backend.ready(), false);
      await assert.rejects(backend.scopes.resolve(identity), (e: unknown) => {
        assert.ok(e instanceof ApiError);
        assert.equal(e.status, 503);
        assert.ok(e.headers['retry-after']);
        return true;
      });
      kube.fail('namespaces', null);
      await waitFor(() => backend.ready(), 'synced after recovery', 10_000);
      assert.deepEqual(values(await backend.scopes.resolve(identity)), ['team-a', 'team-a-dev']);
    } finally {
      kube.fail('namespaces', null);
    }
  });
});

describe('rbac tenancy', () => {
  test('namespaces where the identity may get pods; a new RoleBinding shows after the deny TTL', async () => {
    const { backend, login } = await setup({
      tenancy: 'rbac',
      sarCacheDeniedTtlMs: 150,
      sarCacheAllowedTtlMs: 60_000,
    });
    const grafana = await login('team-a/grafana');
    const revokes = [
      kube.grant({
        user: grafana.name,
        namespace: 'team-a',
        verbs: ['get', 'list'],
        resources: ['pods'],
      }),
      // Group bindings work because the review carries the groups.
      kube.grant({
        group: 'system:serviceaccounts:team-a',
        namespace: 'lonely',
        verbs: ['get'],
        resources: ['pods'],
      }),
    ];
    try {
      assert.deepEqual(values(await backend.scopes.resolve(grafana)), ['lonely', 'team-a']);
      revokes.push(
        kube.grant({
          user: grafana.name,
          namespace: 'team-b',
          verbs: ['get'],
          resources: ['pods'],
        }),
      );
      assert.deepEqual(
        values(await backend.scopes.resolve(grafana)),
        ['lonely', 'team-a'],
        'denial still cached',
      );
      await sleep(200);
      assert.deepEqual(values(await backend.scopes.resolve(grafana)), [
        'lonely',
        'team-a',
        'team-b',
      ]);
      // Other resources or verbs do not count.
      const other = await login('team-b/x');
      revokes.push(
        kube.grant({ user: other.name, namespace: 'team-b', verbs: ['list'], resources: ['pods'] }),
      );
      revokes.push(
        kube.grant({
          user: other.name,
          namespace: 'team-a',
          verbs: ['get'],
          resources: ['secrets'],
        }),
      );
      assert.deepEqual(values(await backend.scopes.resolve(other)), []);
    } finally {
      for (const r of revokes) r();
    }
  });

  test('allowed decisions are cached longer than denied ones (a revoked binding lasts until the allow TTL)', async () => {
    const { backend, login } = await setup({
      tenancy: 'rbac',
      sarCacheDeniedTtlMs: 100,
      sarCacheAllowedTtlMs: 600,
    });
    const id = await login('team-b/grafana');
    const revoke = kube.grant({
      user: id.name,
      namespace: 'team-b',
      verbs: ['get'],
      resources: ['pods'],
    });
    assert.deepEqual(values(await backend.scopes.resolve(id)), ['team-b']);
    revoke();
    await sleep(200); // past the deny TTL, within the allow TTL
    assert.deepEqual(values(await backend.scopes.resolve(id)), ['team-b']);
    await sleep(500);
    assert.deepEqual(values(await backend.scopes.resolve(id)), []);
  });

  test('computed once per identity and shared by concurrent requests; warm requests cost no review', async () => {
    const { backend, login } = await setup({ tenancy: 'rbac' });
    const id = await login('team-a/concurrent');
    kube.resetCounters();
    kube.fail('subjectaccessreviews', { latencyMs: 20 });
    let scopes: Scope[];
    try {
      scopes = await Promise.all(Array.from({ length: 25 }, () => backend.scopes.resolve(id)));
    } finally {
      kube.fail('subjectaccessreviews', null);
    }
    assert.ok(
      scopes.every((s) => s === scopes[0]),
      'one shared answer',
    );
    const namespaces = kube.namespaceNames().length;
    assert.equal(kube.counters.subjectaccessreviews, namespaces, 'one review per namespace');
    assert.ok(kube.maxInFlight.subjectaccessreviews <= KUBERNETES_DEFAULTS.maxConcurrentReviews);
    for (let i = 0; i < 100; i++) await backend.scopes.resolve(id);
    assert.equal(kube.counters.subjectaccessreviews, namespaces);
  });

  test('a new namespace costs one review for it only; a deleted one leaves the scope', async () => {
    const { backend, login } = await setup({ tenancy: 'rbac' });
    const id = await login('team-a/ns-changes');
    const revoke = kube.grant({ user: id.name, verbs: ['get'], resources: ['pods'] }); // everywhere
    try {
      assert.equal(values(await backend.scopes.resolve(id)).length, kube.namespaceNames().length);
      kube.resetCounters();
      kube.upsertNamespace('brand-new');
      await waitFor(
        async () => values(await backend.scopes.resolve(id)).includes('brand-new'),
        'new namespace',
      );
      assert.equal(kube.counters.subjectaccessreviews, 1);
      kube.deleteNamespace('brand-new');
      await waitFor(
        async () => !values(await backend.scopes.resolve(id)).includes('brand-new'),
        'deleted',
      );
    } finally {
      revoke();
    }
  });

  test('non-ServiceAccount users work in rbac mode', async () => {
    const { backend, login } = await setup({ tenancy: 'rbac', tokenAudiences: [] });
    const alice = await login('alice@example.com'); // audience-agnostic: default audience only
    const revoke = kube.grant({
      group: 'devs',
      namespace: 'team-b',
      verbs: ['get'],
      resources: ['pods'],
    });
    try {
      assert.deepEqual(values(await backend.scopes.resolve(alice)), ['team-b']);
    } finally {
      revoke();
    }
  });

  test('a failing review is a 503, never a partial scope, and is not cached', async () => {
    const { backend, login } = await setup({ tenancy: 'rbac' });
    const id = await login('team-a/failing');
    const revoke = kube.grant({ user: id.name, verbs: ['get'], resources: ['pods'] });
    try {
      kube.fail('subjectaccessreviews', { status: 500, skip: 2, times: 1 });
      await assert.rejects(backend.scopes.resolve(id), (e: unknown) => {
        assert.ok(e instanceof ApiError);
        assert.equal(e.status, 503);
        return true;
      });
      assert.equal(values(await backend.scopes.resolve(id)).length, kube.namespaceNames().length);
    } finally {
      revoke();
      kube.fail('subjectaccessreviews', null);
    }
  });

  test('a custom resource and verb (e.g. metrics.k8s.io/pods get)', async () => {
    const { backend, login } = await setup({
      tenancy: 'rbac',
      rbacResource: { group: 'metrics.k8s.io', resource: 'pods' },
      rbacVerb: 'get',
    });
    const id = await login('team-b/top');
    const revokes = [
      kube.grant({
        user: id.name,
        namespace: 'team-b',
        verbs: ['get'],
        apiGroups: ['metrics.k8s.io'],
        resources: ['pods'],
      }),
      kube.grant({ user: id.name, namespace: 'team-a', verbs: ['get'], resources: ['pods'] }), // core pods: not it
    ];
    try {
      assert.deepEqual(values(await backend.scopes.resolve(id)), ['team-b']);
    } finally {
      for (const r of revokes) r();
    }
  });
});
