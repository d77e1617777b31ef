/**
 * Cached SubjectAccessReviews: "may this identity <verb> <group/resource> in <namespace>?"
 * (namespace omitted = cluster scope). The review carries the identity's user, uid, groups and
 * extra, so group bindings work (REFERENCE §4.3).
 *
 * - Allowed answers are cached `allowTtlMs`, denied ones `denyTtlMs` (kube-rbac-proxy: 5 min /
 *   30 s), in one LRU bounded by `maxEntries`; concurrent checks of one question share one review.
 * - Errors are thrown ({@link KubeApiError}) and never cached; a denial that carries an
 *   `evaluationError` is answered but not cached either.
 * - Per-token `extra` is left out: `authentication.kubernetes.io/credential-id` (`JTI=<jti>` of a
 *   ServiceAccount token) names one credential, not the caller, and changes with every
 *   token rotation. It is dropped from both the review sent and the cache key, so a rotated
 *   Grafana token reuses its ServiceAccount's decisions instead of re-checking every namespace.
 *   This is safe because RBAC decides on user, groups and the resource attributes and never
 *   reads `extra`. Not supported: a webhook authorizer that decides on the credential id (it
 *   sees none from promgate, and one decision serves every token of an identity for the cache
 *   TTL). Every other key — `pod-name`, `pod-uid`, `node-name`, OIDC claims mapped into `extra` —
 *   is kept in both, since some authorizer may use it.
 *
 * @example
 *   const reviews = new AccessReviews(api, { allowTtlMs: 300_000, denyTtlMs: 30_000, maxEntries: 200_000 }, metrics);
 *   const { allowed } = await reviews.check(identity, { namespace: 'team-a', verb: 'get', group: '', resource: 'pods' });
 */
import type { V1SubjectAccessReviewSpec } from '@kubernetes/client-node';
import { LRUCache } from 'lru-cache';
import type { KubeApi } from '../auth/kubernetes/client.js';
import { identityKey } from '../auth/kubernetes/identity.js';
import type { Identity } from '../auth/types.js';
import type { Metrics } from '../metrics.js';

export interface AccessQuestion {
  /** Omitted = a cluster-scoped check. */
  readonly namespace?: string;
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
}

export interface AccessDecision {
  readonly allowed: boolean;
  /** The decision may be reused until then (ms, same clock as `now`). */
  readonly expiresAt: number;
}

export interface AccessReviewsOptions {
  readonly allowTtlMs: number;
  readonly denyTtlMs: number;
  readonly maxEntries: number;
  readonly now?: () => number;
}

/** `extra` keys that identify one credential rather than the caller (see the module comment). */
export const PER_CREDENTIAL_EXTRA: readonly string[] = Object.freeze([
  'authentication.kubernetes.io/credential-id',
]);

const reviewSubjects = new WeakMap<Identity, Identity>();

/**
 * The identity as reviewed: without {@link PER_CREDENTIAL_EXTRA} keys (the same object when it
 * has none). Memoised per identity object, so that {@link identityKey} memoises too.
 */
export function reviewSubject(identity: Identity): Identity {
  const memo = reviewSubjects.get(identity);
  if (memo) return memo;
  let subject = identity;
  const extra = identity.extra;
  if (extra && PER_CREDENTIAL_EXTRA.some((k) => Object.hasOwn(extra, k))) {
    const kept = Object.entries(extra).filter(([k]) => !PER_CREDENTIAL_EXTRA.includes(k));
    const { extra: _dropped, ...rest } = identity;
    subject = Object.freeze({
      ...rest,
      ...(kept.length > 0 ? { extra: Object.freeze(Object.fromEntries(kept)) } : {}),
    });
  }
  reviewSubjects.set(identity, subject);
  return subject;
}

export class AccessReviews {
  private readonly cache: LRUCache<string, AccessDecision>;
  private readonly inflight = new Map<string, Promise<AccessDecision>>();
  private readonly now: () => number;

  constructor(
    private readonly api: Pick<KubeApi, 'subjectAccessReview'>,
    private readonly options: AccessReviewsOptions,
    private readonly metrics: Pick<Metrics, 'accessReviews' | 'cacheEvents'>,
  ) {
    this.now = options.now ?? Date.now;
    this.cache = new LRUCache({
      max: Math.max(1, options.maxEntries),
      dispose: (_v, _k, reason) => {
        if (reason === 'evict') metrics.cacheEvents.inc({ cache: 'sar', event: 'eviction' });
      },
    });
  }

  /** The cached decision if still fresh (no API call, no metrics). */
  peek(identity: Identity, q: AccessQuestion): AccessDecision | undefined {
    const d = this.cache.get(this.keyOf(identity, q));
    return d && this.now() < d.expiresAt ? d : undefined;
  }

  async check(identity: Identity, q: AccessQuestion): Promise<AccessDecision> {
    const key = this.keyOf(identity, q);
    const cached = this.cache.get(key);
    if (cached && this.now() < cached.expiresAt) {
      this.metrics.cacheEvents.inc({ cache: 'sar', event: 'hit' });
      return cached;
    }
    const pending = this.inflight.get(key);
    if (pending) {
      this.metrics.cacheEvents.inc({ cache: 'sar', event: 'coalesced' });
      return await pending;
    }
    this.metrics.cacheEvents.inc({ cache: 'sar', event: 'miss' });
    const promise = this.review(key, identity, q);
    this.inflight.set(key, promise);
    try {
      return await promise;
    } finally {
      this.inflight.delete(key);
    }
  }

  private async review(
    key: string,
    original: Identity,
    q: AccessQuestion,
  ): Promise<AccessDecision> {
    const identity = reviewSubject(original);
    const spec: V1SubjectAccessReviewSpec = {
      user: identity.name,
      groups: [...identity.groups],
      ...(identity.uid ? { uid: identity.uid } : {}),
      ...(identity.extra
        ? { extra: Object.fromEntries(Object.entries(identity.extra).map(([k, v]) => [k, [...v]])) }
        : {}),
      resourceAttributes: {
        ...(q.namespace !== undefined ? { namespace: q.namespace } : {}),
        verb: q.verb,
        group: q.group,
        resource: q.resource,
      },
    };
    let status;
    try {
      status = await this.api.subjectAccessReview(spec);
    } catch (err) {
      this.metrics.accessReviews.inc({ result: 'error' });
      throw err;
    }
    const allowed = status.allowed === true && status.denied !== true;
    this.metrics.accessReviews.inc({ result: allowed ? 'allowed' : 'denied' });
    const now = this.now();
    if (!allowed && status.evaluationError) return { allowed, expiresAt: now };
    const decision: AccessDecision = {
      allowed,
      expiresAt: now + (allowed ? this.options.allowTtlMs : this.options.denyTtlMs),
    };
    this.cache.set(key, decision);
    return decision;
  }

  private keyOf(identity: Identity, q: AccessQuestion): string {
    return `${identityKey(reviewSubject(identity))}\0${q.namespace ?? ''}\0${q.verb}\0${q.group}\0${q.resource}`;
  }
}
