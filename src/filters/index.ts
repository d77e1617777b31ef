/**
 * Response filters for the endpoints whose answers cannot be confined by rewriting the
 * request: rules, alerts, targets and metadata. Each takes Prometheus's parsed JSON answer
 * and returns a new JSON value holding only what the scope may see.
 *
 * All filters fail closed: an answer of a shape they do not know throws
 * {@link UpstreamShapeError} (an {@link ApiError} with status 502), never passes unfiltered.
 * Prometheus error bodies (`status: "error"`) come back as `{status, errorType, error}`.
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
