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

function forwardQuery(ctx: RouteContext, query: string): void {
  const others = pick(ctx.params, OTHER_PARAMS[ctx.family] ?? []);
  ctx.upstream.forward(
    ctx.reply,
    {
      route: ctx.family,
      method: 'POST',
      path: ctx.route.path,
      params: [['query', query], ...others],
      headers: forwardedHeaders(ctx.request.headers, ['accept-encoding']),
    },
    ctx.exchange,
  );
}

export const queryHandler: Handler = (ctx) => {
  const query = required(ctx.params, 'query');
  // Check the other parameters (duplicates) before the engine runs.
  pick(ctx.params, OTHER_PARAMS[ctx.family] ?? []);
  forwardQuery(ctx, enforce(ctx, 'query', 'query', query));
};

export const parseOnlyHandler: Handler = (ctx) => {
  const query = required(ctx.params, 'query');
  forwardQuery(ctx, enforce(ctx, 'check', 'query', query));
};
