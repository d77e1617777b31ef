/**
 * `/federate`: every `match[]` is enforced and at least one is required (Prometheus answers
 * 200 with an empty body without one, which a scraper cannot tell from "no data"). POST forms
 * are accepted and forwarded as GET, the only method Prometheus serves it on. The answer
 * (text or protobuf, as the scraper's Accept negotiates; gzip as its Accept-Encoding asks)
 * streams back untouched. The upstream timeout is bounded by the scraper's own
 * `X-Prometheus-Scrape-Timeout-Seconds`.
 */
import { badData } from '../errors.js';
import { forwardedHeaders } from '../http/headers.js';
import { enforce, type Handler } from './context.js';

const SCRAPE_TIMEOUT = 'x-prometheus-scrape-timeout-seconds';

export const federateHandler: Handler = (ctx) => {
  const given = ctx.params.all('match[]');
  if (given.length === 0) {
    throw badData('federate needs at least one match[] selector, e.g. match[]={job="app"}');
  }
  const matchers = given.map((m) => enforce(ctx, 'selector', 'match[]', m));
  let timeoutMs = ctx.upstreamTimeoutMs;
  const scrapeTimeout = Number(ctx.request.headers[SCRAPE_TIMEOUT]);
  if (Number.isFinite(scrapeTimeout) && scrapeTimeout > 0) {
    timeoutMs = Math.min(timeoutMs, Math.ceil(scrapeTimeout * 1000));
  }
  ctx.upstream.forward(
    ctx.reply,
    {
      route: ctx.family,
      method: 'GET',
      path: ctx.route.path,
      params: matchers.map((m) => ['match[]', m] as const),
      headers: forwardedHeaders(ctx.request.headers, ['accept-encoding', SCRAPE_TIMEOUT]),
      timeoutMs,
    },
    ctx.exchange,
  );
};
