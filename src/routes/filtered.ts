/**
 * `/api/v1/rules`, `/api/v1/alerts`, `/api/v1/targets`, `/api/v1/metadata`: Prometheus cannot
 * confine these by request, so for a scoped caller promgate reads the whole JSON answer,
 * filters it through `src/filters` and sends the result. Cluster-wide callers get the
 * answer streamed unchanged. Upstream error answers pass unchanged too.
 *
 * metadata has no labels at all: the scope's metric names come from the upstream's
 * `label/__name__/values` under the scope's selector (cached briefly per scope), and only
 * their metadata is kept. `limit` is applied after filtering, so a tenant gets up to `limit`
 * of *its* metrics.
 *
 * `/api/v1/status/buildinfo` passes through unchanged (Grafana probes it).
 */
import { LRUCache } from 'lru-cache';
import { ApiError, badData } from '../errors.js';
import {
  allowedBy,
  filterAlerts,
  filterMetadata,
  filterRules,
  filterTargets,
  type LabelPredicate,
} from '../filters/index.js';
import { forwardedHeaders } from '../http/headers.js';
import type { Pairs } from '../http/params.js';
import { enforcedSelectorText, type EnforceTarget } from '../promql/index.js';
import { enforce, pick, sendFetched, type Handler, type RouteContext } from './context.js';

const FILTERS: Record<string, (body: unknown, allowed: LabelPredicate) => unknown> = {
  alerts: filterAlerts,
  targets: filterTargets,
};

const PARAMS: Record<string, readonly string[]> = {
  rules: [
    'type',
    'rule_name[]',
    'rule_group[]',
    'file[]',
    'exclude_alerts',
    'match[]',
    'group_limit',
    'group_next_token',
  ],
  alerts: [],
  targets: ['state', 'scrapePool'],
  metadata: ['limit_per_metric', 'metric'],
  buildinfo: [],
};

function params(ctx: RouteContext): Pairs {
  const pairs = pick(ctx.params, PARAMS[ctx.family] ?? []);
  // rules' match[] selects rules by their labels: parse and limit it like any selector.
  return pairs.map(([k, v]) => (k === 'match[]' ? [k, enforce(ctx, 'check', k, v)] : [k, v]));
}

function passThrough(ctx: RouteContext, pairs: Pairs): void {
  ctx.upstream.forward(
    ctx.reply,
    {
      route: ctx.family,
      method: 'GET',
      path: ctx.route.path,
      params: pairs,
      headers: forwardedHeaders(ctx.request.headers, ['accept-encoding']),
    },
    ctx.exchange,
  );
}

async function fetchJson(ctx: RouteContext, path: string, pairs: Pairs, route = ctx.family) {
  const started = process.hrtime.bigint();
  const res = await ctx.upstream
    .fetch(
      {
        route,
        method: 'GET',
        path,
        params: pairs,
        // No Accept-Encoding: the body is read, filtered and re-serialised here.
        headers: { ...forwardedHeaders(ctx.request.headers), accept: 'application/json' },
      },
      ctx.signal,
      ctx.limits.maxFilteredResponseBytes,
    )
    .finally(() => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      ctx.exchange.upstreamSeconds = Math.max(ctx.exchange.upstreamSeconds ?? 0, seconds);
    });
  if (res.status < 200 || res.status >= 300) return { res, json: undefined };
  try {
    return { res, json: JSON.parse(res.body.toString('utf8')) as unknown };
  } catch {
    throw new ApiError(502, 'internal', `upstream answered ${path} with invalid JSON`);
  }
}

function sendJson(ctx: RouteContext, value: unknown): void {
  ctx.reply.code(200).type('application/json').send(JSON.stringify(value));
}

/** Go's strconv.ParseBool, as Prometheus reads `exclude_alerts`. */
function goBool(name: string, text: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  throw badData(`invalid parameter "${name}": ${JSON.stringify(text)} is not a boolean`);
}

/** Parameters a scoped rules request cannot forward: pages and alert-less answers cannot be filtered. */
const RULES_UNFILTERABLE = new Set(['group_limit', 'group_next_token', 'exclude_alerts']);

export const filteredHandler: Handler = async (ctx) => {
  const pairs = params(ctx);
  const target = ctx.target;
  if (target === null) return passThrough(ctx, pairs);
  const allowed = allowedBy(target.label, target.values);
  let filter: (body: unknown) => unknown;
  let upstreamPairs = pairs;
  if (ctx.family === 'rules') {
    // Fetch every group with its alerts, decide visibility on the alerts, then answer as asked
    // (one unpaginated page; alerts dropped for exclude_alerts).
    const exclude = pairs.find(([k]) => k === 'exclude_alerts');
    const excludeAlerts = exclude ? goBool('exclude_alerts', exclude[1]) : false;
    upstreamPairs = pairs.filter(([k]) => !RULES_UNFILTERABLE.has(k));
    filter = (body) => filterRules(body, allowed, { excludeAlerts });
  } else {
    const f = FILTERS[ctx.family];
    if (!f) throw new Error(`no filter for ${ctx.family}`);
    filter = (body) => f(body, allowed);
  }
  const { res, json } = await fetchJson(ctx, ctx.route.path, upstreamPairs);
  if (json === undefined) return sendFetched(ctx.reply, res);
  sendJson(ctx, filter(json));
};

export const buildinfoHandler: Handler = (ctx) => passThrough(ctx, []);

/** Metric names per scope, briefly cached (one upstream call per scope and TTL). */
const names = new WeakMap<object, LRUCache<string, Promise<ReadonlySet<string>>>>();

function namesCache(ctx: RouteContext): LRUCache<string, Promise<ReadonlySet<string>>> {
  let cache = names.get(ctx.upstream);
  if (!cache) {
    cache = new LRUCache({ max: 1000, ttl: Math.max(1, ctx.limits.metadataCacheTtlMs) });
    names.set(ctx.upstream, cache);
  }
  return cache;
}

async function scopeMetricNames(
  ctx: RouteContext,
  target: EnforceTarget,
): Promise<ReadonlySet<string>> {
  const cache = namesCache(ctx);
  const key = `${target.label}\u0000${target.values.join('\u0000')}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const pending = (async () => {
    const { res, json } = await fetchJson(
      ctx,
      '/api/v1/label/__name__/values',
      [['match[]', enforcedSelectorText(target)]],
      'metadata',
    );
    const data = (json as { status?: unknown; data?: unknown } | undefined)?.data;
    if (json === undefined || !Array.isArray(data) || !data.every((n) => typeof n === 'string')) {
      throw new ApiError(
        502,
        'unavailable',
        `cannot list the scope's metric names to filter metadata (upstream status ${res.status})`,
      );
    }
    return new Set(data as string[]) as ReadonlySet<string>;
  })();
  cache.set(key, pending);
  pending.catch(() => cache.delete(key));
  return pending;
}

export const metadataHandler: Handler = async (ctx) => {
  const pairs = params(ctx);
  const limitText = ctx.params.single('limit');
  const target = ctx.target;
  if (target === null) {
    return passThrough(ctx, limitText === undefined ? pairs : [['limit', limitText], ...pairs]);
  }
  let limit = -1;
  if (limitText !== undefined) {
    if (!/^-?\d+$/.test(limitText))
      throw badData(`invalid parameter "limit": ${JSON.stringify(limitText)} is not a number`);
    limit = Number(limitText);
  }
  const [metricNames, { res, json }] = await Promise.all([
    scopeMetricNames(ctx, target),
    fetchJson(ctx, ctx.route.path, pairs),
  ]);
  if (json === undefined) return sendFetched(ctx.reply, res);
  const filtered = filterMetadata(json, metricNames) as { data?: unknown };
  if (limit > 0 && filtered.data && typeof filtered.data === 'object') {
    filtered.data = Object.fromEntries(Object.entries(filtered.data).slice(0, limit));
  }
  sendJson(ctx, filtered);
};
