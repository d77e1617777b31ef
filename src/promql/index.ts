/**
 * The PromQL enforcement engine's public API.
 *
 * Every entry point parses with Prometheus's lexical rules and lezer-promql (strict), checks the
 * policy (size, depth, selectors, range, functions), and prints from its own AST — it never
 * splices into the caller's text. Errors are PromQLError with a reason and a position.
 *
 *     const target = { label: 'namespace', values: ['a', 'b'] };
 *     enforceQuery('sum by (pod) (rate(x[5m]))', target, DEFAULT_POLICY);
 *     // → 'sum by (pod) (rate(x{namespace=~"a|b"}[5m]))'
 *     enforceSelector('up{job="api"}', target, DEFAULT_POLICY); // → 'up{job="api",namespace=~"a|b"}'
 *     enforcedSelectorText(target);                              // → '{namespace=~"a|b"}'
 *
 * Modules: `lexical` (Go lexer rules, string decoding/quoting), `parse` (size, lezer, cache),
 * `build` (lezer tree → `ast`), `print`, `enforce`, `policy` (defaults, function sets), `regex`.
 */

import {
  checkQueryImpl,
  enforceMatchersImpl,
  enforceQueryImpl,
  enforceSelectorImpl,
  enforcedSelectorTextImpl,
} from './enforce.js';
import type { EnforceTarget, LabelMatcher, PromQLPolicy } from './types.js';

export { PromQLError } from './types.js';
export type { EnforceTarget, LabelMatcher, PromQLErrorReason, PromQLPolicy } from './types.js';
export {
  DEFAULT_POLICY,
  EXPERIMENTAL_FUNCTIONS,
  STABLE_FUNCTIONS,
  policyFrom,
  type PolicyOptions,
} from './policy.js';
export { parseQuery, clearParseCache } from './parse.js';
export { printExpr } from './print.js';
export type { Expr, ParsedQuery, VectorSelector, Matcher, MatcherItem } from './ast.js';

/** Parses, validates and rewrites `query` so that every vector selector carries the enforced matcher. */
export function enforceQuery(query: string, target: EnforceTarget, policy: PromQLPolicy): string {
  return enforceQueryImpl(query, target, policy);
}

/** Same, for a `match[]` series selector (only a vector selector is accepted). */
export function enforceSelector(
  selector: string,
  target: EnforceTarget,
  policy: PromQLPolicy,
): string {
  return enforceSelectorImpl(selector, target, policy);
}

/** Parses and validates (limits, functions) without rewriting; returns the canonical print. */
export function checkQuery(query: string, policy: PromQLPolicy): string {
  return checkQueryImpl(query, policy);
}

/** Enforces a matcher list (remote read): appends the enforced matcher, checks scope and emptiness. */
export function enforceMatchers(
  matchers: readonly LabelMatcher[],
  target: EnforceTarget,
  policy: Pick<PromQLPolicy, 'strictScope'>,
): LabelMatcher[] {
  return enforceMatchersImpl(matchers, target, policy);
}

/** The enforced matcher as a selector, e.g. `{namespace=~"a|b"}` (for requests without `match[]`). */
export function enforcedSelectorText(target: EnforceTarget): string {
  return enforcedSelectorTextImpl(target);
}
