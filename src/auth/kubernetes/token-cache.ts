/**
 * The authentication cache: bearer token → identity (or "invalid"), so that a warm caller costs
 * no API-server call.
 *
 * - Keyed by HMAC-SHA256(random per-process key, token ‖ audiences): no raw token is stored.
 * - Positive answers live `positiveTtlMs`, capped by the token's own `exp` (read from the JWT
 *   payload *without* trusting it — it can only shorten the TTL); negative ones `negativeTtlMs`,
 *   in a separate, smaller LRU so that a flood of junk cannot evict good entries.
 * - Errors (API server down, 5xx, timeouts) are never cached. Concurrent misses for one key share
 *   one review.
 * - Stale-if-error: when the review of an expired positive entry fails, the old identity keeps
 *   working until `staleIfErrorMs` after its expiry (never past the token's `exp`); then, and for
 *   tokens never seen, the error propagates (503).
 *
 * @example
 *   const cache = new TokenCache({ maxEntries: 10_000, positiveTtlMs: 120_000, negativeTtlMs: 10_000,
 *     staleIfErrorMs: 300_000, audiences: ['promgate'] });
 *   const identity = await cache.get(token, () => reviewer.review(token)); // Identity | null
 */
import { createHmac, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Identity } from '../types.js';

/** What a review says about a token: its identity, or that it is not valid. */
export type ReviewOutcome =
  | { readonly kind: 'authenticated'; readonly identity: Identity }
  /** `cacheable: false` for verdicts not worth an entry (e.g. refused locally by --jwks). */
  | { readonly kind: 'invalid'; readonly cacheable?: boolean };

export type TokenCacheEvent = 'hit' | 'miss' | 'coalesced' | 'stale' | 'eviction' | 'negative_hit';

export interface TokenCacheOptions {
  readonly maxEntries: number;
  readonly positiveTtlMs: number;
  readonly negativeTtlMs: number;
  readonly staleIfErrorMs: number;
  /** Part of the cache key: the same token reviewed for other audiences is another entry. */
  readonly audiences: readonly string[];
  /** After a failed refresh, serve stale without retrying for this long (default 1 s). */
  readonly errorRetryMs?: number;
  readonly now?: () => number;
  readonly onEvent?: (event: TokenCacheEvent) => void;
}

interface Entry {
  readonly identity: Identity | null;
  /** Answer is fresh until then. */
  readonly freshUntil: number;
  /** Positive entries may be served stale on errors until then. */
  readonly staleUntil: number;
  /** While serving stale after an error: no new review before then. */
  retryAt: number;
}

/**
 * The token's `exp` in ms, decoded without verification; undefined if not a JWT or no `exp`.
 * Used only to shorten cache lifetimes, never to accept a token.
 */
export function unverifiedExpiryMs(token: string): number | undefined {
  // Cheap shape test first: decodeJwt throws on non-JWTs, and throwing is slow.
  if (token.length > 16_384 || token.split('.').length !== 3) return undefined;
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export class TokenCache {
  private readonly hmacKey = randomBytes(32);
  private readonly audienceSuffix: string;
  private readonly positive: LRUCache<string, Entry>;
  private readonly negative: LRUCache<string, Entry>;
  private readonly inflight = new Map<string, Promise<Identity | null>>();
  private readonly now: () => number;
  private readonly errorRetryMs: number;

  constructor(private readonly options: TokenCacheOptions) {
    this.now = options.now ?? Date.now;
    this.errorRetryMs = options.errorRetryMs ?? 1000;
    // Audiences are fixed per cache; length-prefixed so no token/audience split is ambiguous.
    this.audienceSuffix = options.audiences.map((a) => `${a.length}:${a}`).join('');
    const dispose = (_v: Entry, _k: string, reason: LRUCache.DisposeReason): void => {
      if (reason === 'evict') options.onEvent?.('eviction');
    };
    this.positive = new LRUCache({ max: Math.max(1, options.maxEntries), dispose });
    this.negative = new LRUCache({
      max: Math.max(1, Math.floor(options.maxEntries / 4)),
      dispose,
    });
  }

  /** Entries held (positive + negative). */
  get size(): number {
    return this.positive.size + this.negative.size;
  }

  /** The keyed hash a token is stored under. */
  keyOf(token: string): string {
    return createHmac('sha256', this.hmacKey)
      .update(token)
      .update('\0')
      .update(this.audienceSuffix)
      .digest('base64url');
  }

  /**
   * The identity for `token` (null = invalid), from the cache or from `review`. Rejects with
   * `review`'s error when it fails and no stale entry may be served.
   */
  async get(token: string, review: () => Promise<ReviewOutcome>): Promise<Identity | null> {
    const key = this.keyOf(token);
    const now = this.now();
    const hit = this.positive.get(key);
    if (hit && now < hit.freshUntil) {
      this.options.onEvent?.('hit');
      return hit.identity;
    }
    const neg = this.negative.get(key);
    if (neg && now < neg.freshUntil) {
      this.options.onEvent?.('negative_hit');
      return null;
    }
    // Expired positive entry whose last refresh failed moments ago: don't hammer the API server.
    if (hit && now < hit.retryAt && now < hit.staleUntil) {
      this.options.onEvent?.('stale');
      return hit.identity;
    }
    const pending = this.inflight.get(key);
    if (pending) {
      this.options.onEvent?.('coalesced');
      return await pending;
    }
    this.options.onEvent?.('miss');
    const promise = this.refresh(key, token, hit, review);
    this.inflight.set(key, promise);
    try {
      return await promise;
    } finally {
      this.inflight.delete(key);
    }
  }

  private async refresh(
    key: string,
    token: string,
    previous: Entry | undefined,
    review: () => Promise<ReviewOutcome>,
  ): Promise<Identity | null> {
    let outcome: ReviewOutcome;
    try {
      outcome = await review();
    } catch (err) {
      const now = this.now();
      if (previous && now < previous.staleUntil) {
        previous.retryAt = now + this.errorRetryMs;
        this.options.onEvent?.('stale');
        return previous.identity;
      }
      throw err;
    }
    const now = this.now();
    if (outcome.kind === 'invalid') {
      this.positive.delete(key);
      if (outcome.cacheable === false) return null;
      this.negative.set(key, {
        identity: null,
        freshUntil: now + this.options.negativeTtlMs,
        staleUntil: 0,
        retryAt: 0,
      });
      return null;
    }
    const exp = unverifiedExpiryMs(token);
    const freshUntil = Math.min(now + this.options.positiveTtlMs, exp ?? Infinity);
    const staleUntil = Math.min(freshUntil + this.options.staleIfErrorMs, exp ?? Infinity);
    if (freshUntil > now) {
      this.negative.delete(key);
      this.positive.set(key, { identity: outcome.identity, freshUntil, staleUntil, retryAt: 0 });
    }
    return outcome.identity;
  }
}
