/**
 * promgate's HTTP server: the tenant listener (the Prometheus API, enforced) and the operator
 * listener (`/metrics`, `/healthz`, `/readyz`).
 *
 * Tenant pipeline, per request (DESIGN.md):
 *   route table on the raw path (404 before anything else; 405 for a wrong method)
 *   → credentials (401) → identity (401 / 503) → scope (403 when empty) → concurrency (429)
 *   → body (size-limited, urlencoded or protobuf only) → parameters → narrowing (403)
 *   → the route's handler rebuilds and forwards the upstream request
 *   → metrics and one structured log line.
 *
 * @example
 *   const config = buildConfig(['--upstream', 'http://127.0.0.1:9090', '--tokens-file', 't.yaml',
 *     '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0']);
 *   const promgate = await startPromgate(config);
 *   await fetch(`${promgate.url}/api/v1/query?query=up`, { headers: { authorization: 'Bearer …' } });
 *   await promgate.close();
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { pino, type DestinationStream, type Logger } from 'pino';
import { createStaticBackend } from './auth/static.js';
import type { AccessBackend, Identity } from './auth/types.js';
import type { Config, HostPort, PromQLConfig } from './config/index.js';
import { ApiError, errorBody, forbidden, notFound, unauthorized, unavailable } from './errors.js';
import { formBody, rawBodyParser } from './http/body.js';
import { LineBuffer, requestLogger, SERVICE, type RequestLine } from './http/log.js';
import { readToken } from './http/credentials.js';
import { NARROW_HEADER, NARROW_PARAM, narrow, requestedValues } from './http/narrowing.js';
import { Params, parseForm } from './http/params.js';
import { createMetrics, type Metrics } from './metrics.js';
import { PromQLError, policyFrom, type EnforceTarget, type PromQLPolicy } from './promql/index.js';
import {
  HANDLERS,
  matchRoute,
  rawQueryString,
  type Family,
  type RouteContext,
  type RouteMatch,
} from './routes/index.js';
import { startOpsServer, type OpsServer } from './routes/ops.js';
import type { Scope } from './scope.js';
import { createUpstream, type Exchange, type Upstream } from './upstream.js';

export { buildConfig, ConfigError, type Config } from './config/index.js';

export interface StartOptions {
  /** Use this logger (default: pino at the configured level, to `logStream` or stdout). */
  readonly logger?: Logger;
  readonly logStream?: DestinationStream;
  readonly metrics?: Metrics;
  /** Use this auth backend instead of building one from `config.auth`. */
  readonly backend?: AccessBackend;
}

export interface Promgate {
  /** Tenant listener, e.g. `http://127.0.0.1:40123` (`https:` with TLS). */
  readonly url: string;
  /** Operator listener: `/metrics`, `/healthz`, `/readyz`. */
  readonly metricsUrl: string;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Ready: config loaded, backend ready, upstream answered recently, not shutting down. */
  ready(): boolean;
  /**
   * Graceful shutdown: readiness goes false, (after --shutdown-delay) the listener stops
   * accepting, in-flight requests get up to --shutdown-timeout to finish, then everything
   * is closed. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Everything promgate knows about one tenant request, from routing to the log line. A class
 * with a fixed shape (fields set up front): one allocation per request, no per-request
 * AbortController unless someone asks for a signal.
 */
class RequestState implements Exchange {
  /** performance.now() at arrival (a double: no BigInt allocations on the hot path). */
  readonly started = performance.now();
  family = 'none';
  route: RouteMatch | undefined = undefined;
  identity: Identity | undefined = undefined;
  scope: Scope | undefined = undefined;
  scopeSize: number | 'all' | undefined = undefined;
  authMs: number | undefined = undefined;
  queries: [string, string][] | undefined = undefined;
  bytes = 0;
  upstreamSeconds: number | undefined = undefined;
  /** Frees the identity's concurrency slot. */
  release: (() => void) | undefined = undefined;
  private controller: AbortController | undefined = undefined;
  private gone = false;

  /** Aborted when the caller goes away (created on first use; aborted already if it has). */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.gone) this.controller.abort();
    }
    return this.controller.signal;
  }

  abort(): void {
    this.gone = true;
    this.controller?.abort();
  }

  noteQuery(name: string, text: string): void {
    (this.queries ??= []).push([name, text]);
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    promgate: RequestState | null;
  }
}

const NO_QUERY = Object.freeze({});
const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** The engine's policy from the configured limits. */
export function policyOf(promql: PromQLConfig): PromQLPolicy {
  return policyFrom({
    maxQueryBytes: promql.maxQueryBytes,
    maxDepth: promql.maxDepth,
    maxSelectors: promql.maxSelectors,
    maxRangeMs: promql.maxRangeMs,
    experimentalFunctions: promql.experimentalFunctions,
    allowInfo: promql.allowInfo,
    upstreamMajor: promql.upstreamMajor,
    deniedFunctions: promql.deniedFunctions,
    strictScope: promql.strictScope,
  });
}

export async function startPromgate(config: Config, options: StartOptions = {}): Promise<Promgate> {
  // Buffered stdout: one write per 16 KiB of log lines instead of one per request. Flushed
  // at shutdown and process exit.
  const stdoutDestination = options.logger || options.logStream ? undefined : new LineBuffer();
  const logger =
    options.logger ??
    pino(
      {
        level: config.log.level,
        // The request line (http/log.ts) is written in this same format by hand.
        base: { service: SERVICE },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        // Defence in depth: promgate never logs headers, but a stray object must not leak one.
        redact: {
          paths: [
            'authorization',
            '*.authorization',
            'headers.authorization',
            '*.headers.authorization',
            'token',
          ],
          censor: '[redacted]',
        },
      },
      options.logStream ?? stdoutDestination,
    );
  for (const w of config.warnings) logger.warn(w);
  // Request lines are written straight into the destination of a logger promgate built.
  const requestLog = requestLogger(
    logger,
    options.logger ? undefined : (options.logStream ?? stdoutDestination),
  );
  const metrics = options.metrics ?? createMetrics();
  const policy = policyOf(config.promql);

  const backend =
    options.backend ??
    (config.auth.mode === 'static'
      ? await createStaticBackend(
          { path: config.auth.tokensFile, pollIntervalMs: config.filePollIntervalMs },
          { metrics, logger },
        )
      : // Loaded only when used: the Kubernetes client is large and slow to import.
        await (
          await import('./auth/kubernetes/index.js')
        ).createKubernetesBackend(config.auth.kubernetes, { metrics, logger }));
  let closing = false;
  const upstream = await createUpstream(config.upstream, {
    metrics,
    logger,
    pollIntervalMs: config.filePollIntervalMs,
    closing: () => closing,
  });

  const tenant = await buildTenantApp({
    config,
    logger,
    metrics,
    backend,
    upstream,
    policy,
    requestLog,
    closing: () => closing,
  });
  const tlsReload = config.server.tls ? watchTls(tenant, config, logger) : undefined;
  try {
    await tenant.listen({ host: config.listen.host, port: config.listen.port });
  } catch (e) {
    await Promise.allSettled([upstream.close(), backend.close()]);
    throw new Error(
      `cannot listen on ${hostPortText(config.listen)} (--listen): ${(e as Error).message}`,
    );
  }
  upstream.startProbe();
  const ready = (): boolean => !closing && backend.ready() && upstream.reachable();
  let ops: OpsServer;
  try {
    ops = await startOpsServer(config.metricsListen, {
      metrics,
      readiness: () => ({
        shuttingDown: closing,
        backend: backend.ready(),
        upstream: upstream.reachable(),
      }),
    });
  } catch (e) {
    await tenant.close();
    await Promise.allSettled([upstream.close(), backend.close()]);
    throw new Error(
      `cannot listen on ${hostPortText(config.metricsListen)} (--metrics-listen): ${(e as Error).message}`,
    );
  }
  const url = listenerUrl(
    tenant.server.address() as AddressInfo,
    config.server.tls ? 'https' : 'http',
  );
  logger.info(
    {
      listen: url,
      metrics: ops.url,
      upstream: config.upstream.url.origin + config.upstream.url.pathname,
      auth: config.auth.mode,
      label: config.label,
    },
    'promgate started',
  );
  // Whoever waits for this line (an operator, a test) should not wait for the buffer.
  stdoutDestination?.flush();

  let closed: Promise<void> | undefined;
  return {
    url,
    metricsUrl: ops.url,
    metrics,
    logger,
    ready,
    close() {
      closed ??= (async () => {
        closing = true;
        logger.info('shutting down: readiness off, draining in-flight requests');
        if (config.server.shutdownDelayMs > 0) await sleep(config.server.shutdownDelayMs);
        const force = setTimeout(() => {
          logger.warn('shutdown deadline reached: closing the remaining connections');
          tenant.server.closeAllConnections();
        }, config.server.shutdownTimeoutMs);
        force.unref();
        // Connections that were busy when closing began go idle later: close them then.
        const idle = setInterval(() => tenant.server.closeIdleConnections(), 100);
        await tenant.close();
        clearInterval(idle);
        clearTimeout(force);
        clearInterval(tlsReload);
        await Promise.allSettled([upstream.close(), backend.close(), ops.close()]);
        logger.info('promgate stopped');
        stdoutDestination?.close();
      })();
      return closed;
    },
  };
}

interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly backend: AccessBackend;
  readonly upstream: Upstream;
  readonly policy: PromQLPolicy;
  readonly requestLog: (line: RequestLine) => void;
  /** True once shutdown began: answers then close their connection. */
  readonly closing: () => boolean;
}

async function buildTenantApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, metrics, backend, upstream, policy } = deps;
  const label = config.label;
  const logQueries = config.log.queries || deps.logger.isLevelEnabled('debug');
  const tls = config.server.tls
    ? {
        cert: await readFile(config.server.tls.certFile),
        key: await readFile(config.server.tls.keyFile),
      }
    : null;
  const app = Fastify({
    loggerInstance: deps.logger,
    // promgate writes its own single line per request (see finish()), with the request id.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    // No child logger per request: nothing logs through request.log on the hot path.
    childLoggerFactory: (logger) => logger,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      if (typeof given !== 'string' || !REQUEST_ID.test(given)) return randomUUID();
      // An id that carries the caller's own credential would put it in the log line.
      const token = presentedToken(req.headers.authorization);
      return token !== undefined && given.includes(token) ? randomUUID() : given;
    },
    bodyLimit: config.limits.maxBodyBytes,
    keepAliveTimeout: config.server.idleTimeoutMs,
    requestTimeout: config.server.requestTimeoutMs,
    return503OnClosing: true,
    exposeHeadRoutes: false,
    // promgate reads the raw query string itself (http/params.ts): skip Fastify's parse.
    routerOptions: { querystringParser: () => NO_QUERY },
    ...(tls ? { https: tls } : {}),
    frameworkErrors: (error, _request, reply) => {
      // e.g. a malformed percent-escape in the path: no such route.
      const r = reply as unknown as FastifyReply;
      void r
        .code(404)
        .type('application/json')
        .send(errorBody('not_found', `no such endpoint (${error.code})`));
    },
  }) as unknown as FastifyInstance;
  app.server.headersTimeout = Math.min(
    config.server.headerTimeoutMs,
    config.server.requestTimeoutMs || Number.MAX_SAFE_INTEGER,
  );

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    rawBodyParser(() => config.limits.maxBodyBytes),
  );
  app.decorateRequest('promgate', null);

  const perIdentity = new Map<string, number>();
  const targets = new ScopeTargets(label);

  app.addHook('onRequest', async (request, reply) => {
    const state = new RequestState();
    request.promgate = state;
    const res = reply.raw;
    // Answers sent through Fastify; forwarded answers add it themselves (upstream.ts), in
    // the header list they write at once (a header set on the raw response beforehand
    // would send every upstream header through setHeader again).
    void reply.header('x-request-id', request.id);
    // While draining, keep-alive connections must not outlive their last answer.
    if (deps.closing()) res.setHeader('connection', 'close');
    const url = request.raw.url ?? '';
    const route = matchRoute(url);
    if (route) {
      state.route = route;
      state.family = route.family;
    }
    metrics.inFlight.inc({ route: state.family });
    res.on('close', () => {
      if (!res.writableFinished) state.abort();
      metrics.inFlight.dec({ route: state.family });
      state.release?.();
      finish(deps, request, res, state, logQueries);
    });
    if (!route) throw notFound(`no such endpoint: ${request.method} ${pathOf(url)}`);
    if (!(route.methods as readonly string[]).includes(request.method)) {
      throw new ApiError(
        405,
        'bad_data',
        `method ${request.method} not allowed here; use ${route.methods.join(' or ')}`,
        {
          allow: route.methods.join(', '),
        },
      );
    }
    if (request.method === 'GET' && hasBody(request)) {
      throw new ApiError(
        400,
        'bad_data',
        'a GET request must not have a body; send parameters in the query string, or POST a form',
      );
    }

    // Authentication and scope.
    const authStarted = performance.now();
    const authenticator = backend.authenticator;
    const mode = authenticator.mode;
    let token: string;
    try {
      token = readToken(request.headers.authorization).token;
    } catch (e) {
      metrics.authResults.inc({
        mode,
        outcome: request.headers.authorization ? 'malformed' : 'missing',
      });
      throw e;
    }
    // In-memory static tokens need no cancellation signal (creating one costs per request).
    const signal = mode === 'static' ? undefined : state.signal;
    let identity: Identity | null;
    try {
      identity = await authenticator.authenticate(token, signal);
    } catch (e) {
      metrics.authResults.inc({ mode, outcome: 'unavailable' });
      throw asUnavailable(e, 'authentication');
    }
    if (identity === null) {
      metrics.authResults.inc({ mode, outcome: 'invalid' });
      throw unauthorized('invalid token');
    }
    metrics.authResults.inc({ mode, outcome: 'ok' });
    state.identity = identity;
    let scope: Scope;
    try {
      scope = await backend.scopes.resolve(identity, signal);
    } catch (e) {
      throw asUnavailable(e, 'authorization');
    }
    state.authMs = performance.now() - authStarted;
    state.scope = scope;
    state.scopeSize = scope.kind === 'all' ? 'all' : scope.values.length;
    if (scope.kind === 'values') {
      metrics.scopeSize.observe(scope.values.length);
      if (scope.values.length === 0) {
        metrics.authzDenials.inc({ reason: 'empty_scope' });
        throw forbidden(`no ${label} is accessible to ${identity.name}`);
      }
    }
    const limit = config.limits.maxConcurrentPerIdentity;
    if (limit > 0) {
      const name = identity.name;
      const current = perIdentity.get(name) ?? 0;
      if (current >= limit) {
        metrics.authzDenials.inc({ reason: 'concurrency' });
        throw new ApiError(
          429,
          'too_many_requests',
          `too many concurrent requests for ${name} (limit ${limit}); retry shortly`,
          {
            'retry-after': '1',
          },
        );
      }
      perIdentity.set(name, current + 1);
      state.release = () => {
        state.release = undefined;
        const n = (perIdentity.get(name) ?? 1) - 1;
        if (n <= 0) perIdentity.delete(name);
        else perIdentity.set(name, n);
      };
    }
  });

  // Answers sent through Fastify (errors, filtered JSON): count their bytes. Forwarded
  // answers are written to the raw response by upstream.ts, which counts them itself.
  app.addHook('onSend', (request, reply, payload, done) => {
    // While draining, keep-alive connections must not outlive their last answer.
    if (deps.closing()) void reply.header('connection', 'close');
    const state = request.promgate;
    if (state) {
      if (typeof payload === 'string') state.bytes += Buffer.byteLength(payload);
      else if (Buffer.isBuffer(payload)) state.bytes += payload.length;
    }
    done(null, payload);
  });

  app.setErrorHandler((error, request, reply) => {
    const e = toApiError(error);
    if (e.status >= 500 && e.status !== 503)
      deps.logger.error(
        { reqId: request.id, err: error instanceof Error ? error.message : String(error) },
        'request failed',
      );
    for (const [k, v] of Object.entries(e.headers)) void reply.header(k, v);
    void reply.code(e.status).type('application/json').send(errorBody(e.errorType, e.message));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .type('application/json')
      .send(errorBody('not_found', `no such endpoint: ${pathOf(request.raw.url ?? '')}`));
  });

  const shared: Shared = {
    policy,
    upstream,
    metrics,
    logger: deps.logger,
    limits: config.limits,
    upstreamTimeoutMs: config.upstream.timeoutMs,
    logQueries,
  };
  app.route({
    method: [...METHODS],
    url: '*',
    // Not async: the answer is sent later (forwarded or through reply.send), and returning
    // nothing keeps Fastify from waiting on the reply as a promise.
    handler: (request, reply) => {
      const state = request.promgate as RequestState;
      const route = state.route as RouteMatch;
      const urlPairs = parseForm(rawQueryString(request.raw.url ?? ''), 'URL');
      const bodyPairs = route.family === 'read' ? [] : formBody(request);
      const params = new Params(urlPairs, bodyPairs);
      let scope = state.scope as Scope;
      const header = request.headers[NARROW_HEADER];
      if (header !== undefined || params.has(NARROW_PARAM)) {
        try {
          scope = targets.canonical(
            narrow(scope, requestedValues(params.all(NARROW_PARAM), header), label),
          );
        } catch (e) {
          if (e instanceof ApiError && e.status === 403)
            metrics.authzDenials.inc({ reason: 'narrowing' });
          throw e;
        }
        if (scope !== state.scope)
          state.scopeSize = scope.kind === 'all' ? 'all' : scope.values.length;
      }
      const done = HANDLERS[route.family](
        new RouteCall(request, reply, route, params, scope, targets.of(scope), shared, state),
      );
      // Asynchronous handlers (filtered answers) report their errors here.
      if (done !== undefined) done.catch((e: unknown) => reply.send(toError(e)));
    },
  });
  return app;
}

/** What every route call shares. */
interface Shared {
  readonly policy: PromQLPolicy;
  readonly upstream: Upstream;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly limits: RouteContext['limits'];
  readonly upstreamTimeoutMs: number;
  readonly logQueries: boolean;
}

/** The RouteContext of one request: a class, so that one allocation carries it all. */
class RouteCall implements RouteContext {
  constructor(
    readonly request: FastifyRequest,
    readonly reply: FastifyReply,
    readonly route: RouteMatch,
    readonly params: Params,
    readonly scope: Scope,
    readonly target: EnforceTarget | null,
    private readonly shared: Shared,
    readonly exchange: RequestState,
  ) {}

  get family(): Family {
    return this.route.family;
  }
  get policy(): PromQLPolicy {
    return this.shared.policy;
  }
  get upstream(): Upstream {
    return this.shared.upstream;
  }
  get metrics(): Metrics {
    return this.shared.metrics;
  }
  get logger(): Logger {
    return this.shared.logger;
  }
  get limits(): RouteContext['limits'] {
    return this.shared.limits;
  }
  get upstreamTimeoutMs(): number {
    return this.shared.upstreamTimeoutMs;
  }
  get signal(): AbortSignal {
    return this.exchange.signal;
  }
  noteQuery(name: string, text: string): void {
    // Kept only when the line will show them.
    if (this.shared.logQueries) this.exchange.noteQuery(name, text);
  }
}

/**
 * The engine caches the enforced matcher per EnforceTarget object: one target per scope
 * object (scopes come from the backend's caches, so the same object recurs), and one scope
 * object per distinct narrowing.
 */
class ScopeTargets {
  private readonly targets = new WeakMap<Scope, EnforceTarget>();
  private readonly narrowed = new Map<string, Scope>();

  constructor(private readonly label: string) {}

  /** What to enforce for a scope; null for cluster-wide (no rewriting). */
  of(scope: Scope): EnforceTarget | null {
    if (scope.kind === 'all') return null;
    let target = this.targets.get(scope);
    if (target === undefined) {
      target = { label: this.label, values: scope.values };
      this.targets.set(scope, target);
    }
    return target;
  }

  /** The one scope object for this set of values (bounded: forgotten beyond 1,000). */
  canonical(scope: Scope): Scope {
    if (scope.kind === 'all') return scope;
    const key = JSON.stringify(scope.values);
    const known = this.narrowed.get(key);
    if (known !== undefined) return known;
    if (this.narrowed.size >= 1000) this.narrowed.clear();
    this.narrowed.set(key, scope);
    return scope;
  }
}

/** Metrics and the one log line of a finished (or abandoned) request. */
function finish(
  deps: AppDeps,
  request: FastifyRequest,
  res: FastifyReply['raw'],
  state: RequestState,
  logQueries: boolean,
): void {
  const seconds = (performance.now() - state.started) / 1000;
  const status = res.writableFinished ? res.statusCode : 499;
  const route = state.family;
  const metrics = deps.metrics;
  // Client-chosen text in the log line must not echo the caller's own credential.
  const token = presentedToken(request.headers.authorization);
  metrics.httpRequests.inc({ route, method: request.method, code: String(status) });
  metrics.httpDuration.observe({ route }, seconds);
  metrics.responseBytes.inc({ route }, state.bytes);
  deps.requestLog({
    reqId: request.id,
    route,
    method: request.method,
    status,
    identity: state.identity?.name,
    scope: state.scopeSize,
    durationMs: round(seconds * 1000),
    authMs: state.authMs === undefined ? undefined : round(state.authMs),
    upstreamMs:
      state.upstreamSeconds === undefined ? undefined : round(state.upstreamSeconds * 1000),
    bytes: state.bytes,
    userAgent: redact(request.headers['user-agent'], token, 256),
    remote: request.raw.socket?.remoteAddress,
    queries:
      logQueries && state.queries
        ? state.queries.map(([name, text]) => [name, redact(text, token, Infinity) ?? ''] as const)
        : undefined,
  });
}

/** The credential the caller presented, if it sent a well-formed one. */
function presentedToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  try {
    return readToken(header).token;
  } catch {
    return undefined;
  }
}

/** `text` with every occurrence of `token` replaced, cut to `max` characters. */
function redact(
  text: string | undefined,
  token: string | undefined,
  max: number,
): string | undefined {
  if (text === undefined) return undefined;
  const clean =
    token !== undefined && token !== '' && text.includes(token)
      ? text.split(token).join('[redacted]')
      : text;
  return clean.length > max ? clean.slice(0, max) + '…' : clean;
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof PromQLError) {
    return error.reason === 'out_of_scope'
      ? forbidden(error.message)
      : new ApiError(400, 'bad_data', error.message);
  }
  const e = error as { statusCode?: number; code?: string; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new ApiError(413, 'bad_data', 'request body too large (--max-body-bytes)');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ApiError(e.statusCode, 'bad_data', e.message ?? 'bad request');
  }
  return new ApiError(
    500,
    'internal',
    'internal error; the promgate log has the details under this request id',
  );
}

function asUnavailable(e: unknown, what: string): ApiError {
  if (e instanceof ApiError) return e;
  return unavailable(`${what} backend unavailable; retry shortly`);
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
  );
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function hostPortText(hp: HostPort): string {
  return `${hp.host.includes(':') ? `[${hp.host}]` : hp.host}:${hp.port}`;
}

export function listenerUrl(address: AddressInfo, scheme: 'http' | 'https'): string {
  let host = address.address;
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** Reloads the tenant listener's certificate when its files change. */
function watchTls(app: FastifyInstance, config: Config, logger: Logger): NodeJS.Timeout {
  const files = config.server.tls as { certFile: string; keyFile: string };
  let last = '';
  const check = async (): Promise<void> => {
    try {
      const [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
      const fingerprint = `${cert.toString('base64')}|${key.length}|${key.toString('base64')}`;
      if (last === '') {
        last = fingerprint;
        return;
      }
      if (fingerprint === last) return;
      // Remembered first: a bad pair is reported once per change, not at every poll.
      last = fingerprint;
      (
        app.server as unknown as { setSecureContext(o: { cert: Buffer; key: Buffer }): void }
      ).setSecureContext({ cert, key });
      logger.info({ cert: files.certFile }, 'TLS certificate reloaded');
    } catch (e) {
      logger.error(
        { cert: files.certFile, err: (e as Error).message },
        'cannot reload the TLS certificate; keeping the previous one',
      );
    }
  };
  void check();
  const timer = setInterval(() => void check(), config.filePollIntervalMs);
  timer.unref();
  return timer;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
