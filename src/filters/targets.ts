/**
 * Filters a `/api/v1/targets` answer to the scrape targets a scope may see.
 *
 * - `activeTargets[]` keeps the targets whose (post-relabelling) `labels` carry an allowed
 *   value of the enforced label. A kept target is passed whole, `discoveredLabels` included:
 *   those `__meta_*` labels describe the tenant's own pod/service/endpoint (names, pod labels
 *   and annotations, IPs) and are what a tenant needs to debug its relabelling.
 * - `droppedTargets` becomes `[]` whatever the scope: a dropped target has no `labels`, only
 *   `discoveredLabels`, which would expose every `__meta_*` label of other tenants' pods.
 * - `droppedTargetCounts` (3.x, counts per scrape pool) becomes `{}` when present: the counts
 *   describe other tenants' workloads too.
 *
 * @example
 *   filterTargets(await upstream.json(), allowedBy('namespace', ['ns-1']));
 */
import type { LabelPredicate } from './allowed.js';
import { ShapeChecker, success, type JsonObject } from './shape.js';

export function filterTargets(body: unknown, allowed: LabelPredicate): unknown {
  const check = new ShapeChecker('/api/v1/targets');
  const env = check.envelope(body);
  if ('error' in env) return env.error;
  const data = check.object(env.data, 'data');
  const active = check.optionalArray(data.activeTargets, 'data.activeTargets') ?? [];
  // Checked so that a changed shape is noticed, even though the content is discarded.
  check.optionalArray(data.droppedTargets, 'data.droppedTargets');
  const kept = active.filter((t, i) => {
    const target = check.object(t, `data.activeTargets[${i}]`);
    return allowed(check.labels(target.labels, `data.activeTargets[${i}].labels`));
  });
  // Rebuilt from the known keys: any other key of `data` would describe every target.
  const out: JsonObject = { activeTargets: kept, droppedTargets: [] };
  if ('droppedTargetCounts' in data) {
    if (data.droppedTargetCounts !== null) {
      check.object(data.droppedTargetCounts, 'data.droppedTargetCounts');
    }
    out.droppedTargetCounts = {};
  }
  return success(out);
}
