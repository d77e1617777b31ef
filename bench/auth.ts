/**
 * Benchmark of the `kubernetes` auth mode's warm path, against the Kubernetes API stand-in
 * (no real API server needed). Prints figures; asserts nothing.
 *
 * - µs per warm-cache `authenticate()` + `resolve()` call, per tenancy mode (one identity);
 * - calls/s cycling through 10,000 distinct cached identities;
 * - TokenReviews needed to warm them (one each), and heap used before / after, plus after
 *   another 10,000 identities pushed through a 10,000-entry cache (memory stays bounded).
 *
 * The end-to-end added latency versus the static mode (through the HTTP server) is measured by
 * the server's benchmark; this isolates the auth layer.
 *
 * Run: npx tsc -p tsconfig.json && node --expose-gc .build/bench/auth.js
 */
import { pino } from 'pino';
import {
  createKubernetesBackend,
  KUBERNETES_DEFAULTS,
  type KubernetesOptions,
} from '../src/auth/kubernetes/index.js';
import type { AccessBackend } from '../src/auth/types.js';
import { createMetrics } from '../src/metrics.js';
import { startKubeStandin, type KubeStandin } from '../test/k8s/standin.js';

const IDENTITIES = 10_000;
const WARM_CALLS = 200_000;
const CYCLE_CALLS = 200_000;
const LABEL = 'field.cattle.io/projectId';

const gc = (globalThis as { gc?: () => void }).gc;

function heapMiB(): string {
  gc?.();
  gc?.();
  return (process.memoryUsage().heapUsed / 2 ** 20).toFixed(1);
}

async function backendFor(
  kube: KubeStandin,
  options: Partial<KubernetesOptions>,
): Promise<AccessBackend> {
  const backend = await createKubernetesBackend(
    {
      ...KUBERNETES_DEFAULTS,
      kubeconfig: kube.kubeconfigPath,
      tokenAudiences: ['promgate'],
      tokenCacheTtlMs: 3_600_000, // nothing expires during the run
      sarCacheAllowedTtlMs: 3_600_000,
      sarCacheDeniedTtlMs: 3_600_000,
      maxConcurrentReviews: 32,
      ...options,
    },
    { metrics: createMetrics({ collectDefault: false }), logger: pino({ level: 'silent' }) },
  );
  for (let i = 0; i < 500 && !backend.ready(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!backend.ready()) throw new Error('backend not ready');
  return backend;
}

async function call(backend: AccessBackend, token: string): Promise<void> {
  const identity = await backend.authenticator.authenticate(token);
  if (!identity) throw new Error('token refused');
  await backend.scopes.resolve(identity);
}

/** Runs `n` sequential calls; returns µs per call. */
async function timeCalls(n: number, fn: (i: number) => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  return Number(process.hrtime.bigint() - start) / 1000 / n;
}

/** Runs `fn` over `items` with `concurrency` workers. */
async function pool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (t: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++];
        if (item !== undefined) await fn(item);
      }
    }),
  );
}

async function main(): Promise<void> {
  if (!gc) console.log('(run with node --expose-gc for steadier heap figures)');
  const namespaces = Array.from({ length: 50 }, (_, i) => ({
    name: `ns-${i}`,
    labels: { [LABEL]: `p-${i % 10}` },
  }));
  // ES256: signing 20,000 tokens with RS256 would dominate the run.
  const kube = await startKubeStandin({ namespaces, algorithm: 'ES256' });
  try {
    console.log(`node ${process.version}, ${namespaces.length} namespaces, stand-in over HTTPS`);
    console.log('\nwarm cache, one identity, sequential authenticate()+resolve():');
    for (const tenancy of ['serviceaccount', 'project', 'rbac'] as const) {
      const backend = await backendFor(kube, { tenancy, clusterWidePermission: null });
      const token = await kube.issueToken('ns-3/grafana', { audiences: ['promgate'] });
      const revoke = kube.grant({
        user: 'system:serviceaccount:ns-3:grafana',
        namespace: 'ns-7',
        verbs: ['get'],
        resources: ['pods'],
      });
      await call(backend, token);
      await timeCalls(20_000, () => call(backend, token)); // JIT warm-up
      const us = await timeCalls(WARM_CALLS, () => call(backend, token));
      console.log(
        `  ${tenancy.padEnd(15)} ${us.toFixed(2)} µs/call  (${Math.round(1e6 / us).toLocaleString('en')} calls/s)`,
      );
      revoke();
      await backend.close();
    }
    {
      const backend = await backendFor(kube, {
        tenancy: 'serviceaccount',
        clusterWidePermission: { verb: 'get', group: '', resource: 'namespaces' },
      });
      const token = await kube.issueToken('ns-3/grafana', { audiences: ['promgate'] });
      await call(backend, token);
      await timeCalls(20_000, () => call(backend, token));
      const us = await timeCalls(WARM_CALLS, () => call(backend, token));
      console.log(
        `  ${'sa + cw-perm'.padEnd(15)} ${us.toFixed(2)} µs/call  (cluster-wide permission check, cached)`,
      );
      await backend.close();
    }

    console.log(
      `\n${IDENTITIES.toLocaleString('en')} distinct identities (serviceaccount mode, cache size ${KUBERNETES_DEFAULTS.tokenCacheSize.toLocaleString('en')}):`,
    );
    const backend = await backendFor(kube, {
      tenancy: 'serviceaccount',
      clusterWidePermission: null,
    });
    let t0 = Date.now();
    const issue = async (prefix: string): Promise<string[]> => {
      const out: string[] = [];
      for (let i = 0; i < IDENTITIES; i++) {
        out.push(await kube.issueToken(`ns-${i % 50}/${prefix}-${i}`, { audiences: ['promgate'] }));
      }
      return out;
    };
    const tokens = await issue('sa');
    console.log(`  issued ${tokens.length.toLocaleString('en')} tokens in ${Date.now() - t0} ms`);
    const heapBefore = Number(heapMiB());
    kube.resetCounters();
    t0 = Date.now();
    await pool(tokens, 64, (t) => call(backend, t));
    const warmMs = Date.now() - t0;
    console.log(
      `  warmed in ${warmMs} ms with ${kube.counters.tokenreviews.toLocaleString('en')} TokenReviews ` +
        `over ${kube.counters.connections} connections (${Math.round((tokens.length / warmMs) * 1000).toLocaleString('en')} cold auths/s, stand-in in-process)`,
    );
    const heapWarm = Number(heapMiB());
    kube.resetCounters();
    const order = Array.from({ length: CYCLE_CALLS }, () => Math.floor(Math.random() * IDENTITIES));
    const us = await timeCalls(CYCLE_CALLS, (i) => call(backend, tokens[order[i] ?? 0] ?? ''));
    console.log(
      `  random cycling over all of them: ${us.toFixed(2)} µs/call, ${Math.round(1e6 / us).toLocaleString('en')} calls/s, ` +
        `${kube.counters.tokenreviews} TokenReviews`,
    );
    // Another 10,000 identities through the same 10,000-entry cache: memory must not grow.
    const more = await issue('more');
    const heapMore = Number(heapMiB());
    await pool(more, 64, (t) => call(backend, t));
    const heapAfter = Number(heapMiB());
    const perEntry = ((heapWarm - heapBefore) * 2 ** 20) / IDENTITIES;
    console.log(
      `  heap used by the cache: +${(heapWarm - heapBefore).toFixed(1)} MiB for ${IDENTITIES.toLocaleString('en')} identities ` +
        `(≈${Math.round(perEntry)} B each); after ${IDENTITIES.toLocaleString('en')} more went through (evicting the first): ` +
        `${heapAfter - heapMore >= 0 ? '+' : ''}${(heapAfter - heapMore).toFixed(1)} MiB`,
    );
    console.log(
      `  (heap used overall: ${heapAfter.toFixed(1)} MiB, of which the harness's token strings are part)`,
    );
    await backend.close();
  } finally {
    await kube.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
