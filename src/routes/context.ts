/**
 * What every route handler gets, and the helpers they share: picking allow-listed parameters
 * (single-valued ones given once), enforcing PromQL through the engine with metrics, and
 * turning engine errors into Prometheus API errors.
 *
 * A handler never sees the caller's raw request beyond `params` and a few headers: it
 * decides the upstream request from scratch (DESIGN.md invariant 2).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ApiError, badData, forbidden } from '../errors.js';
import type { Params } from '../http/params.js';
import type { Metrics } from '../metrics.js';
import {
  checkQuery,
  enforceQuery,
  enforceSelector,
  PromQLError,
  type EnforceTarget,
  type PromQLPolicy,
} from '../promql/index.js';
import type { Scope } from '../scope.js';
import type { Exchange, Upstream } from '../upstream.js';
import type { Family, RouteMatch } from './table.js';

export interface RouteContext {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly route: RouteMatch;
  readonly family: Family;
  /** Query string and form body, merged like Prometheus does (read: query string only). */
  readonly params: Params;
  /** The caller's scope after narrowing. */
  readonly scope: Scope;
  /** What to enforce; null for a cluster-wide caller who did not narrow (no rewriting). */
  readonly target: EnforceTarget | null;
  readonly policy: PromQLPolicy;
  readonly upstream: Upstream;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly limits: {
    readonly maxBodyBytes: number;
    readonly maxFilteredResponseBytes: number;
    readonly metadataCacheTtlMs: number;
  };
  readonly upstreamTimeoutMs: number;
  /** The request's byte and timing counters, for `upstream.forward`. */
  readonly exchange: Exchange;
  /** Aborted when the caller goes away (for `upstream.fetch`; forwarding watches the caller itself). */
  readonly signal: AbortSignal;
  /** Records PromQL text for the request log line (shown with --log-queries or at debug). */
  noteQuery(name: string, text: string): void;
}

export type Handler = (ctx: RouteContext) => Promise<void> | void;

/**
 * The allow-listed parameters present in the request, in allow-list order; names ending in
 * `[]` are repeatable, all others must be given at most once.
 */
export function pick(params: Params, names: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const name of names) {
    if (name.endsWith('[]')) {
      for (const v of params.all(name)) out.push([name, v]);
    } else {
      const v = params.single(name);
      if (v !== undefined) out.push([name, v]);
    }
  }
  return out;
}

type Kind = 'query' | 'selector' | 'check';

/**
 * Runs PromQL text through the engine: `query` rewrites a query, `selector` a `match[]`
 * selector, `check` only parses and checks limits. A cluster-wide caller's query/selector is
 * only size-checked and passed as written. Throws ApiError (400, or 403 for out of scope).
 */
export function enforce(ctx: RouteContext, kind: Kind, param: string, text: string): string {
  ctx.noteQuery(param, text);
  const { target, policy } = ctx;
  if (target === null && kind !== 'check') {
    const size = Buffer.byteLength(text, 'utf8');
    if (size > policy.maxQueryBytes) {
      ctx.metrics.rewriteRejections.inc({ reason: 'limit' });
      throw badData(
        `invalid parameter "${param}": ${size} bytes, longer than the limit of ${policy.maxQueryBytes} (--promql-max-query-bytes)`,
      );
    }
    return text;
  }
  const started = performance.now();
  try {
    if (kind === 'check' || target === null) return checkQuery(text, policy);
    return kind === 'query'
      ? enforceQuery(text, target, policy)
      : enforceSelector(text, target, policy);
  } catch (e) {
    throw fromPromQL(ctx, e, param);
  } finally {
    ctx.metrics.rewriteDuration.observe({ kind }, (performance.now() - started) / 1000);
  }
}

/** An engine error as the API error the caller sees; counted by reason. */
export function fromPromQL(ctx: Pick<RouteContext, 'metrics'>, e: unknown, param: string): unknown {
  if (!(e instanceof PromQLError)) return e;
  ctx.metrics.rewriteRejections.inc({ reason: e.reason });
  if (e.reason === 'out_of_scope') {
    ctx.metrics.authzDenials.inc({ reason: 'out_of_scope' });
    return forbidden(e.message);
  }
  return badData(`invalid parameter "${param}": ${e.message}`);
}

/** A required single-valued parameter. */
export function required(params: Params, name: string): string {
  const v = params.single(name);
  if (v === undefined || v === '') throw badData(`parameter "${name}" is required`);
  return v;
}

/** Sends an upstream answer that promgate had to read whole (error answers pass unchanged). */
export function sendFetched(
  reply: FastifyReply,
  res: { status: number; headers: Readonly<Record<string, string>>; body: Buffer | string },
): void {
  reply.code(res.status);
  reply.header('content-type', res.headers['content-type'] ?? 'application/json');
  reply.send(res.body);
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}
