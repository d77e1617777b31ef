/**
 * What a query may do: limits and the function allow-list, with defaults and the checks
 * applied to a parsed query.
 *
 * The allow-list mirrors the upstream's feature flags: Prometheus 3.5 gates its experimental
 * functions behind `--enable-feature=promql-experimental-functions`, so they are off unless
 * `experimentalFunctions` is set. `info()` is denied unless explicitly allowed: it joins
 * `target_info` series that the query never names, which no matcher can confine.
 * `holt_winters` exists only on 2.x upstreams (`upstreamMajor: 2`).
 *
 *     const policy = policyFrom({ maxSelectors: 100, experimentalFunctions: true });
 */

import type { ParsedQuery } from './ast.js';
import { PromQLError, type PromQLPolicy } from './types.js';

/** Functions of Prometheus 3.5 that are always available (and known to lezer-promql 0.305). */
export const STABLE_FUNCTIONS: readonly string[] = [
  'abs',
  'absent',
  'absent_over_time',
  'acos',
  'acosh',
  'asin',
  'asinh',
  'atan',
  'atanh',
  'avg_over_time',
  'ceil',
  'changes',
  'clamp',
  'clamp_max',
  'clamp_min',
  'cos',
  'cosh',
  'count_over_time',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'days_in_month',
  'deg',
  'delta',
  'deriv',
  'exp',
  'floor',
  'histogram_avg',
  'histogram_count',
  'histogram_fraction',
  'histogram_quantile',
  'histogram_stddev',
  'histogram_stdvar',
  'histogram_sum',
  'hour',
  'idelta',
  'increase',
  'irate',
  'label_join',
  'label_replace',
  'last_over_time',
  'ln',
  'log10',
  'log2',
  'max_over_time',
  'min_over_time',
  'minute',
  'month',
  'pi',
  'predict_linear',
  'present_over_time',
  'quantile_over_time',
  'rad',
  'rate',
  'resets',
  'round',
  'scalar',
  'sgn',
  'sin',
  'sinh',
  'sort',
  'sort_desc',
  'sqrt',
  'stddev_over_time',
  'stdvar_over_time',
  'sum_over_time',
  'tan',
  'tanh',
  'time',
  'timestamp',
  'vector',
  'year',
];

/**
 * Functions and aggregations Prometheus 3.5 gates behind `promql-experimental-functions`
 * (except `info`, which is listed apart).
 */
export const EXPERIMENTAL_FUNCTIONS: readonly string[] = [
  'double_exponential_smoothing',
  'limit_ratio',
  'limitk',
  'mad_over_time',
  'sort_by_label',
  'sort_by_label_desc',
  'ts_of_last_over_time',
  'ts_of_max_over_time',
  'ts_of_min_over_time',
];

/** Aggregations that are gated like functions (the others are always allowed). */
export const GATED_AGGREGATIONS: ReadonlySet<string> = new Set(['limitk', 'limit_ratio']);

/** Every function name the engine can parse (for recognising calls). */
export const KNOWN_FUNCTIONS: ReadonlySet<string> = new Set([
  ...STABLE_FUNCTIONS,
  ...EXPERIMENTAL_FUNCTIONS,
  'info',
  'holt_winters',
]);

const DAY_MS = 86_400_000;

export const DEFAULT_POLICY: PromQLPolicy = Object.freeze({
  maxQueryBytes: 32 * 1024,
  maxDepth: 256,
  maxSelectors: 500,
  maxRangeMs: 366 * DAY_MS,
  allowedFunctions: new Set(STABLE_FUNCTIONS),
  strictScope: true,
});

export interface PolicyOptions {
  readonly maxQueryBytes?: number;
  readonly maxDepth?: number;
  readonly maxSelectors?: number;
  /** Longest matrix/subquery range in milliseconds; 0 = unlimited. */
  readonly maxRangeMs?: number;
  readonly strictScope?: boolean;
  /** Mirror the upstream's `--enable-feature=promql-experimental-functions`. */
  readonly experimentalFunctions?: boolean;
  /** Allow `info()`. Unsafe for tenants: only for callers whose scope is everything. */
  readonly allowInfo?: boolean;
  /** Major version of the upstream: 2 allows `holt_winters` (removed in 3.0). Default 3. */
  readonly upstreamMajor?: 2 | 3;
  /** Further function names to deny (also `limitk`/`limit_ratio`; other aggregations are operators). */
  readonly deniedFunctions?: readonly string[];
}

function positiveInt(name: string, v: number | undefined, dflt: number, zeroOk = false): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 0 || (v === 0 && !zeroOk)) {
    throw new TypeError(`PromQL policy: ${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** Builds a policy from options, starting from DEFAULT_POLICY. */
export function policyFrom(options: PolicyOptions = {}): PromQLPolicy {
  const allowed = new Set(STABLE_FUNCTIONS);
  if (options.experimentalFunctions === true)
    for (const f of EXPERIMENTAL_FUNCTIONS) allowed.add(f);
  if (options.allowInfo === true) allowed.add('info');
  if (options.upstreamMajor === 2) allowed.add('holt_winters');
  else if (options.upstreamMajor !== undefined && options.upstreamMajor !== 3) {
    throw new TypeError(`PromQL policy: upstreamMajor must be 2 or 3`);
  }
  for (const f of options.deniedFunctions ?? []) allowed.delete(f);
  return Object.freeze({
    maxQueryBytes: positiveInt(
      'maxQueryBytes',
      options.maxQueryBytes,
      DEFAULT_POLICY.maxQueryBytes,
    ),
    maxDepth: positiveInt('maxDepth', options.maxDepth, DEFAULT_POLICY.maxDepth),
    maxSelectors: positiveInt('maxSelectors', options.maxSelectors, DEFAULT_POLICY.maxSelectors),
    maxRangeMs: positiveInt('maxRangeMs', options.maxRangeMs, DEFAULT_POLICY.maxRangeMs, true),
    allowedFunctions: allowed,
    strictScope: options.strictScope ?? DEFAULT_POLICY.strictScope,
  });
}

const UNITS: readonly [string, number][] = [
  ['d', DAY_MS],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/** Formats milliseconds as a Prometheus duration in days and smaller units (`366d`, `1h30m`). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms === 0) return '0s';
  let rest = Math.round(Math.abs(ms));
  let out = ms < 0 ? '-' : '';
  for (const [unit, size] of UNITS) {
    const k = Math.floor(rest / size);
    if (k > 0) {
      out += `${k}${unit}`;
      rest -= k * size;
    }
  }
  return out;
}

function functionDenial(name: string): string {
  if (name === 'info') {
    return (
      'it joins target_info series that the query does not name, so no matcher can confine ' +
      'it to your scope'
    );
  }
  if (name === 'holt_winters') {
    return 'it exists only in Prometheus 2.x (3.x renamed it double_exponential_smoothing)';
  }
  if (EXPERIMENTAL_FUNCTIONS.includes(name)) {
    return 'it is experimental in Prometheus (promql-experimental-functions) and not enabled here';
  }
  return 'this server does not allow it';
}

/** The error for a call the policy does not allow. */
export function functionNotAllowed(name: string, pos: number): PromQLError {
  return new PromQLError(
    'function',
    `function "${name}" is not allowed: ${functionDenial(name)}`,
    pos,
  );
}

/** Applies the policy's limits and allow-list to a parsed query. */
export function checkPolicy(parsed: ParsedQuery, policy: PromQLPolicy): void {
  if (parsed.depth > policy.maxDepth) {
    throw new PromQLError(
      'limit',
      `query nests ${parsed.depth} levels deep, more than the limit of ${policy.maxDepth}`,
      0,
    );
  }
  const n = parsed.selectors.length;
  if (n > policy.maxSelectors) {
    throw new PromQLError(
      'limit',
      `query has ${n} selectors, more than the limit of ${policy.maxSelectors}`,
      parsed.selectors[policy.maxSelectors]?.pos ?? 0,
    );
  }
  const range = parsed.longestRange;
  if (range !== null && policy.maxRangeMs > 0 && range.ms > policy.maxRangeMs) {
    const t = range.token;
    throw new PromQLError(
      'limit',
      `range ${t.sign}${t.text} at position ${t.pos} is longer than the limit of ` +
        formatDuration(policy.maxRangeMs),
      t.pos,
    );
  }
  for (const f of parsed.functions) {
    if (!policy.allowedFunctions.has(f.name)) throw functionNotAllowed(f.name, f.pos);
  }
}
