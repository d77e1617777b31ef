/** Options of the `kubernetes` auth mode, as parsed from flags / env / config file. */
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
}
