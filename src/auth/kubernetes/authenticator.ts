/**
 * The `kubernetes` {@link Authenticator}: bearer token → identity through the token cache, the
 * optional `--jwks` pre-check, and a TokenReview — in that order, so that a warm caller costs one
 * HMAC and one LRU lookup, and junk (with `--jwks`) costs no API call.
 *
 * Answers: an {@link Identity}; `null` for an invalid token (401); a 503 {@link ApiError} when the
 * API server cannot answer and no fresh-enough cached identity exists.
 *
 * @example
 *   const authn = new KubernetesAuthenticator({ cache, reviewer, precheck, metrics, report });
 *   const identity = await authn.authenticate(token, request.signal);
 */
import type { Metrics } from '../../metrics.js';
import type { Authenticator, Identity } from '../types.js';
import { toKubeApiError } from './client.js';
import type { JwksPrecheck } from './jwks.js';
import type { TokenCache } from './token-cache.js';
import type { TokenReviewer } from './tokenreview.js';
import type { TroubleReporter } from './unavailable.js';

/** Longest token reviewed; Kubernetes tokens are ~1–2 KiB. */
const MAX_TOKEN_LENGTH = 16_384;
/** Visible ASCII only: whitespace or control characters cannot be part of a bearer token. */
const TOKEN_RE = /^[\x21-\x7e]+$/;

export interface KubernetesAuthenticatorDeps {
  readonly cache: TokenCache;
  readonly reviewer: Pick<TokenReviewer, 'review'>;
  readonly precheck?: Pick<JwksPrecheck, 'check'> | undefined;
  readonly metrics: Pick<Metrics, 'cacheEvents'>;
  readonly report: TroubleReporter;
}

export class KubernetesAuthenticator implements Authenticator {
  readonly mode = 'kubernetes' as const;

  constructor(private readonly deps: KubernetesAuthenticatorDeps) {}

  async authenticate(token: string, signal?: AbortSignal): Promise<Identity | null> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || !TOKEN_RE.test(token)) {
      return null;
    }
    const { cache, reviewer, precheck, report } = this.deps;
    const lookup = cache.get(token, async () => {
      if (precheck && (await precheck.check(token)) === 'reject') {
        // Not cached: cheap to refuse again, and junk must not take cache room.
        return { kind: 'invalid', cacheable: false };
      }
      return await reviewer.review(token);
    });
    try {
      return await abortable(lookup, signal);
    } catch (err) {
      if (signal?.aborted && err === signal.reason) throw err;
      throw report.unavailable('cannot authenticate the token', toKubeApiError(err, 'TokenReview'));
    }
  }
}

/**
 * Settles with `promise`, or rejects with the signal's reason when it aborts first. The shared
 * review goes on (other callers may wait for it, and its answer is cached).
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}
