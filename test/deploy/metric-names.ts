/**
 * Metric names: the sample names promgate's /metrics can expose, and the metric names a
 * PromQL expression reads (parsed and policy-checked by promgate's own engine).
 *
 * @example
 *   const exported = await exportedMetricNames();
 *   metricNamesOf('sum(rate(promgate_http_requests_total[5m]))', exported); // {'promgate_http_requests_total'}
 */
import { createMetrics } from '../../src/metrics.js';
import { checkQuery, DEFAULT_POLICY, parseQuery, policyFrom } from '../../src/promql/index.js';

/**
 * Every sample name promgate's /metrics can expose: the families of createMetrics() (with
 * _bucket/_sum/_count for histograms and summaries) and prom-client's default metrics.
 */
export async function exportedMetricNames(): Promise<Set<string>> {
  const metrics = createMetrics({ collectDefault: true });
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    const type = String(m.type);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) names.add(m.name + s);
    else names.add(m.name);
  }
  metrics.registry.clear();
  return names;
}

/** Series Prometheus itself adds to every scraped target. */
export const SCRAPE_SERIES = new Set(['up']);

/** Queries must pass promgate's policy for Prometheus 3.x and 2.x upstreams alike. */
const POLICIES = [DEFAULT_POLICY, policyFrom({ upstreamMajor: 2 })];

/**
 * The metric names an expression reads, parsed and policy-checked by promgate's own PromQL
 * engine. A `__name__=~"…"` matcher is expanded against `known`. Throws on a parse or policy
 * error and on a selector without a metric name.
 */
export function metricNamesOf(expr: string, known: ReadonlySet<string>): Set<string> {
  let selectors;
  try {
    for (const policy of POLICIES) checkQuery(expr, policy);
    selectors = parseQuery(expr, DEFAULT_POLICY).selectors;
  } catch (err) {
    throw new Error(
      `promgate's PromQL engine refuses ${JSON.stringify(expr)}: ${(err as Error).message}`,
    );
  }
  const names = new Set<string>();
  for (const sel of selectors) {
    let found = false;
    if (sel.name !== null) {
      names.add(sel.name);
      found = true;
    }
    for (const item of sel.items) {
      if (item.kind === 'name') {
        names.add(item.value);
        found = true;
      } else if (item.name === '__name__') {
        if (item.op === '=') names.add(item.value);
        else if (item.op === '=~') {
          const re = new RegExp(`^(?:${item.value})$`);
          const matched = [...known].filter((n) => re.test(n));
          if (matched.length === 0)
            throw new Error(`__name__=~"${item.value}" matches no exported metric: ${expr}`);
          for (const n of matched) names.add(n);
        } else throw new Error(`negative __name__ matcher selects unknown metrics: ${expr}`);
        found = true;
      }
    }
    if (!found) throw new Error(`a selector without a metric name in ${expr}`);
  }
  return names;
}

// ---------------------------------------------------------------------------------------
// promgate's flags
