/**
 * The Kubernetes {@link ScopeResolver}: identity → the namespaces it may see.
 *
 * 1. Cluster-wide callers (a configured group, or the cluster-scoped permission) get *all*.
 * 2. Otherwise, by `--tenancy`:
 *    - `serviceaccount`: the ServiceAccount's own namespace;
 *    - `project`: the namespaces sharing its namespace's project label (see project.ts);
 *    - `rbac`: the namespaces where it may get the configured resource (see rbac.ts).
 *    Non-ServiceAccount users get an empty scope (403) in the first two modes.
 *
 * When the answer is unknown — the API server cannot answer a review, or the namespace informer
 * is not fresh — it throws a 503 {@link ApiError}: never an empty (or partial) scope.
 *
 * @example
 *   const scopes = new KubernetesScopeResolver({ tenancy: 'project', informer, clusterWide, metrics, report });
 *   await scopes.resolve(identity); // { kind: 'values', values: ['team-a', 'team-a-dev'] }
 */
import { ApiError } from '../errors.js';
import { toKubeApiError } from '../auth/kubernetes/client.js';
import { abortable } from '../auth/kubernetes/authenticator.js';
import type { TroubleReporter } from '../auth/kubernetes/unavailable.js';
import type { Identity, ScopeResolver } from '../auth/types.js';
import type { Metrics } from '../metrics.js';
import { ALL, scopeOf, type Scope } from '../scope.js';
import type { ClusterWideCheck } from './cluster-wide.js';
import type { NamespaceInformer } from './informer.js';
import { projectNamespaces } from './project.js';
import type { RbacScopes } from './rbac.js';

export type Tenancy = 'serviceaccount' | 'project' | 'rbac';

export interface KubernetesScopeResolverDeps {
  readonly tenancy: Tenancy;
  readonly clusterWide: Pick<ClusterWideCheck, 'isClusterWide'>;
  /** Required for `project` and `rbac`. */
  readonly informer?: Pick<NamespaceInformer, 'fresh' | 'projectOf' | 'namespacesInProject'>;
  /** Required for `rbac`. */
  readonly rbac?: Pick<RbacScopes, 'scope'>;
  readonly metrics: Pick<Metrics, 'scopeSize'>;
  readonly report: TroubleReporter;
}

const EMPTY = scopeOf([]);

export class KubernetesScopeResolver implements ScopeResolver {
  constructor(private readonly deps: KubernetesScopeResolverDeps) {
    if (deps.tenancy !== 'serviceaccount' && !deps.informer) {
      throw new Error(`tenancy ${deps.tenancy} needs the namespace informer`);
    }
    if (deps.tenancy === 'rbac' && !deps.rbac) throw new Error('tenancy rbac needs RbacScopes');
  }

  async resolve(identity: Identity, signal?: AbortSignal): Promise<Scope> {
    let scope: Scope;
    try {
      scope = await abortable(this.compute(identity), signal);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (signal?.aborted && err === signal.reason) throw err;
      throw this.deps.report.unavailable(
        "cannot work out the caller's namespaces",
        toKubeApiError(err, 'SubjectAccessReview'),
      );
    }
    if (scope.kind === 'values') this.deps.metrics.scopeSize.observe(scope.values.length);
    return scope;
  }

  private async compute(identity: Identity): Promise<Scope> {
    if (await this.deps.clusterWide.isClusterWide(identity)) return ALL;
    const sa = identity.serviceAccount;
    switch (this.deps.tenancy) {
      case 'serviceaccount':
        return sa ? scopeOf([sa.namespace]) : EMPTY;
      case 'project': {
        const informer = this.freshInformer();
        return sa ? scopeOf(projectNamespaces(informer, sa.namespace)) : EMPTY;
      }
      case 'rbac': {
        this.freshInformer();
        if (!this.deps.rbac) throw new Error('unreachable: rbac tenancy without RbacScopes');
        return await this.deps.rbac.scope(identity);
      }
    }
  }

  private freshInformer(): Pick<NamespaceInformer, 'projectOf' | 'namespacesInProject'> {
    const informer = this.deps.informer;
    if (!informer?.fresh()) {
      throw new ApiError(
        503,
        'unavailable',
        'the namespace list from the Kubernetes API server is not in sync yet; retry later',
        { 'retry-after': '2' },
      );
    }
    return informer;
  }
}
