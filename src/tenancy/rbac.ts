/**
 * `rbac` tenancy: an identity sees every namespace where it may `<verb> <group/resource>`
 * (default `get pods`), decided by SubjectAccessReviews over the informer's namespaces.
 *
 * - Decisions are cached per (identity, namespace) by {@link AccessReviews} (allowed longer than
 *   denied), so a RoleBinding granted later shows after the deny TTL, a revoked one after the
 *   allow TTL.
 * - The scope is computed once per identity and shared by concurrent requests; it is memoised
 *   until the earliest of its decisions expires or the namespace set changes, so a warm request
 *   costs one map lookup.
 * - The fan-out runs at most `concurrency` reviews at a time per identity (and the client caps
 *   all reviews); the first error stops it and is thrown — a partial scope is never returned.
 *
 * @example
 *   const rbac = new RbacScopes(informer, reviews, { verb: 'get', group: '', resource: 'pods',
 *     concurrency: 16, maxIdentities: 10_000 }, metrics);
 *   await rbac.scope(identity); // { kind: 'values', values: ['team-a', 'team-b'] }
 */
import { LRUCache } from 'lru-cache';
import { identityKey } from '../auth/kubernetes/identity.js';
import type { Identity } from '../auth/types.js';
import type { Metrics } from '../metrics.js';
import { scopeOf, type Scope } from '../scope.js';
import { reviewSubject, type AccessReviews } from './access-reviews.js';
import type { NamespaceInformer } from './informer.js';

export interface RbacScopesOptions {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  /** Reviews in flight at once for one identity's fan-out. */
  readonly concurrency: number;
  /** Memoised scopes kept. */
  readonly maxIdentities: number;
  readonly now?: () => number;
}

interface Memo {
  readonly scope: Scope;
  readonly generation: number;
  readonly expiresAt: number;
}

export class RbacScopes {
  private readonly memo: LRUCache<string, Memo>;
  private readonly inflight = new Map<string, Promise<Scope>>();
  private readonly now: () => number;

  constructor(
    private readonly informer: Pick<NamespaceInformer, 'names' | 'generation'>,
    private readonly reviews: Pick<AccessReviews, 'check'>,
    private readonly options: RbacScopesOptions,
    private readonly metrics: Pick<Metrics, 'cacheEvents'>,
  ) {
    this.now = options.now ?? Date.now;
    this.memo = new LRUCache({
      max: Math.max(1, options.maxIdentities),
      dispose: (_v, _k, reason) => {
        if (reason === 'evict') metrics.cacheEvents.inc({ cache: 'scope', event: 'eviction' });
      },
    });
  }

  /** Throws {@link KubeApiError} when any review fails. */
  async scope(identity: Identity): Promise<Scope> {
    // Keyed like the reviews themselves (without the per-token credential id), so that a
    // rotated token reuses its identity's memoised scope instead of adding an entry per token.
    const key = identityKey(reviewSubject(identity));
    const memo = this.memo.get(key);
    if (memo && memo.generation === this.informer.generation && this.now() < memo.expiresAt) {
      this.metrics.cacheEvents.inc({ cache: 'scope', event: 'hit' });
      return memo.scope;
    }
    const pending = this.inflight.get(key);
    if (pending) {
      this.metrics.cacheEvents.inc({ cache: 'scope', event: 'coalesced' });
      return await pending;
    }
    this.metrics.cacheEvents.inc({ cache: 'scope', event: 'miss' });
    const promise = this.compute(key, identity);
    this.inflight.set(key, promise);
    try {
      return await promise;
    } finally {
      this.inflight.delete(key);
    }
  }

  private async compute(key: string, identity: Identity): Promise<Scope> {
    const generation = this.informer.generation;
    const names = this.informer.names();
    const allowed: string[] = [];
    let expiresAt = Infinity;
    let next = 0;
    let failure: { error: unknown } | undefined;
    const worker = async (): Promise<void> => {
      while (failure === undefined && next < names.length) {
        const namespace = names[next++];
        if (namespace === undefined) break;
        try {
          const decision = await this.reviews.check(identity, {
            namespace,
            verb: this.options.verb,
            group: this.options.group,
            resource: this.options.resource,
          });
          if (decision.allowed) allowed.push(namespace);
          expiresAt = Math.min(expiresAt, decision.expiresAt);
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    const workers = Math.max(1, Math.min(this.options.concurrency, names.length));
    await Promise.all(Array.from({ length: workers }, worker));
    if (failure) throw failure.error;
    const scope = scopeOf(allowed);
    this.memo.set(key, { scope, generation, expiresAt });
    return scope;
  }
}
