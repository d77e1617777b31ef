/**
 * Enforcement: confines every vector selector of a query, a `match[]` selector or a remote
 * read matcher list to the caller's scope.
 *
 * The enforced matcher is `label="v"` for one value and `label=~"a|b"` (sorted, escaped with
 * Go's QuoteMeta) for several. It is appended to each selector — ANDed with whatever the caller
 * wrote, never merged with or replacing it. With `strictScope`, a caller's `label="x"` naming a
 * value outside the scope is an error that names it, instead of a silently empty answer.
 *
 *     enforceQuery('sum(up)', { label: 'namespace', values: ['a', 'b'] }, DEFAULT_POLICY)
 *     === 'sum(up{namespace=~"a|b"})'
 */

import type { ParsedQuery, VectorSelector } from './ast.js';
import { isLegacyLabelName, quoteString } from './lexical.js';
import { parseQuery } from './parse.js';
import { checkPolicy } from './policy.js';
import { printExpr } from './print.js';
import { matcherMatchesEmpty, quoteMeta } from './regex.js';
import { PromQLError, type EnforceTarget, type LabelMatcher, type PromQLPolicy } from './types.js';

/** The enforced matcher of a target, computed once per target object. */
export interface Enforcement {
  readonly label: string;
  readonly values: ReadonlySet<string>;
  readonly matcher: LabelMatcher;
  /** The matcher as printed inside braces: `namespace=~"a|b"`. */
  readonly text: string;
}

const enforcements = new WeakMap<EnforceTarget, Enforcement>();

/** Validates `target` and returns its enforced matcher. Throws for an empty scope. */
export function enforcement(target: EnforceTarget): Enforcement {
  const known = enforcements.get(target);
  if (known !== undefined) return known;
  const { label, values } = target;
  if (typeof label !== 'string' || label === '') {
    throw new PromQLError('out_of_scope', 'the enforced label name is empty');
  }
  if (!Array.isArray(values) || values.length === 0) {
    // Never emit `label=~""`: it would select every series that lacks the label.
    throw new PromQLError('out_of_scope', `your scope contains no ${label} values`);
  }
  for (const v of values) {
    if (typeof v !== 'string' || v === '') {
      throw new PromQLError('out_of_scope', `the scope contains an empty ${label} value`);
    }
  }
  const sorted = [...new Set(values as readonly string[])].sort((x, y) =>
    x < y ? -1 : x > y ? 1 : 0,
  );
  const matcher: LabelMatcher =
    sorted.length === 1
      ? { name: label, type: '=', value: sorted[0]! }
      : { name: label, type: '=~', value: sorted.map(quoteMeta).join('|') };
  const name = isLegacyLabelName(label) ? label : quoteString(label);
  const e: Enforcement = {
    label,
    values: new Set(sorted),
    matcher,
    text: name + matcher.type + quoteString(matcher.value),
  };
  enforcements.set(target, e);
  return e;
}

function outOfScope(label: string, value: string, pos?: number): PromQLError {
  return new PromQLError(
    'out_of_scope',
    `${label} ${quoteString(value)} is outside your scope`,
    pos,
  );
}

/** Strict scope: an equality matcher on the enforced label must name a value in scope. */
function checkScope(selectors: readonly VectorSelector[], e: Enforcement): void {
  for (const vs of selectors) {
    for (const m of vs.items) {
      if (m.kind === 'matcher' && m.op === '=' && m.name === e.label && !e.values.has(m.value)) {
        throw outOfScope(e.label, m.value, m.pos);
      }
    }
  }
}

function prepare(
  query: string,
  target: EnforceTarget,
  policy: PromQLPolicy,
): { parsed: ParsedQuery; e: Enforcement } {
  const e = enforcement(target);
  const parsed = parseQuery(query, policy);
  checkPolicy(parsed, policy);
  if (policy.strictScope) checkScope(parsed.selectors, e);
  return { parsed, e };
}

export function enforceQueryImpl(
  query: string,
  target: EnforceTarget,
  policy: PromQLPolicy,
): string {
  const { parsed, e } = prepare(query, target, policy);
  return printExpr(parsed.expr, e.text);
}

export function enforceSelectorImpl(
  selector: string,
  target: EnforceTarget,
  policy: PromQLPolicy,
): string {
  const { parsed, e } = prepare(selector, target, policy);
  if (parsed.expr.type !== 'VectorSelector') {
    throw new PromQLError(
      'not_selector',
      'match[] must be a series selector such as up{job="api"}: ' +
        'no functions, operators, offset, @, ranges or parentheses',
      parsed.expr.pos,
    );
  }
  return printExpr(parsed.expr, e.text);
}

export function checkQueryImpl(query: string, policy: PromQLPolicy): string {
  const parsed = parseQuery(query, policy);
  checkPolicy(parsed, policy);
  return printExpr(parsed.expr, null);
}

const MATCH_TYPES = new Set(['=', '!=', '=~', '!~']);

export function enforceMatchersImpl(
  matchers: readonly LabelMatcher[],
  target: EnforceTarget,
  policy: Pick<PromQLPolicy, 'strictScope'>,
): LabelMatcher[] {
  const e = enforcement(target);
  let nonEmpty = false;
  for (const m of matchers) {
    if (typeof m.name !== 'string' || typeof m.value !== 'string' || !MATCH_TYPES.has(m.type)) {
      throw new PromQLError('parse', 'invalid label matcher in the request');
    }
    if (!matcherMatchesEmpty(m.type, m.value)) nonEmpty = true;
    if (policy.strictScope && m.type === '=' && m.name === e.label && !e.values.has(m.value)) {
      throw outOfScope(e.label, m.value);
    }
  }
  if (!nonEmpty) {
    throw new PromQLError(
      'empty_selector',
      'vector selector must contain at least one non-empty matcher',
    );
  }
  return [...matchers, e.matcher];
}

/** `{namespace=~"a|b"}`: the selector to use where a request has no `match[]`. */
export function enforcedSelectorTextImpl(target: EnforceTarget): string {
  return '{' + enforcement(target).text + '}';
}
