/**
 * Filters a `/api/v1/alerts` answer (`data.alerts[]{labels, annotations, state, activeAt,
 * value}`) to the alerts whose labels carry an allowed value of the enforced label. Alert
 * labels are the firing series' labels plus the rule's static labels, so an alert without
 * the label (e.g. from `absent(up)` or a cluster-wide aggregation) is hidden.
 *
 * @example
 *   filterAlerts(await upstream.json(), allowedBy('namespace', ['ns-1']));
 */
import type { LabelPredicate } from './allowed.js';
import { ShapeChecker, success } from './shape.js';

export function filterAlerts(body: unknown, allowed: LabelPredicate): unknown {
  const check = new ShapeChecker('/api/v1/alerts');
  const env = check.envelope(body);
  if ('error' in env) return env.error;
  const data = check.object(env.data, 'data');
  const alerts = check.array(data.alerts, 'data.alerts');
  const kept = alerts.filter((a, i) => {
    const alert = check.object(a, `data.alerts[${i}]`);
    return allowed(check.labels(alert.labels, `data.alerts[${i}].labels`));
  });
  // Other keys of `data` would describe all alerts, not the scope's: rebuilt, not copied.
  return success({ alerts: kept });
}
