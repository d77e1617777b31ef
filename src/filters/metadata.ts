/**
 * Filters a `/api/v1/metadata` answer (`data{<metric>: [{type, help, unit}]}`) to the metric
 * names a scope has series of. Prometheus's metadata has no labels, so the caller first asks
 * for the scope's metric names (e.g. label values of `__name__` under the enforced matcher)
 * and passes them in.
 *
 * Metadata is keyed by metric family, which is not always a series name: a histogram
 * `http_request_duration_seconds` has series `…_bucket`, `…_sum`, `…_count`; an OpenMetrics
 * counter family `foo` has `foo_total` (and `foo_created`); an info family `foo` has
 * `foo_info`; Prometheus versions differ in which name they report. A metadata name N is kept
 * when the set holds N, or N plus one of {@link FAMILY_SUFFIXES}. A tenant with a series
 * `foo_count` of an unrelated family would thus also see the type/help/unit of a family
 * `foo` — only a description, never data.
 *
 * @example
 *   filterMetadata(await upstream.json(), new Set(['http_request_duration_seconds_bucket']));
 *   // keeps data.http_request_duration_seconds
 */
import { ShapeChecker, success } from './shape.js';

export const FAMILY_SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created', '_info'];

export function filterMetadata(body: unknown, metricNames: ReadonlySet<string>): unknown {
  const check = new ShapeChecker('/api/v1/metadata');
  const env = check.envelope(body);
  if ('error' in env) return env.error;
  const data = check.object(env.data, 'data');
  const kept: [string, unknown][] = [];
  for (const [name, entries] of Object.entries(data)) {
    check.array(entries, `data[${JSON.stringify(name)}]`);
    if (metricNames.has(name) || FAMILY_SUFFIXES.some((s) => metricNames.has(name + s))) {
      kept.push([name, entries]);
    }
  }
  // fromEntries defines own properties, so a metric named "__proto__" stays a plain key.
  return success(Object.fromEntries(kept));
}
