/**
 * Scope changes reach a running promgate without a restart (issue 4 "Behaviour"): through the
 * real server in kubernetes mode, the Kubernetes API stand-in and real Prometheus 3.5 with the
 * whole demo cluster.
 *
 * - `project`: a namespace relabelled into a project appears in the members' answers once the
 *   watch event arrives (and leaves again when relabelled out); a new namespace joins; a deleted
 *   namespace disappears although Prometheus still holds its series.
 * - `rbac` (`--sar-cache-denied-ttl=1s`, `--sar-cache-allowed-ttl=2s`): a RoleBinding granted
 *   later appears after the deny TTL, a revoked one disappears after the allow TTL, a
 *   ClusterRoleBinding for the cluster-wide permission makes the caller cluster-wide, and a
 *   deleted namespace disappears at once.
 *
 * Every answer seen on the way is checked: its namespaces never exceed the union of the scopes
 * before and after the change.
 *
 * Needs the test bed (`npm run testbed`); fails with that hint when it is missing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO_EVAL_TIME } from '../../src/demo/data.js';
import { startKubeStandin, type KubeStandin } from '../k8s/standin.js';
import { startDemoPrometheus, waitFor, type PrometheusServer } from '../support/index.js';
import {
  assertNoTokens,
  assertWithin,
  demoClusterNamespaces,
  namespacesIn,
  PROJECT_LABEL,
  startKubeGate,
  type ExpectedScope,
  type KubeGate,
} from './k8s-support/kube-gate.js';

const PODS_BY_NAMESPACE = { query: 'count by (namespace) (kube_pod_info)', time: DEMO_EVAL_TIME };
const ALL_DEMO = ['kube-system', 'monitoring', 'team-a-dev', 'team-a-prod', 'team-b'];
/** Bound on every wait for a change to show (the watch is immediate; TTLs are 1–2 s). */
const CHANGE_TIMEOUT_MS = 15_000;

describe('kubernetes mode: scope changes without restart', () => {
  let kube: KubeStandin;
  let prom: PrometheusServer;
  let project: KubeGate;
  let rbac: KubeGate;
  const tokens: string[] = [];
  let saDev: string;
  let saB: string;
  let bob: string;
  let answers = 0;

  before(
    async () => {
      kube = await startKubeStandin({ namespaces: demoClusterNamespaces() });
      prom = await startDemoPrometheus({ version: 3 });
      project = await startKubeGate({ kube, upstream: prom.url, version: 3, tenancy: 'project' });
      rbac = await startKubeGate({
        kube,
        upstream: prom.url,
        version: 3,
        tenancy: 'rbac',
        args: ['--sar-cache-denied-ttl=1s', '--sar-cache-allowed-ttl=2s'],
      });
      saDev = await kube.issueToken('team-a-dev/grafana');
      saB = await kube.issueToken('team-b/grafana');
      bob = kube.addUserToken({ username: 'bob', groups: ['developers'] });
      tokens.push(saDev, saB, bob);
    },
    { timeout: 60_000 },
  );
  after(async () => {
    console.log(
      `scope changes: ${answers} answers checked; TokenReviews ${kube?.counters.tokenreviews}, ` +
        `SubjectAccessReviews ${kube?.counters.subjectaccessreviews}, namespace lists ${kube?.counters.namespaces}, watches ${kube?.counters.watch}`,
    );
    for (const g of [project, rbac]) if (g) assertNoTokens(g.logText(), tokens, 'the log');
    await Promise.allSettled([project?.stop(), rbac?.stop()]);
    await Promise.allSettled([prom?.stop(), kube?.stop()]);
  });

  /**
   * The namespaces `token` sees through `gate` (pods by namespace), checked against `bound`:
   * never a namespace outside it. 'all' for a cluster-wide answer is not distinguishable here,
   * so callers compare with ALL_DEMO.
   */
  async function seen(gate: KubeGate, token: string, bound: ExpectedScope): Promise<string[]> {
    const r = await gate.call(token, '/api/v1/query', PODS_BY_NAMESPACE);
    assert.ok(r.ok, `query failed: ${r.status} ${r.ok ? '' : r.error}`);
    const namespaces = namespacesIn(r.body);
    assertWithin(namespaces, bound, 'pods by namespace');
    answers++;
    return namespaces;
  }

  /** Polls until `token` sees exactly `want`; every answer on the way stays within `bound`. */
  async function until(
    gate: KubeGate,
    token: string,
    want: readonly string[],
    bound: ExpectedScope,
    what: string,
  ): Promise<void> {
    await waitFor(
      what,
      async () => JSON.stringify(await seen(gate, token, bound)) === JSON.stringify(want),
      { timeoutMs: CHANGE_TIMEOUT_MS, intervalMs: 50 },
    );
  }

  /** The status of a narrowed request (`?namespace=`), e.g. 200 inside the scope, 403 outside. */
  async function narrowedStatus(gate: KubeGate, token: string, namespace: string): Promise<number> {
    const r = await gate.call(token, '/api/v1/query', { ...PODS_BY_NAMESPACE, namespace });
    return r.status;
  }

  test('project: a namespace relabelled into the project appears after the watch event, and leaves again', async () => {
    const teamA = ['team-a-dev', 'team-a-prod'];
    assert.deepEqual(await seen(project, saDev, teamA), teamA);
    assert.deepEqual(await seen(project, saB, ['team-b']), ['team-b']);
    assert.equal(await narrowedStatus(project, saDev, 'team-b'), 403);

    const lists = kube.counters.namespaces;
    kube.upsertNamespace({ name: 'team-b', labels: { [PROJECT_LABEL]: 'p-team-a' } });
    const joined = [...teamA, 'team-b'];
    await until(project, saDev, joined, joined, 'team-b to join team-a-dev/grafana’s scope');
    // team-b's own ServiceAccount now belongs to the project too.
    assert.deepEqual(await seen(project, saB, joined), joined);
    assert.equal(await narrowedStatus(project, saDev, 'team-b'), 200);
    // Seen through the open watch: no new namespace list was needed.
    assert.equal(kube.counters.namespaces, lists, 'the change needed a relist');

    kube.upsertNamespace({ name: 'team-b', labels: { [PROJECT_LABEL]: 'p-team-b' } });
    await until(project, saDev, teamA, joined, 'team-b to leave the project again');
    assert.deepEqual(await seen(project, saB, joined), ['team-b']);
    assert.equal(await narrowedStatus(project, saDev, 'team-b'), 403);
  });

  test('project: a new namespace joins; a deleted namespace disappears although Prometheus still has it', async () => {
    const teamA = ['team-a-dev', 'team-a-prod'];
    // A new namespace (no series yet): only narrowing can show that it is in the scope.
    assert.equal(await narrowedStatus(project, saDev, 'team-a-staging'), 403);
    kube.upsertNamespace({ name: 'team-a-staging', labels: { [PROJECT_LABEL]: 'p-team-a' } });
    await waitFor(
      'team-a-staging to join the project',
      async () => (await narrowedStatus(project, saDev, 'team-a-staging')) === 200,
      { timeoutMs: CHANGE_TIMEOUT_MS, intervalMs: 50 },
    );

    kube.deleteNamespace('team-a-prod');
    await until(project, saDev, ['team-a-dev'], teamA, 'team-a-prod to disappear after deletion');
    assert.equal(await narrowedStatus(project, saDev, 'team-a-prod'), 403);
    // The data is still there for a cluster-wide view: the scope, not the data, changed.
    const full = await prom.api('/api/v1/query', PODS_BY_NAMESPACE);
    assert.ok(namespacesIn(full.body).includes('team-a-prod'));

    kube.upsertNamespace({ name: 'team-a-prod', labels: { [PROJECT_LABEL]: 'p-team-a' } });
    kube.deleteNamespace('team-a-staging');
    await until(project, saDev, teamA, teamA, 'team-a-prod to come back');
    await waitFor(
      'team-a-staging to leave',
      async () => (await narrowedStatus(project, saDev, 'team-a-staging')) === 403,
      { timeoutMs: CHANGE_TIMEOUT_MS, intervalMs: 50 },
    );
  });

  test('rbac: a RoleBinding granted later appears after the deny TTL; revoked, it disappears after the allow TTL', async () => {
    const revokeB = kube.grant({
      user: 'bob',
      namespace: 'team-b',
      verbs: ['get'],
      resources: ['pods'],
    });
    try {
      // The first resolution may already have cached a denial for team-b: wait out the deny TTL.
      await until(rbac, bob, ['team-b'], ['team-b'], 'bob to see team-b');
      const reviewsBefore = kube.counters.subjectaccessreviews;
      const revokeMon = kube.grant({
        user: 'bob',
        namespace: 'monitoring',
        verbs: ['get'],
        resources: ['pods'],
      });
      const both = ['monitoring', 'team-b'];
      await until(rbac, bob, both, both, 'the new RoleBinding (monitoring) to show');
      assert.ok(
        kube.counters.subjectaccessreviews > reviewsBefore,
        'the denial was not reviewed again',
      );
      revokeMon();
      await until(rbac, bob, ['team-b'], both, 'the revoked RoleBinding to disappear');
    } finally {
      revokeB();
    }
    // Nothing left: 403 (an empty scope), after the allow TTL.
    await waitFor(
      'bob to lose every namespace',
      async () => (await rbac.call(bob, '/api/v1/query', PODS_BY_NAMESPACE)).status === 403,
      { timeoutMs: CHANGE_TIMEOUT_MS, intervalMs: 50 },
    );
  });

  test('rbac: a ClusterRoleBinding for the cluster-wide permission makes the caller cluster-wide', async () => {
    const revokePods = kube.grant({
      user: 'bob',
      namespace: 'team-b',
      verbs: ['get'],
      resources: ['pods'],
    });
    try {
      await until(rbac, bob, ['team-b'], ['team-b'], 'bob to see team-b');
      const revokeAll = kube.grant({ user: 'bob', verbs: ['get'], resources: ['namespaces'] });
      await until(rbac, bob, ALL_DEMO, 'all', 'bob to become cluster-wide');
      // Cluster-wide callers are not rewritten: series without a namespace label are visible.
      const nodes = await rbac.call(bob, '/api/v1/query', {
        query: 'count(node_cpu_seconds_total)',
        time: DEMO_EVAL_TIME,
      });
      assert.ok(nodes.ok && (nodes.data as { result: unknown[] }).result.length === 1);
      revokeAll();
      await until(rbac, bob, ['team-b'], 'all', 'bob to be scoped again');
    } finally {
      revokePods();
    }
  });

  test('rbac: a deleted namespace disappears at once (no TTL to wait for)', async () => {
    const revokes = ['team-b', 'monitoring'].map((namespace) =>
      kube.grant({ user: 'bob', namespace, verbs: ['get'], resources: ['pods'] }),
    );
    try {
      const both = ['monitoring', 'team-b'];
      await until(rbac, bob, both, both, 'bob to see monitoring and team-b');
      kube.deleteNamespace('monitoring');
      await until(rbac, bob, ['team-b'], both, 'the deleted namespace to disappear');
      assert.equal(await narrowedStatus(rbac, bob, 'monitoring'), 403);
      kube.upsertNamespace({ name: 'monitoring', labels: { [PROJECT_LABEL]: 'p-system' } });
      await until(rbac, bob, both, both, 'the re-created namespace to come back');
    } finally {
      for (const revoke of revokes) revoke();
    }
  });
});
