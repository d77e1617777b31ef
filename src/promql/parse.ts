/**
 * Parses a query into a validated AST: size limit, Prometheus's lexical rules, lezer-promql in
 * strict mode, then the builder. Any failure — including a throw from inside lezer such as a
 * RangeError or stack overflow — becomes a PromQLError with a message a person can act on
 * ("unexpected `)` at position 14", never "No parse at 14").
 *
 * Parsed queries are cached by their exact text (bounded LRU): dashboards send the same
 * queries again and again, and lezer's LR engine is most of the cost of a cold parse. The
 * cached AST is immutable and independent of the policy and scope, which are applied on every
 * call (`checkPolicy`, enforcement); only successful parses are cached.
 *
 *     const parsed = parseQuery('sum(rate(x[5m]))', DEFAULT_POLICY);
 */

import { parser } from '@prometheus-io/lezer-promql';
import { LRUCache } from 'lru-cache';
import type { ParsedQuery } from './ast.js';
import { build } from './build.js';
import { T, lex, type Tokens } from './lexical.js';
import { KNOWN_FUNCTIONS, functionNotAllowed } from './policy.js';
import { PromQLError, type PromQLPolicy } from './types.js';

const strictParser = parser.configure({ strict: true });

/** Queries longer than this are parsed every time instead of being cached. */
const CACHE_MAX_QUERY_CHARS = 8192;

const cache = new LRUCache<string, ParsedQuery>({
  max: 4096,
  maxSize: 16 * 1024 * 1024,
  // Rough upper bound of an AST's footprint relative to its source text.
  sizeCalculation: (_v, key) => key.length * 16 + 512,
});

/** Empties the parse cache (benchmarks measure cold parses with it). */
export function clearParseCache(): void {
  cache.clear();
}

/** Rejects a query over the byte limit before any parsing. */
export function checkSize(query: string, maxBytes: number): void {
  if (query.length * 3 <= maxBytes) return;
  const bytes = Buffer.byteLength(query, 'utf8');
  if (bytes > maxBytes) {
    throw new PromQLError(
      'limit',
      `query is ${bytes} bytes, more than the limit of ${maxBytes}`,
      undefined,
    );
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Parses and validates `query` (size, lexical rules, grammar, AST shape, selector checks). */
export function parseQuery(query: string, policy: PromQLPolicy): ParsedQuery {
  checkSize(query, policy.maxQueryBytes);
  const cacheable = query.length <= CACHE_MAX_QUERY_CHARS;
  if (cacheable) {
    const hit = cache.get(query);
    if (hit !== undefined) return hit;
  }
  const parsed = parseUncached(query, policy);
  if (cacheable) cache.set(query, parsed);
  return parsed;
}

function parseUncached(query: string, policy: PromQLPolicy): ParsedQuery {
  const bad = LONE_SURROGATE.exec(query);
  if (bad !== null) {
    throw new PromQLError(
      'parse',
      `invalid Unicode (a lone UTF-16 surrogate) at position ${bad.index}`,
      bad.index,
    );
  }
  const toks = lex(query, policy.maxDepth);
  if (toks.kind.length === 0) throw new PromQLError('parse', 'the query is empty', 0);
  let text = query;
  if (toks.holtWinters.length > 0) {
    // lezer-promql 0.305 (Prometheus 3.5) no longer knows holt_winters. Where the policy
    // allows it (2.x upstreams), lezer parses a same-length function name in its place; the
    // builder reads names from the original text, so the AST says holt_winters.
    if (!policy.allowedFunctions.has('holt_winters')) {
      throw functionNotAllowed('holt_winters', toks.holtWinters[0]!);
    }
    for (const at of toks.holtWinters) {
      text = text.slice(0, at) + 'day_of_month' + text.slice(at + 12);
    }
  }
  let tree;
  try {
    tree = strictParser.parse(text);
  } catch (e) {
    throw syntaxError(query, toks, e);
  }
  try {
    return build(query, tree, toks, policy.maxDepth);
  } catch (e) {
    if (!(e instanceof PromQLError)) {
      throw new PromQLError('parse', 'the query is too complex to parse', 0);
    }
    // Past a few thousand levels lezer cuts its stack, and the tree no longer has PromQL's shape.
    if (e.message.startsWith('unsupported') && toks.kind.length > 1500) {
      throw new PromQLError('parse', e.message + TOO_BIG_HINT, e.position);
    }
    throw e;
  }
}

const AGGREGATION_WORDS = new Set([
  'sum',
  'avg',
  'count',
  'min',
  'max',
  'group',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'count_values',
  'quantile',
  'limitk',
  'limit_ratio',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'atan2',
  'offset',
  'start',
  'end',
]);

const TOO_BIG_HINT = ' (the query may be too long or too deeply nested to parse)';

/** Turns lezer's "No parse at N" (or any other throw) into an actionable message. */
function syntaxError(q: string, toks: Tokens, e: unknown): PromQLError {
  const m = e instanceof SyntaxError ? /No parse at (\d+)/.exec(e.message) : null;
  if (m === null) {
    return new PromQLError('parse', 'the query is too complex to parse', 0);
  }
  const pos = Number(m[1]);
  const { kind, start, end } = toks;
  let i = 0;
  while (i < kind.length && end[i]! <= pos) i++;
  const hint = kind.length > 1500 ? TOO_BIG_HINT : '';
  if (i >= kind.length) {
    return new PromQLError('parse', `unexpected end of query: it is incomplete${hint}`, q.length);
  }
  const s = start[i]!;
  if (kind[i] === T.LPAREN && i > 0 && kind[i - 1] === T.IDENT) {
    const name = q.slice(start[i - 1], end[i - 1]);
    if (!KNOWN_FUNCTIONS.has(name) && !AGGREGATION_WORDS.has(name.toLowerCase())) {
      const lower = name.toLowerCase();
      return new PromQLError(
        'parse',
        `unknown function "${name}" at position ${start[i - 1]}` +
          (KNOWN_FUNCTIONS.has(lower) ? ` (function names are case-sensitive: "${lower}")` : ''),
        start[i - 1],
      );
    }
  }
  const text = q.slice(s, Math.min(end[i]!, s + 30));
  return new PromQLError('parse', `unexpected \`${text}\` at position ${s}${hint}`, s);
}
