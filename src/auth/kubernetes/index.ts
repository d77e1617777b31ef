/**
 * The `kubernetes` auth mode (`--auth kubernetes`): ServiceAccount (and other API-server) bearer
 * tokens are authenticated by TokenReview — behind a keyed-hash cache and, with `--jwks`, a local
 * JWT pre-check — and each identity's namespaces are resolved per `--tenancy` (serviceaccount,
 * project, rbac), with cluster-wide callers getting scope *all*.
 *
 * What it needs from the cluster (RBAC for promgate's own ServiceAccount):
 * `create tokenreviews` and `create subjectaccessreviews` (ClusterRole `system:auth-delegator`),
 * `list`/`watch namespaces` for `project` and `rbac`, and `get` on `/.well-known/openid-configuration`
 * and `/openid/v1/jwks` for `--jwks` (ClusterRole `system:service-account-issuer-discovery`).
 *
 * `ready()` is false until the namespace informer has synced (project / rbac) and, with `--jwks`,
 * the signing keys were fetched.
 *
 * @example
 *   const backend = await createKubernetesBackend(
 *     { ...KUBERNETES_DEFAULTS, tenancy: 'project', kubeconfig: '/etc/promgate/kubeconfig' },
 *     { metrics, logger },
 *   );
 *   const identity = await backend.authenticator.authenticate(token); // null → 401
 *   const scope = identity && (await backend.scopes.resolve(identity));
 */
import type { Logger } from 'pino';
import type { AccessBackend } from '../types.js';
import type { Metrics } from '../../metrics.js';
import { AccessReviews } from '../../tenancy/access-reviews.js';
import { ClusterWideCheck } from '../../tenancy/cluster-wide.js';
import { NamespaceInformer } from '../../tenancy/informer.js';
import { RbacScopes } from '../../tenancy/rbac.js';
import { KubernetesScopeResolver } from '../../tenancy/resolver.js';
import { KubernetesAuthenticator } from './authenticator.js';
import { KubeApi, loadKubeConfig } from './client.js';
import { JwksPrecheck } from './jwks.js';
import { KUBERNETES_DEFAULTS, type KubernetesOptions } from './options.js';
import { TokenCache } from './token-cache.js';
import { TokenReviewer } from './tokenreview.js';
import { TroubleReporter } from './unavailable.js';

export type { KubernetesOptions } from './options.js';
export { KUBERNETES_DEFAULTS } from './options.js';

type Resolved = Required<Omit<KubernetesOptions, 'kubeconfig'>> & { kubeconfig?: string };

/** Options with defaults filled in for absent (or explicitly undefined) optional fields. */
function withDefaults(options: KubernetesOptions): Resolved {
  const out: Record<string, unknown> = { ...KUBERNETES_DEFAULTS };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  return out as Resolved;
}

function validate(o: Resolved): void {
  const positive: (keyof Resolved)[] = [
    'tokenCacheSize',
    'maxConcurrentReviews',
    'apiTimeoutMs',
    'sarCacheSize',
    'namespacePageSize',
    'jwksRefreshIntervalMs',
  ];
  const nonNegative: (keyof Resolved)[] = [
    'tokenCacheTtlMs',
    'tokenCacheNegativeTtlMs',
    'staleIfErrorMs',
    'sarCacheAllowedTtlMs',
    'sarCacheDeniedTtlMs',
    'maxPendingReviews',
    'informerStaleToleranceMs',
    'jwksClockToleranceSec',
  ];
  for (const k of positive) {
    const v = o[k];
    if (typeof v !== 'number' || !(v > 0)) throw new Error(`kubernetes option ${k} must be > 0`);
  }
  for (const k of nonNegative) {
    const v = o[k];
    if (typeof v !== 'number' || !(v >= 0)) throw new Error(`kubernetes option ${k} must be >= 0`);
  }
  if (!['serviceaccount', 'project', 'rbac'].includes(o.tenancy)) {
    throw new Error(`--tenancy must be serviceaccount, project or rbac, not ${String(o.tenancy)}`);
  }
  if (o.tenancy === 'project' && o.projectLabel === '') throw new Error('--project-label is empty');
  if (o.rbacResource.resource === '' || o.rbacVerb === '') {
    throw new Error('--rbac-resource and --rbac-verb must not be empty');
  }
  if (o.tokenAudiences.some((a) => a === '')) throw new Error('--token-audience must not be empty');
}

export async function createKubernetesBackend(
  options: KubernetesOptions,
  deps: { readonly metrics: Metrics; readonly logger: Logger },
): Promise<AccessBackend> {
  const o = withDefaults(options);
  validate(o);
  const { metrics, logger } = deps;
  const api = new KubeApi(
    loadKubeConfig(o.kubeconfig),
    {
      timeoutMs: o.apiTimeoutMs,
      maxConcurrent: o.maxConcurrentReviews,
      maxPending: o.maxPendingReviews,
    },
    metrics,
  );
  const report = new TroubleReporter(logger);

  const cache = new TokenCache({
    maxEntries: o.tokenCacheSize,
    positiveTtlMs: o.tokenCacheTtlMs,
    negativeTtlMs: o.tokenCacheNegativeTtlMs,
    staleIfErrorMs: o.staleIfErrorMs,
    audiences: o.tokenAudiences,
    onEvent: (event) => metrics.cacheEvents.inc({ cache: 'token', event }),
  });
  const precheck = o.jwks
    ? new JwksPrecheck(
        api,
        {
          audiences: o.tokenAudiences,
          clockToleranceSec: o.jwksClockToleranceSec,
          refreshIntervalMs: o.jwksRefreshIntervalMs,
          timeoutMs: o.apiTimeoutMs,
        },
        { metrics, logger },
      )
    : undefined;
  const authenticator = new KubernetesAuthenticator({
    cache,
    reviewer: new TokenReviewer(api, o.tokenAudiences, metrics),
    precheck,
    metrics,
    report,
  });

  const reviews = new AccessReviews(
    api,
    {
      allowTtlMs: o.sarCacheAllowedTtlMs,
      denyTtlMs: o.sarCacheDeniedTtlMs,
      maxEntries: o.sarCacheSize,
    },
    metrics,
  );
  const clusterWide = new ClusterWideCheck(reviews, {
    groups: o.clusterWideGroups,
    permission: o.clusterWidePermission,
  });
  const informer =
    o.tenancy === 'serviceaccount'
      ? undefined
      : new NamespaceInformer(
          api,
          {
            projectLabel: o.projectLabel,
            pageSize: o.namespacePageSize,
            staleToleranceMs: o.informerStaleToleranceMs,
          },
          { metrics, logger },
        );
  const rbac =
    o.tenancy === 'rbac' && informer
      ? new RbacScopes(
          informer,
          reviews,
          {
            verb: o.rbacVerb,
            group: o.rbacResource.group,
            resource: o.rbacResource.resource,
            concurrency: o.maxConcurrentReviews,
            maxIdentities: o.tokenCacheSize,
          },
          metrics,
        )
      : undefined;
  const scopes = new KubernetesScopeResolver({
    tenancy: o.tenancy,
    clusterWide,
    informer,
    rbac,
    metrics,
    report,
  });

  precheck?.start();
  informer?.start();
  logger.info(
    {
      server: api.server,
      tenancy: o.tenancy,
      audiences: o.tokenAudiences,
      jwks: o.jwks,
      clusterWideGroups: o.clusterWideGroups,
      clusterWidePermission: o.clusterWidePermission,
    },
    'kubernetes auth mode started',
  );

  let closed = false;
  return {
    authenticator,
    scopes,
    ready: () => !closed && (informer?.fresh() ?? true) && (precheck?.ready() ?? true),
    async close() {
      closed = true;
      precheck?.close();
      await informer?.stop();
      api.close();
    },
  };
}
