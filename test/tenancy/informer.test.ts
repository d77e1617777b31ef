/**
 * The namespace informer against the stand-in: paginated sync, add / modify / delete, bookmarks,
 * relist on 410 (event and HTTP), restart after a dropped or failing watch, staleness tolerance.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { KubeApi, loadKubeConfig } from '../../src/auth/kubernetes/client.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { NamespaceInformer, type NamespaceInformerOptions } from '../../src/tenancy/informer.js';
import { metricValue, recordingLogger, sleep, waitFor } from '../k8s/helpers.js';
import { startKubeStandin, type KubeStandin, type StandinOptions } from '../k8s/standin.js';

const LABEL = 'field.cattle.io/projectId';

interface Rig {
  kube: KubeStandin;
  informer: NamespaceInformer;
  metrics: Metrics;
  api: KubeApi;
}

const rigs: Rig[] = [];
after(async () => {
  for (const r of rigs) {
    await r.informer.stop();
    r.api.close();
    await r.kube.stop();
  }
});

async function rig(
  standin: StandinOptions = {},
  options: Partial<NamespaceInformerOptions> = {},
  beforeStart?: (kube: KubeStandin) => void,
): Promise<Rig> {
  const kube = await startKubeStandin({
    namespaces: [
      { name: 'team-a', labels: { [LABEL]: 'p-1' } },
      { name: 'team-a2', labels: { [LABEL]: 'p-1' } },
      { name: 'team-b', labels: { [LABEL]: 'p-2' } },
      'kube-system',
      'lonely',
    ],
    ...standin,
  });
  const metrics = createMetrics({ collectDefault: false });
  const api = new KubeApi(
    loadKubeConfig(kube.kubeconfigPath),
    { timeoutMs: 2000, maxConcurrent: 4, maxPending: 100 },
    metrics,
  );
  const informer = new NamespaceInformer(
    api,
    {
      projectLabel: LABEL,
      pageSize: 2,
      staleToleranceMs: 10_000,
      backoffInitialMs: 20,
      backoffMaxMs: 100,
      watchTimeoutSeconds: 60,
      ...options,
    },
    { metrics, logger: recordingLogger().logger },
  );
  const r = { kube, informer, metrics, api };
  rigs.push(r);
  beforeStart?.(kube);
  informer.start();
  return r;
}

describe('NamespaceInformer', () => {
  test('syncs with a paginated list; names, project index, synced gauge', async () => {
    const { kube, informer, metrics } = await rig();
    assert.equal(await informer.waitForSync(5000), true);
    assert.deepEqual(informer.names(), ['kube-system', 'lonely', 'team-a', 'team-a2', 'team-b']);
    assert.equal(kube.counters.namespaces, 3, '5 namespaces in pages of 2');
    assert.equal(informer.projectOf('team-a'), 'p-1');
    assert.equal(informer.projectOf('lonely'), undefined);
    assert.deepEqual(informer.namespacesInProject('p-1'), ['team-a', 'team-a2']);
    assert.equal(await metricValue(metrics, 'promgate_namespace_informer_synced'), 1);
    assert.equal(informer.fresh(), true);
  });

  test('follows ADDED / MODIFIED / DELETED and survives bookmarks', async () => {
    const { kube, informer, metrics } = await rig();
    await informer.waitForSync(5000);
    const gen = informer.generation;
    kube.upsertNamespace({ name: 'team-c', labels: { [LABEL]: 'p-1' } });
    await waitFor(() => informer.has('team-c'), 'team-c added');
    assert.ok(informer.generation > gen);
    assert.deepEqual(informer.namespacesInProject('p-1'), ['team-a', 'team-a2', 'team-c']);
    kube.bookmark();
    kube.upsertNamespace({ name: 'team-b', labels: { [LABEL]: 'p-1' } }); // relabelled
    await waitFor(() => informer.projectOf('team-b') === 'p-1', 'team-b relabelled');
    kube.deleteNamespace('team-a2');
    await waitFor(() => !informer.has('team-a2'), 'team-a2 deleted');
    assert.deepEqual(informer.namespacesInProject('p-1'), ['team-a', 'team-b', 'team-c']);
    assert.equal(informer.synced(), true);
    assert.ok(
      (await metricValue(metrics, 'promgate_namespace_informer_events_total', {
        type: 'delete',
      })) >= 1,
    );
    assert.equal(kube.counters.namespaces, 3, 'no relist needed');
  });

  for (const watchGone of ['event', 'http'] as const) {
    test(`relists on 410 Gone (${watchGone}) and replaces the cache, deletions included`, async () => {
      const { kube, informer, metrics } = await rig({ watchGone });
      await informer.waitForSync(5000);
      const listsBefore = kube.counters.namespaces;
      // The watch reconnects slowly; meanwhile things change and etcd compacts.
      kube.fail('watch', { latencyMs: 300, times: 1 });
      kube.endWatches();
      await sleep(50);
      kube.deleteNamespace('team-b');
      kube.upsertNamespace('newcomer');
      kube.compact();
      await waitFor(() => informer.has('newcomer') && !informer.has('team-b'), 'relisted state');
      assert.ok(kube.counters.namespaces > listsBefore, 'relisted');
      assert.ok(
        (await metricValue(metrics, 'promgate_namespace_informer_events_total', {
          type: 'relist',
        })) >= 1,
      );
      assert.equal(informer.synced(), true);
      // And it watches again afterwards.
      kube.upsertNamespace('after-relist');
      await waitFor(() => informer.has('after-relist'), 'watching after relist');
    });
  }

  test('an expired continue token (HTTP 410 on page 2) restarts the list from the top', async () => {
    const { kube, informer } = await rig({}, {}, (k) =>
      k.fail('namespaces', { status: 410, skip: 1, times: 1 }),
    );
    assert.equal(await informer.waitForSync(5000), true);
    assert.deepEqual(informer.names(), ['kube-system', 'lonely', 'team-a', 'team-a2', 'team-b']);
    assert.equal(kube.counters.namespaces, 2 + 3, 'two pages, a 410, then three pages');
  });

  test('an ERROR 410 on an open watch (compaction) relists', async () => {
    const { kube, informer } = await rig();
    await informer.waitForSync(5000);
    const lists = kube.counters.namespaces;
    kube.expireWatches();
    await waitFor(() => kube.counters.namespaces > lists, 'relist');
    kube.upsertNamespace('later');
    await waitFor(() => informer.has('later'), 'watching again');
  });

  test('restarts after a dropped watch (client-node stops for good on errors)', async () => {
    const { kube, informer, metrics } = await rig();
    await informer.waitForSync(5000);
    kube.dropWatches();
    await waitFor(
      async () =>
        (await metricValue(metrics, 'promgate_namespace_informer_events_total', {
          type: 'error',
        })) >= 1,
      'error seen',
    );
    await waitFor(() => informer.synced() && kube.openWatches() > 0, 'restarted');
    kube.upsertNamespace('after-drop');
    await waitFor(() => informer.has('after-drop'), 'events after the restart');
  });

  test('a silently dead watch (no data, no end) is restarted by the watchdog', async () => {
    const { kube, informer, metrics } = await rig(
      {},
      { watchTimeoutSeconds: 1, watchSilenceMs: 300 },
    );
    await informer.waitForSync(5000);
    kube.fail('watch', { hang: true, times: 1 });
    kube.endWatches(); // client-node reconnects… into a hung stream
    await waitFor(() => kube.counters.watch >= 2, 'reconnected into the hang');
    kube.upsertNamespace('during-hang');
    await waitFor(() => informer.has('during-hang'), 'restarted and caught up', 5000);
    assert.ok(
      (await metricValue(metrics, 'promgate_namespace_informer_events_total', { type: 'error' })) >=
        1,
    );
    await waitFor(() => informer.synced(), 'synced again');
  });

  test('a failing API server: unsynced at once, fresh only within the tolerance, recovers with backoff', async () => {
    const { kube, informer, metrics } = await rig({}, { staleToleranceMs: 300 });
    await informer.waitForSync(5000);
    kube.fail('watch', { status: 500 });
    kube.dropWatches();
    await waitFor(() => !informer.synced(), 'unsynced');
    assert.equal(await metricValue(metrics, 'promgate_namespace_informer_synced'), 0);
    assert.equal(informer.fresh(), true, 'within the tolerance');
    await sleep(400);
    assert.equal(informer.fresh(), false, 'past the tolerance');
    const watchesDuringOutage = kube.counters.watch;
    await sleep(300);
    // Backoff: a handful of attempts, not a busy loop (max delay 100 ms → at most ~5 in 300 ms).
    assert.ok(
      kube.counters.watch - watchesDuringOutage <= 8,
      `${kube.counters.watch - watchesDuringOutage} retries`,
    );
    kube.fail('watch', null);
    await waitFor(() => informer.synced() && informer.fresh(), 'recovered');
    assert.equal(await metricValue(metrics, 'promgate_namespace_informer_synced'), 1);
  });

  test('a failing first list: never synced, never fresh; syncs when the API recovers', async () => {
    const { kube, informer } = await rig({}, {}, (k) => k.fail('namespaces', { status: 503 }));
    await sleep(150);
    assert.equal(informer.synced(), false);
    assert.equal(informer.fresh(), false);
    kube.fail('namespaces', null);
    assert.equal(await informer.waitForSync(5000), true);
    assert.equal(informer.names().length, 5);
  });

  test('stop() ends the watch and reports unsynced', async () => {
    const { kube, informer } = await rig();
    await informer.waitForSync(5000);
    await informer.stop();
    assert.equal(informer.synced(), false);
    await waitFor(() => kube.openWatches() === 0, 'watch closed');
    const requests = kube.counters.requests;
    await sleep(200);
    assert.equal(kube.counters.requests, requests, 'no restart after stop');
  });
});
