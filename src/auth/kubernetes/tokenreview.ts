/**
 * One TokenReview, interpreted (REFERENCE §4.2): `authenticated: true` with a username is an
 * identity; anything else (authenticated false or absent, `status.error`, a 400 for a malformed
 * token) is "invalid". When audiences are configured, the answer must also name at least one of
 * them in `status.audiences` and no other — an authenticator that ignored the audiences (or an
 * API server too old to know them) is refused, fail closed.
 *
 * API-server trouble (network, timeout, 5xx, 429, and our own credential refused: 401/403) is
 * thrown as {@link KubeApiError}, never turned into "invalid": the caller answers 503.
 *
 * @example
 *   const reviewer = new TokenReviewer(api, ['promgate'], metrics);
 *   const outcome = await reviewer.review(token); // { kind: 'authenticated', identity } | { kind: 'invalid' }
 */
import type { Metrics } from '../../metrics.js';
import { KubeApiError, type KubeApi } from './client.js';
import { identityFromUser } from './identity.js';
import type { ReviewOutcome } from './token-cache.js';

export class TokenReviewer {
  constructor(
    private readonly api: Pick<KubeApi, 'tokenReview'>,
    private readonly audiences: readonly string[],
    private readonly metrics: Pick<Metrics, 'tokenReviews'>,
  ) {}

  async review(token: string): Promise<ReviewOutcome> {
    let status;
    try {
      status = await this.api.tokenReview(token, this.audiences);
    } catch (err) {
      // 400 / 422: the API server refused this token's review as malformed — the token is bad,
      // not the server. (Our own request shape is fixed and tested.)
      if (err instanceof KubeApiError && (err.status === 400 || err.status === 422)) {
        this.metrics.tokenReviews.inc({ result: 'rejected' });
        return { kind: 'invalid' };
      }
      this.metrics.tokenReviews.inc({ result: 'error' });
      throw err;
    }
    const identity = status.authenticated === true ? identityFromUser(status.user) : undefined;
    if (!identity || !this.audiencesMatch(status.audiences)) {
      this.metrics.tokenReviews.inc({ result: 'rejected' });
      return { kind: 'invalid' };
    }
    this.metrics.tokenReviews.inc({ result: 'authenticated' });
    return { kind: 'authenticated', identity };
  }

  private audiencesMatch(returned: readonly string[] | undefined): boolean {
    if (this.audiences.length === 0) return true;
    if (!returned || returned.length === 0) return false;
    return returned.every((a) => this.audiences.includes(a));
  }
}
