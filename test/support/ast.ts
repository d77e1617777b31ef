/**
 * Helpers for Prometheus 3.x's `/api/v1/parse_query` JSON AST (web/api/v1/translate_ast.go):
 * vectorSelector and matrixSelector nodes carry `matchers: [{type, name, value}]`, including
 * the `__name__` matcher. Used to prove that a rewrite equals the original plus exactly one
 * enforced matcher per selector.
 *
 * @example
 * ```ts
 * import { stripMatcherPerSelector } from '../support/index.js';
 * const orig = (await prom3.api('/api/v1/parse_query', { query: q })).data;
 * const rewritten = (await prom3.api('/api/v1/parse_query', { query: rewrite })).data;
 * const { tree, problems } = stripMatcherPerSelector(rewritten, { name: 'namespace', type: '=', value: 'team-b' });
 * assert.deepEqual(problems, []);
 * assert.deepEqual(tree, orig);
 * ```
 */

export interface AstMatcher {
  readonly name: string;
  readonly type: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

export interface StripResult {
  /** A copy of the AST with one matcher equal to `matcher` removed from every selector. */
  readonly tree: unknown;
  /** Number of selector nodes (vector and matrix selectors) found. */
  readonly selectors: number;
  /** Selectors that lacked the matcher, as JSON paths with their matchers. */
  readonly problems: readonly string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const SELECTOR_TYPES = new Set(['vectorSelector', 'matrixSelector']);

/**
 * Removes exactly one matcher equal to `matcher` from each selector node — the last equal one,
 * since the enforced matcher is appended after the caller's (Go adds `__name__` after both).
 * Selectors without it are reported.
 */
export function stripMatcherPerSelector(ast: unknown, matcher: AstMatcher): StripResult {
  let selectors = 0;
  const problems: string[] = [];
  const walk = (node: unknown, path: string): unknown => {
    if (Array.isArray(node)) return node.map((n, i) => walk(n, `${path}[${i}]`));
    if (!isRecord(node)) return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = walk(v, `${path}.${k}`);
    if (typeof node.type === 'string' && SELECTOR_TYPES.has(node.type)) {
      selectors++;
      const matchers = Array.isArray(node.matchers) ? [...(node.matchers as unknown[])] : [];
      // The last equal one: promgate appends the enforced matcher after the caller's.
      const i = matchers.findLastIndex(
        (m) =>
          isRecord(m) &&
          m.name === matcher.name &&
          m.type === matcher.type &&
          m.value === matcher.value,
      );
      if (i < 0) problems.push(`${path} (${node.type}) lacks it: ${JSON.stringify(node.matchers)}`);
      else matchers.splice(i, 1);
      out.matchers = matchers;
    }
    return out;
  };
  const tree = walk(ast, '$');
  return { tree, selectors, problems };
}

/** Counts selector nodes (vector and matrix selectors) in an AST. */
export function countSelectors(ast: unknown): number {
  if (Array.isArray(ast)) return ast.reduce((n: number, x) => n + countSelectors(x), 0);
  if (!isRecord(ast)) return 0;
  let n = typeof ast.type === 'string' && SELECTOR_TYPES.has(ast.type) ? 1 : 0;
  for (const v of Object.values(ast)) n += countSelectors(v);
  return n;
}

/**
 * The matcher promgate enforces for a set of values (DESIGN.md invariant 4): `label="v"` for
 * one value, else `label=~"a|b"` with the values sorted and regex-escaped. Mirrors the
 * contract, so tests can state expectations without calling the engine.
 */
export function enforcedMatcher(label: string, values: readonly string[]): AstMatcher {
  const sorted = [...new Set(values)].sort();
  if (sorted.length === 0) throw new Error('an empty scope has no enforced matcher');
  if (sorted.length === 1) return { name: label, type: '=', value: sorted[0] ?? '' };
  return {
    name: label,
    type: '=~',
    value: sorted.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
  };
}
