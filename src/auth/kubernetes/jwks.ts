/**
 * `--jwks`: a local pre-check of ServiceAccount JWTs against the cluster's published keys, so
 * that junk and foreign tokens are refused without a TokenReview (REFERENCE §4.4).
 *
 * - Keys come from OIDC discovery (`/.well-known/openid-configuration` → `jwks_uri`) through
 *   jose's `createRemoteJWKSet`. When `jwks_uri` is the API server's own `/openid/v1/jwks`, it is
 *   fetched through the kubeconfig connection (cluster CA, promgate's credential) whatever host
 *   the document names (in-cluster, that host is often not reachable or not trusted); any other
 *   URL is fetched with Node's fetch and the system CAs, without promgate's credential.
 * - Refused locally: non-JWTs, bad signatures, unknown keys (after one rate-limited refetch),
 *   a wrong issuer, a wrong audience (when `--token-audience` is set), expired or not-yet-valid
 *   tokens. Legacy Secret tokens (`iss: kubernetes/serviceaccount`, no `aud`/`exp`) pass on a good
 *   signature; TokenReview then applies the API server's audience rule to them.
 * - A pass is not an authentication: revocation is only seen by the TokenReview that follows.
 * - When no keys could ever be fetched, `check` throws {@link KubeApiError} (503), fail closed.
 *   Known keys keep working while the JWKS endpoint is down; refreshes run in the background,
 *   and failed fetches back off (`failureBackoffMs`) so a junk flood cannot cause a fetch storm.
 *
 * @example
 *   const precheck = new JwksPrecheck(api, { audiences: ['promgate'], ... }, { metrics, logger });
 *   precheck.start();
 *   if ((await precheck.check(token)) === 'reject') return null; // 401, no TokenReview
 */
import * as jose from 'jose';
import type { Logger } from 'pino';
import type { Metrics } from '../../metrics.js';
import { KubeApiError, toKubeApiError, type KubeApi } from './client.js';

export const LEGACY_ISSUER = 'kubernetes/serviceaccount';
/** Kubernetes signs ServiceAccount tokens with RSA or ECDSA keys. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'];
const MAX_TOKEN_LENGTH = 16_384;

export interface JwksOptions {
  /** Required audiences (any one); empty = not checked locally (the API server's default). */
  readonly audiences: readonly string[];
  readonly clockToleranceSec: number;
  /** Background refetch of the key set. */
  readonly refreshIntervalMs: number;
  /** Minimum time between refetches triggered by an unknown `kid` (default 30 s). */
  readonly cooldownMs?: number;
  /** After a failed discovery or key fetch, no new attempt for this long (default 5 s). */
  readonly failureBackoffMs?: number;
  /** Deadline of an external `jwks_uri` fetch. */
  readonly timeoutMs: number;
}

interface Discovered {
  readonly issuer: string;
  readonly keys: jose.RemoteJWKSet;
}

/** The errors by which jose says "this token is not acceptable" (as opposed to "cannot tell"). */
function isRejection(err: unknown): boolean {
  return (
    err instanceof jose.errors.JWSInvalid ||
    err instanceof jose.errors.JWTInvalid ||
    err instanceof jose.errors.JWSSignatureVerificationFailed ||
    err instanceof jose.errors.JWTExpired ||
    err instanceof jose.errors.JWTClaimValidationFailed ||
    err instanceof jose.errors.JWKSNoMatchingKey ||
    err instanceof jose.errors.JWKSMultipleMatchingKeys ||
    err instanceof jose.errors.JOSEAlgNotAllowed ||
    err instanceof jose.errors.JOSENotSupported ||
    err instanceof jose.errors.JWKInvalid
  );
}

export class JwksPrecheck {
  private discovered: Discovered | undefined;
  private discovering: Promise<Discovered> | undefined;
  private lastFailureAt = -Infinity;
  private lastWarnAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private readonly failureBackoffMs: number;

  constructor(
    private readonly api: Pick<KubeApi, 'openidConfiguration' | 'openidKeyset'>,
    private readonly options: JwksOptions,
    private readonly deps: {
      readonly metrics: Pick<Metrics, 'jwksRefreshes'>;
      readonly logger: Logger;
    },
  ) {
    this.failureBackoffMs = options.failureBackoffMs ?? 5_000;
  }

  /** Starts discovery and the background refresh. */
  start(): void {
    this.ensure()
      .then((d) => d.keys.reload())
      .catch(() => {
        /* logged by fetchKeys / discover; retried on demand */
      });
    this.timer = setInterval(() => {
      if (!this.discovered) return;
      this.discovered.keys.reload().catch(() => {
        /* logged in fetchKeys; known keys keep working */
      });
    }, this.options.refreshIntervalMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** True once keys have been fetched. */
  ready(): boolean {
    return this.discovered?.keys.jwks() !== undefined;
  }

  /**
   * 'ok' when `token` is a JWT signed by the cluster with acceptable claims, 'reject' when it
   * is not. Throws {@link KubeApiError} when the keys cannot be had.
   */
  async check(token: string): Promise<'ok' | 'reject'> {
    if (token.length > MAX_TOKEN_LENGTH || token.split('.').length !== 3) return 'reject';
    let iss: unknown;
    try {
      iss = jose.decodeJwt(token).iss;
    } catch {
      return 'reject';
    }
    const { issuer, keys } = await this.ensure();
    const legacy = iss === LEGACY_ISSUER;
    try {
      await jose.jwtVerify(token, keys, {
        algorithms: ALGORITHMS,
        issuer: legacy ? LEGACY_ISSUER : issuer,
        clockTolerance: this.options.clockToleranceSec,
        ...(!legacy && this.options.audiences.length > 0
          ? { audience: [...this.options.audiences] }
          : {}),
      });
      return 'ok';
    } catch (err) {
      if (isRejection(err)) return 'reject';
      throw err instanceof KubeApiError
        ? err
        : new KubeApiError('JWKS', undefined, 'Unavailable', 'cluster signing keys unavailable');
    }
  }

  private async ensure(): Promise<Discovered> {
    if (this.discovered) return this.discovered;
    if (!this.discovering) {
      if (performance.now() - this.lastFailureAt < this.failureBackoffMs) {
        throw new KubeApiError('OIDC discovery', undefined, 'Backoff', 'retrying shortly');
      }
      this.discovering = this.discover().finally(() => {
        this.discovering = undefined;
      });
    }
    return await this.discovering;
  }

  private async discover(): Promise<Discovered> {
    let doc: unknown;
    try {
      doc = await this.api.openidConfiguration();
    } catch (err) {
      const e = toKubeApiError(err, 'OIDC discovery');
      this.failed(e.message, 'discovery_error');
      throw e;
    }
    const rec = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
    const issuer = rec.issuer;
    const jwksUri = rec.jwks_uri;
    let url: URL | undefined;
    try {
      url = typeof jwksUri === 'string' ? new URL(jwksUri) : undefined;
    } catch {
      url = undefined;
    }
    if (typeof issuer !== 'string' || issuer === '' || !url || url.protocol !== 'https:') {
      const e = new KubeApiError(
        'OIDC discovery',
        200,
        'Invalid',
        'the discovery document lacks an issuer or an https jwks_uri',
      );
      this.failed(e.message, 'discovery_error');
      throw e;
    }
    const viaApiServer = url.pathname === '/openid/v1/jwks';
    const keys = jose.createRemoteJWKSet(url, {
      cacheMaxAge: Infinity, // refreshed by the timer; stale keys beat no keys during an outage
      cooldownDuration: this.options.cooldownMs ?? 30_000,
      timeoutDuration: this.options.timeoutMs,
      [jose.customFetch]: (href, init) => this.fetchKeys(href, init, viaApiServer),
    });
    this.discovered = { issuer, keys };
    this.deps.logger.info(
      { issuer, jwksUri: url.href, viaApiServer },
      'kubernetes: OIDC discovery done; JWT pre-check enabled',
    );
    return this.discovered;
  }

  private async fetchKeys(
    href: string,
    init: { headers: Headers; signal: AbortSignal },
    viaApiServer: boolean,
  ): Promise<Response> {
    if (performance.now() - this.lastFailureAt < this.failureBackoffMs) {
      throw new KubeApiError('JWKS', undefined, 'Backoff', 'retrying shortly');
    }
    try {
      let body: unknown;
      if (viaApiServer) {
        body = await this.api.openidKeyset();
      } else {
        const res = await fetch(href, {
          headers: init.headers,
          signal: init.signal,
          redirect: 'manual',
        });
        if (res.status !== 200) {
          throw new KubeApiError(
            'JWKS',
            res.status,
            'HTTPError',
            `HTTP ${res.status} from ${href}`,
          );
        }
        body = await res.json();
      }
      this.deps.metrics.jwksRefreshes.inc({ result: 'ok' });
      return new Response(JSON.stringify(body), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    } catch (err) {
      const e = toKubeApiError(err, 'JWKS');
      this.failed(e.message, 'error');
      throw e;
    }
  }

  private failed(message: string, result: 'error' | 'discovery_error'): void {
    this.lastFailureAt = performance.now();
    this.deps.metrics.jwksRefreshes.inc({ result });
    if (this.lastFailureAt - this.lastWarnAt > 30_000) {
      this.lastWarnAt = this.lastFailureAt;
      this.deps.logger.warn({ err: message }, 'kubernetes: cannot fetch the cluster signing keys');
    }
  }
}
