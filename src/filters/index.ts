/**
 * Response filters for the endpoints whose answers cannot be confined by rewriting the
 * request: rules, alerts, targets and metadata. Each takes Prometheus's parsed JSON answer
 * and returns a new JSON value holding only what the scope may see.
 *
 * All filters fail closed: an answer of a shape they do not know throws
 * {@link UpstreamShapeError} (an {@link ApiError} with status 502), never passes unfiltered.
 * Prometheus error bodies (`status: "error"`) come back as `{status, errorType, error}`.
 *
 * What is kept: the envelope and `data` are rebuilt from the keys each filter knows (other
 * keys there, like `warnings` or a proxy's totals, describe everything and are dropped);
 * each kept rule, alert, target or metadata entry passes whole, unknown fields included,
 * since they describe that object alone (exceptions are documented per filter).
 *
 * @example
 *   const allowed = allowedBy('namespace', scope.values);
 *   reply.send(filterRules(JSON.parse(upstreamBody), allowed));
 */
export { allowedBy, type LabelPredicate } from './allowed.js';
export { filterAlerts } from './alerts.js';
export { filterMetadata, FAMILY_SUFFIXES } from './metadata.js';
export { filterRules, REDACTED_RULE_ERROR, type FilterRulesOptions } from './rules.js';
export { filterTargets } from './targets.js';
export { UpstreamShapeError } from './shape.js';
