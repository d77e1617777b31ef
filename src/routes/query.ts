/**
 * `/api/v1/query`, `/api/v1/query_range`, `/api/v1/query_exemplars`: the `query` is rewritten
 * by the engine so that every selector carries the scope's matcher; Prometheus's other
 * parameters pass through. `/api/v1/format_query` and `/api/v1/parse_query` only parse:
 * they are forwarded after promgate's own parse and limits, with the canonical print of the
 * query (the text promgate understood), not an enforced one — enforcing would write the
 * scope's matcher into the caller's formatted query, and these endpoints read no data.
 *
 * All of them are forwarded as POST with a form body: one canonical encoding, no URL length
 * limit, and Prometheus accepts POST on each.
 */
import { forwardedHeaders } from '../http/headers.js';
import { enforce, pick, required, type Handler, type RouteContext } from './context.js';

const OTHER_PARAMS: Record<string, readonly string[]> = {
  query: ['time', 'timeout', 'stats', 'lookback_delta', 'limit'],
  query_range: ['start', 'end', 'step', 'timeout', 'stats', 'lookback_delta', 'limit'],
  query_exemplars: ['start', 'end'],
  format_query: [],
  parse_query: [],
};

function forwardQuery(ctx: RouteContext, query: string, others: [string, string][]): void {
  others.unshift(['query', query]);
  ctx.upstream.forward(
    ctx.reply,
    {
      route: ctx.family,
      method: 'POST',
      path: ctx.route.path,
      params: others,
      headers: forwardedHeaders(ctx.request.headers, ACCEPT_ENCODING),
    },
    ctx.exchange,
  );
}

const ACCEPT_ENCODING = ['accept-encoding'] as const;

export const queryHandler: Handler = (ctx) => {
  const query = required(ctx.params, 'query');
  // The other parameters first: a duplicate is refused before the engine runs.
  const others = pick(ctx.params, OTHER_PARAMS[ctx.family] ?? []);
  forwardQuery(ctx, enforce(ctx, 'query', 'query', query), others);
};

export const parseOnlyHandler: Handler = (ctx) => {
  const query = required(ctx.params, 'query');
  const others = pick(ctx.params, OTHER_PARAMS[ctx.family] ?? []);
  forwardQuery(ctx, enforce(ctx, 'check', 'query', query), others);
};
