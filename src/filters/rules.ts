/**
 * Filters a `/api/v1/rules` answer to the rules and alerts a scope may see.
 *
 * Rule `labels` are static (written in the rule file); alert `labels` are the series labels
 * plus those static labels. So:
 * - each alerting rule's `alerts[]` keeps only the alerts whose labels are allowed;
 * - a rule is visible when its static labels carry an allowed value of the enforced label
 *   ("the tenant's rule"), or when it has at least one visible alert ("a shared rule that
 *   fired for the tenant": e.g. `up{job="kubelet"} == 0` without a namespace rule label) —
 *   the tenant then sees its own alerts and the rule that produced them;
 * - any other rule is hidden, recording rules included: its `query` may name other
 *   namespaces and its evaluation concerns series the tenant cannot see;
 * - groups left without rules are dropped.
 *
 * For a shared rule shown because of its alerts, fields computed over ALL its alerts are
 * recomputed or redacted: `state` becomes the highest state among the visible alerts, and
 * `lastError` (e.g. "found duplicate series for the match group {…}", which quotes full label
 * sets) is replaced by a fixed note. A tenant-owned rule keeps every field as Prometheus sent
 * it: all its alerts carry the tenant's label, since static labels override series labels.
 * `query`, `health`, `annotations` and timings of visible rules pass unchanged.
 *
 * Paginated answers (`groupNextToken`, Prometheus ≥ 2.54 with `group_limit`) are refused:
 * the token names a group the tenant may not see, and filtered pages would be misleading.
 * Callers must not forward `group_limit`/`group_next_token` for a scoped caller (Grafana's
 * alert list sends them): fetch everything and return one unpaginated, filtered answer.
 *
 * Likewise `exclude_alerts`: an answer fetched with it has `alerts: null`, so only
 * tenant-owned rules can be shown. Fetch with alerts instead and pass
 * `{ excludeAlerts: true }`: visibility is decided on the alerts, which are then dropped from
 * the answer (`alerts: null`, as Prometheus writes it).
 *
 * @example
 *   filterRules(await upstream.json(), allowedBy('namespace', ['ns-1']));
 */
import type { LabelPredicate } from './allowed.js';
import { ShapeChecker, success, type JsonObject } from './shape.js';

// Ascending; 3.x reports "unknown" before a rule's first evaluation.
const ALERT_STATES = ['unknown', 'inactive', 'pending', 'firing'] as const;
export const REDACTED_RULE_ERROR =
  'rule evaluation failed; the error is hidden by promgate because it may describe series of other namespaces';

export interface FilterRulesOptions {
  /** Answer as Prometheus does for `exclude_alerts=true`: alerting rules carry `alerts: null`. */
  readonly excludeAlerts?: boolean;
}

export function filterRules(
  body: unknown,
  allowed: LabelPredicate,
  options: FilterRulesOptions = {},
): unknown {
  const check = new ShapeChecker('/api/v1/rules');
  const env = check.envelope(body);
  if ('error' in env) return env.error;
  const data = check.object(env.data, 'data');
  if (data.groupNextToken !== undefined && data.groupNextToken !== '') {
    check.fail('data.groupNextToken', 'absent (paginated rule answers cannot be filtered)');
  }
  const groups = check.array(data.groups, 'data.groups');
  const outGroups: JsonObject[] = [];
  groups.forEach((g, gi) => {
    const gPath = `data.groups[${gi}]`;
    const group = check.object(g, gPath);
    const rules = check.array(group.rules, `${gPath}.rules`);
    const outRules: JsonObject[] = [];
    rules.forEach((r, ri) => {
      const kept = filterRule(check, r, `${gPath}.rules[${ri}]`, allowed);
      if (kept === null) return;
      outRules.push(
        options.excludeAlerts && kept.type === 'alerting' ? { ...kept, alerts: null } : kept,
      );
    });
    if (outRules.length > 0) outGroups.push({ ...group, rules: outRules });
  });
  // Other keys of `data` (e.g. totals a proxy adds) describe every tenant's rules: dropped.
  return success({ groups: outGroups });
}

function filterRule(
  check: ShapeChecker,
  value: unknown,
  path: string,
  allowed: LabelPredicate,
): JsonObject | null {
  const rule = check.object(value, path);
  const type = check.string(rule.type, `${path}.type`);
  const owned = allowed(check.labels(rule.labels, `${path}.labels`, true));
  if (type === 'recording') return owned ? rule : null;
  if (type !== 'alerting') return check.fail(`${path}.type`, '"alerting" or "recording"');

  const alerts = check.optionalArray(rule.alerts, `${path}.alerts`);
  if (alerts === null) {
    // exclude_alerts=true (or nothing active): visibility rests on the static labels alone.
    return owned ? rule : null;
  }
  const visible = alerts.filter((a, ai) => {
    const alert = check.object(a, `${path}.alerts[${ai}]`);
    return allowed(check.labels(alert.labels, `${path}.alerts[${ai}].labels`));
  });
  if (owned) {
    // Static labels override series labels, so every alert of an owned rule is visible;
    // filtering anyway keeps that true even for an upstream that breaks the rule.
    return { ...rule, alerts: visible };
  }
  if (visible.length === 0) return null;
  const out: JsonObject = { ...rule, alerts: visible, state: highestState(check, visible, path) };
  if (typeof out.lastError === 'string' && out.lastError !== '')
    out.lastError = REDACTED_RULE_ERROR;
  return out;
}

/** The rule state Prometheus would report if only these alerts existed. */
function highestState(check: ShapeChecker, alerts: unknown[], path: string): string {
  let rank = 0;
  alerts.forEach((a, ai) => {
    const state = check.string((a as JsonObject).state, `${path}.alerts[${ai}].state`);
    const r = (ALERT_STATES as readonly string[]).indexOf(state);
    if (r < 0)
      check.fail(`${path}.alerts[${ai}].state`, '"unknown", "inactive", "pending" or "firing"');
    rank = Math.max(rank, r);
  });
  return ALERT_STATES[rank] ?? 'unknown';
}
