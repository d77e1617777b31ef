/**
 * Options of the `kubernetes` auth mode, as parsed from flags / env / config file, and their
 * defaults. Fields marked optional were added after the first contract; when absent, the value
 * of {@link KUBERNETES_DEFAULTS} applies.
 *
 * @example
 *   const options: KubernetesOptions = { ...KUBERNETES_DEFAULTS, tenancy: 'project' };
 */
export interface KubernetesOptions {
  /** Path to a kubeconfig; undefined = in-cluster, else $KUBECONFIG, else ~/.kube/config. */
  readonly kubeconfig?: string;
  readonly tenancy: 'serviceaccount' | 'project' | 'rbac';
  /** Namespace label that names a namespace's project (default `field.cattle.io/projectId`). */
  readonly projectLabel: string;
  /** Resource checked per namespace in `rbac` mode (default group '' resource 'pods'). */
  readonly rbacResource: { readonly group: string; readonly resource: string };
  readonly rbacVerb: string;
  /** Groups whose members get scope `all`. */
  readonly clusterWideGroups: readonly string[];
  /** Cluster-scoped permission that grants scope `all` (default get namespaces); null = off. */
  readonly clusterWidePermission: {
    readonly verb: string;
    readonly group: string;
    readonly resource: string;
  } | null;
  /** TokenReview audiences; empty = the API server's default audience. */
  readonly tokenAudiences: readonly string[];
  /** Pre-check JWTs against the cluster's OIDC discovery / JWKS before TokenReview. */
  readonly jwks: boolean;
  readonly tokenCacheSize: number;
  readonly tokenCacheTtlMs: number;
  readonly tokenCacheNegativeTtlMs: number;
  /** How long a cached identity keeps working while the API server is unreachable. */
  readonly staleIfErrorMs: number;
  readonly sarCacheAllowedTtlMs: number;
  readonly sarCacheDeniedTtlMs: number;
  readonly maxConcurrentReviews: number;
  /** Timeout of each API-server call. */
  readonly apiTimeoutMs: number;

  // --- added by the kubernetes mode (optional; defaults in KUBERNETES_DEFAULTS) -------------
  /** Max SubjectAccessReview decisions kept (identity × namespace entries). */
  readonly sarCacheSize?: number;
  /** Max reviews waiting for a slot beyond `maxConcurrentReviews`; more get 503 at once. */
  readonly maxPendingReviews?: number;
  /**
   * How long, after the namespace watch broke, project/rbac scopes are still computed from the
   * last known namespace list (while the informer restarts); after that, 503.
   */
  readonly informerStaleToleranceMs?: number;
  /** Page size of namespace lists. */
  readonly namespacePageSize?: number;
  /** Background refresh interval of the JWKS (keys are also refetched on an unknown `kid`). */
  readonly jwksRefreshIntervalMs?: number;
  /** Clock skew tolerated when checking `exp` / `nbf` locally with `--jwks`. */
  readonly jwksClockToleranceSec?: number;
}

/** Defaults of every option (the flags' defaults). */
export const KUBERNETES_DEFAULTS: Required<Omit<KubernetesOptions, 'kubeconfig'>> = {
  tenancy: 'serviceaccount',
  projectLabel: 'field.cattle.io/projectId',
  rbacResource: { group: '', resource: 'pods' },
  rbacVerb: 'get',
  clusterWideGroups: [],
  clusterWidePermission: { verb: 'get', group: '', resource: 'namespaces' },
  tokenAudiences: [],
  jwks: false,
  tokenCacheSize: 10_000,
  // kube-rbac-proxy's 2 min; the TTL is further capped by each token's `exp`.
  tokenCacheTtlMs: 120_000,
  tokenCacheNegativeTtlMs: 10_000,
  staleIfErrorMs: 300_000,
  // kube-rbac-proxy: allow 5 min, deny 30 s (a new RoleBinding shows within 30 s).
  sarCacheAllowedTtlMs: 300_000,
  sarCacheDeniedTtlMs: 30_000,
  maxConcurrentReviews: 16,
  apiTimeoutMs: 5_000,
  sarCacheSize: 200_000,
  maxPendingReviews: 2_000,
  informerStaleToleranceMs: 30_000,
  namespacePageSize: 500,
  jwksRefreshIntervalMs: 600_000,
  jwksClockToleranceSec: 30,
};
