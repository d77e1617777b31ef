/**
 * `/api/v1/series`, `/api/v1/labels`, `/api/v1/label/<name>/values`: every `match[]` selector
 * is enforced; where none is given (labels, label values) the scope's own selector is
 * injected, so the label values of *any* label — `namespace` and `__name__` included — come
 * only from the scope's series. Label names arrive `U__`-escaped from Grafana; they are
 * decoded before anything else and re-encoded for the upstream.
 *
 * series and labels are forwarded as POST forms; label values as GET (Prometheus serves
 * label values on GET only).
 */
import { badData } from '../errors.js';
import { forwardedHeaders } from '../http/headers.js';
import { decodeLabelName, encodeLabelName, isLegacyLabelName } from '../labelnames.js';
import { enforcedSelectorText } from '../promql/index.js';
import { enforce, pick, type Handler, type RouteContext } from './context.js';

const OTHER_PARAMS = ['start', 'end', 'limit'] as const;

/** The enforced `match[]` list; `inject` adds the scope's selector when the caller gave none. */
export function enforcedMatchers(ctx: RouteContext, inject: boolean): string[] {
  const given = ctx.params.all('match[]');
  if (given.length === 0) {
    if (!inject) throw badData('no match[] parameter provided');
    return ctx.target === null ? [] : [enforcedSelectorText(ctx.target)];
  }
  return given.map((m) => enforce(ctx, 'selector', 'match[]', m));
}

export const seriesHandler: Handler = (ctx) => {
  const others = pick(ctx.params, OTHER_PARAMS);
  const matchers = enforcedMatchers(ctx, false);
  forward(ctx, 'POST', ctx.route.path, matchers, others);
};

export const labelsHandler: Handler = (ctx) => {
  const others = pick(ctx.params, OTHER_PARAMS);
  const matchers = enforcedMatchers(ctx, true);
  forward(ctx, 'POST', ctx.route.path, matchers, others);
};

export const labelValuesHandler: Handler = (ctx) => {
  const raw = ctx.route.labelName ?? '';
  const name = decodeLabelName(raw);
  // Prometheus ≥ 3 accepts any UTF-8 name, but only via U__; a raw name must be legacy.
  if (name === raw && !isLegacyLabelName(raw))
    throw badData(`invalid label name: ${JSON.stringify(raw)}`);
  if (name === '') throw badData('invalid label name: empty');
  const others = pick(ctx.params, OTHER_PARAMS);
  const matchers = enforcedMatchers(ctx, true);
  forward(ctx, 'GET', `/api/v1/label/${encodeLabelName(name)}/values`, matchers, others);
};

function forward(
  ctx: RouteContext,
  method: 'GET' | 'POST',
  path: string,
  matchers: readonly string[],
  others: readonly [string, string][],
): void {
  ctx.upstream.forward(
    ctx.reply,
    {
      route: ctx.family,
      method,
      path,
      params: [...matchers.map((m) => ['match[]', m] as const), ...others],
      headers: forwardedHeaders(ctx.request.headers, ['accept-encoding']),
    },
    ctx.exchange,
  );
}
