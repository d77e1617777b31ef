/**
 * promgate's connection to the Kubernetes API: loads the kubeconfig (`--kubeconfig`, else
 * in-cluster, else `$KUBECONFIG`, else `~/.kube/config`), and wraps the few calls promgate makes
 * (TokenReview, SubjectAccessReview, namespace list, OIDC discovery and JWKS) with a deadline per
 * call, bounded concurrency, latency metrics, and errors that are safe to log.
 *
 * Safety: `ApiException.message` embeds the response body and headers, and a TokenReview reply
 * echoes the token — so errors are rebuilt into {@link KubeApiError}, whose message holds only the
 * status code, the Status `reason` and (for non-TokenReview calls) the Status `message`.
 *
 * @example
 *   const kc = loadKubeConfig(options.kubeconfig);
 *   const api = new KubeApi(kc, { timeoutMs: 5000, maxConcurrent: 16, maxPending: 2000 }, metrics);
 *   const status = await api.tokenReview(token, ['promgate']); // V1TokenReviewStatus
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  ApiException,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  Observable,
  OpenidApi,
  ServerConfiguration,
  WellKnownApi,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type V1NamespaceList,
  type V1SubjectAccessReviewSpec,
  type V1SubjectAccessReviewStatus,
  type V1TokenReviewStatus,
} from '@kubernetes/client-node';
import type { Histogram } from 'prom-client';
import type { Metrics } from '../../metrics.js';
import { KeepAliveAgents } from './keepalive.js';
import { Limiter, LimiterFullError } from './limiter.js';

const SA_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Loads the kubeconfig in the documented order. Unlike `loadFromDefault()`, never falls back to
 * `http://localhost:8080`: with no configuration at all it throws an actionable error.
 */
export function loadKubeConfig(
  path: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): KubeConfig {
  const kc = new KubeConfig();
  let source: string;
  if (path !== undefined && path !== '') {
    kc.loadFromFile(path);
    source = path;
  } else if (
    env.KUBERNETES_SERVICE_HOST &&
    env.KUBERNETES_SERVICE_PORT &&
    existsSync(SA_TOKEN_PATH)
  ) {
    kc.loadFromCluster();
    source = 'in-cluster ServiceAccount';
  } else if (env.KUBECONFIG) {
    kc.loadFromDefault();
    source = `$KUBECONFIG (${env.KUBECONFIG})`;
  } else if (existsSync(join(home, '.kube', 'config'))) {
    kc.loadFromFile(join(home, '.kube', 'config'));
    source = '~/.kube/config';
  } else {
    throw new Error(
      'no Kubernetes configuration found: pass --kubeconfig PATH, run promgate in a pod ' +
        '(in-cluster ServiceAccount), set $KUBECONFIG, or create ~/.kube/config',
    );
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new Error(`the kubeconfig from ${source} has no current cluster (set current-context)`);
  }
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
    throw new Error(
      `the kubeconfig from ${source} points at plain-HTTP ${cluster.server}; ` +
        'use https, or set insecure-skip-tls-verify: true (testing only)',
    );
  }
  return kc;
}

export type KubeOperation =
  'TokenReview' | 'SubjectAccessReview' | 'namespace list' | 'OIDC discovery' | 'JWKS';

/**
 * A failed Kubernetes API call, with a message safe to log and to show to operators (never a
 * token, never a TokenReview body).
 */
export class KubeApiError extends Error {
  constructor(
    readonly operation: KubeOperation,
    /** HTTP status, or undefined for network errors and timeouts. */
    readonly status: number | undefined,
    /** Status `reason`, or a network error code, `Timeout`, `QueueFull`, `Unexpected`. */
    readonly reason: string,
    detail: string,
    /** Seconds from a `Retry-After` header (429 / 503), if any. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`Kubernetes ${operation} failed: ${detail}`);
    this.name = 'KubeApiError';
  }

  /** Our own credential was refused (401) or lacks RBAC (403): an operator must act. */
  get isCredentialProblem(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

const REASON_RE = /^[A-Za-z]{1,64}$/;

function parseStatusBody(body: unknown): { reason?: string; message?: string } {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body) as unknown;
    } catch {
      return {};
    }
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const rec = parsed as Record<string, unknown>;
  if (rec.kind !== 'Status') return {};
  return {
    ...(typeof rec.reason === 'string' && REASON_RE.test(rec.reason) ? { reason: rec.reason } : {}),
    ...(typeof rec.message === 'string' ? { message: rec.message.slice(0, 300) } : {}),
  };
}

/** Rebuilds any error thrown by client-node into a {@link KubeApiError} with a safe message. */
export function toKubeApiError(err: unknown, operation: KubeOperation): KubeApiError {
  if (err instanceof KubeApiError) return err;
  if (err instanceof ApiException) {
    const code = typeof err.code === 'number' ? err.code : undefined;
    const { reason, message } = parseStatusBody(err.body);
    const headers = (err.headers ?? {}) as Record<string, string | undefined>;
    const retry = Number(headers['retry-after']);
    // A TokenReview Status may quote the request (e.g. 422 field errors): never its message.
    const detail =
      operation === 'TokenReview' || message === undefined
        ? `HTTP ${code ?? '?'}${reason ? ` ${reason}` : ''}`
        : `HTTP ${code ?? '?'} ${reason ?? ''}: ${message}`;
    return new KubeApiError(
      operation,
      code,
      reason ?? (code === 401 ? 'Unauthorized' : 'HTTPError'),
      detail,
      Number.isFinite(retry) && retry >= 0 ? retry : undefined,
    );
  }
  if (err instanceof LimiterFullError) {
    return new KubeApiError(operation, undefined, 'QueueFull', 'too many calls waiting');
  }
  if (err instanceof Error) {
    if (err.name === 'AbortError' || err.name === 'TimeoutError') {
      return new KubeApiError(operation, undefined, 'Timeout', 'no answer before the deadline');
    }
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) {
      return new KubeApiError(operation, undefined, code, `network error ${code}`);
    }
    return new KubeApiError(operation, undefined, 'Unexpected', `unexpected ${err.name}`);
  }
  return new KubeApiError(operation, undefined, 'Unexpected', 'unexpected error');
}

/** Per-call client-node options that abort the request at the deadline (REFERENCE §4.6). */
function deadlineOptions(signal: AbortSignal): ConfigurationOptions<ObservableMiddleware> {
  return {
    middleware: [
      {
        pre: (ctx) => {
          ctx.setSignal(signal);
          return new Observable(Promise.resolve(ctx));
        },
        post: (ctx) => new Observable(Promise.resolve(ctx)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

export interface KubeApiOptions {
  /** Deadline of each call, including the wait for a concurrency slot. */
  readonly timeoutMs: number;
  /** Concurrent TokenReviews (and, separately, SubjectAccessReviews). */
  readonly maxConcurrent: number;
  /** Calls allowed to wait for a slot; more fail at once (QueueFull). */
  readonly maxPending: number;
}

export class KubeApi {
  readonly server: string;
  private readonly authn: AuthenticationV1Api;
  private readonly authz: AuthorizationV1Api;
  private readonly core: CoreV1Api;
  private readonly wellKnown: WellKnownApi;
  private readonly openid: OpenidApi;
  private readonly reviewLimiter: Limiter;
  private readonly accessLimiter: Limiter;
  private readonly agents: KeepAliveAgents;

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly options: KubeApiOptions,
    private readonly metrics: Pick<Metrics, 'tokenReviewDuration' | 'accessReviewDuration'>,
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = cluster.server;
    // As kubeConfig.makeApiClient(), but with one keep-alive agent instead of one per request.
    this.agents = new KeepAliveAgents(2 * options.maxConcurrent + 4);
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: {
        default: {
          getName: () => 'kubeconfig with keep-alive',
          applySecurityAuthentication: async (ctx) => {
            await kubeConfig.applySecurityAuthentication(ctx);
            const agent = this.agents.reuse(ctx.getAgent());
            if (agent) ctx.setAgent(agent);
          },
        },
      },
    });
    this.authn = new AuthenticationV1Api(configuration);
    this.authz = new AuthorizationV1Api(configuration);
    this.core = new CoreV1Api(configuration);
    this.wellKnown = new WellKnownApi(configuration);
    this.openid = new OpenidApi(configuration);
    this.reviewLimiter = new Limiter(options.maxConcurrent, options.maxPending);
    this.accessLimiter = new Limiter(options.maxConcurrent, options.maxPending);
  }

  /** Closes idle connections. */
  close(): void {
    this.agents.close();
  }

  /** TokenReview; the token goes only into the request body. */
  async tokenReview(token: string, audiences: readonly string[]): Promise<V1TokenReviewStatus> {
    const body = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: audiences.length > 0 ? { token, audiences: [...audiences] } : { token },
    };
    const review = await this.call(
      'TokenReview',
      this.reviewLimiter,
      this.metrics.tokenReviewDuration,
      (opts) => this.authn.createTokenReview({ body }, opts),
    );
    return review.status ?? {};
  }

  async subjectAccessReview(spec: V1SubjectAccessReviewSpec): Promise<V1SubjectAccessReviewStatus> {
    const body = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec,
    };
    const review = await this.call(
      'SubjectAccessReview',
      this.accessLimiter,
      this.metrics.accessReviewDuration,
      (opts) => this.authz.createSubjectAccessReview({ body }, opts),
    );
    if (!review.status) {
      throw new KubeApiError('SubjectAccessReview', 201, 'NoStatus', 'reply without status');
    }
    return review.status;
  }

  async listNamespaces(params: { limit?: number; continue?: string }): Promise<V1NamespaceList> {
    return await this.call('namespace list', undefined, undefined, (opts) =>
      this.core.listNamespace(
        {
          ...(params.limit !== undefined ? { limit: params.limit } : {}),
          ...(params.continue !== undefined ? { _continue: params.continue } : {}),
        },
        opts,
      ),
    );
  }

  /** The API server's OIDC discovery document (parsed JSON). */
  async openidConfiguration(): Promise<unknown> {
    const doc: unknown = await this.call('OIDC discovery', undefined, undefined, (opts) =>
      this.wellKnown.getServiceAccountIssuerOpenIDConfiguration(opts),
    );
    return typeof doc === 'string' ? (JSON.parse(doc) as unknown) : doc;
  }

  /** The API server's own `/openid/v1/jwks` (parsed JSON). */
  async openidKeyset(): Promise<unknown> {
    const doc: unknown = await this.call('JWKS', undefined, undefined, (opts) =>
      this.openid.getServiceAccountIssuerOpenIDKeyset(opts),
    );
    return typeof doc === 'string' ? (JSON.parse(doc) as unknown) : doc;
  }

  private async call<T>(
    operation: KubeOperation,
    limiter: Limiter | undefined,
    histogram: Histogram | undefined,
    fn: (opts: ConfigurationOptions<ObservableMiddleware>) => Promise<T>,
  ): Promise<T> {
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    const timed = async (): Promise<T> => {
      const end = histogram?.startTimer();
      try {
        return await fn(deadlineOptions(signal));
      } finally {
        end?.();
      }
    };
    try {
      return limiter ? await limiter.run(timed, signal) : await timed();
    } catch (err) {
      throw toKubeApiError(err, operation);
    }
  }
}
