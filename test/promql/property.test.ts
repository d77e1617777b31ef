/**
 * Property tests over generated PromQL (gen.ts): for any query the generator writes, with any
 * legal noise (whitespace, comments, keyword case, quote styles, escapes, trailing commas):
 *
 * - the rewrite parses again, and its selectors are exactly the generated ones, in order, each
 *   with the user's matchers unchanged followed by the enforced matcher, once;
 * - printing is idempotent: print(parse(print(parse(q)))) === print(parse(q));
 * - rewriting is stable: enforce(print(parse(q))) === enforce(q), and enforcing a rewrite
 *   again appends exactly one more matcher per selector;
 * - the noise does not matter: the noisy and the plain text rewrite identically.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_POLICY,
  checkQuery,
  enforceQuery,
  parseQuery,
  type EnforceTarget,
  type MatcherItem,
} from '../../src/promql/index.js';
import { PLAIN, expr, print, selectorsOf, style, type GItem } from './gen.js';

const ONE: EnforceTarget = { label: 'namespace', values: ['a'] };
const MANY: EnforceTarget = { label: 'namespace', values: ['a', 'b.c', 'd|e'] };
const ENFORCED_ONE: GItem = {
  kind: 'matcher',
  name: 'namespace',
  quoted: false,
  op: '=',
  value: 'a',
};
const ENFORCED_MANY: GItem = {
  kind: 'matcher',
  name: 'namespace',
  quoted: false,
  op: '=~',
  value: 'a|b\\.c|d\\|e',
};

const RUNS = Number(process.env.PROMQL_PROPERTY_RUNS ?? 400);

/** Plain objects (fast-check records have a null prototype), without positions. */
function strip(items: readonly (MatcherItem | GItem)[]): GItem[] {
  return items.map((m) =>
    m.kind === 'name'
      ? { kind: 'name', value: m.value }
      : { kind: 'matcher', name: m.name, quoted: m.quoted, op: m.op, value: m.value },
  );
}

function selectorsIn(text: string): { name: string | null; items: GItem[] }[] {
  return parseQuery(text, DEFAULT_POLICY).selectors.map((s) => ({
    name: s.name,
    items: strip(s.items),
  }));
}

describe('PromQL properties', () => {
  test('every selector of the rewrite carries the user matchers plus one enforced matcher', () => {
    fc.assert(
      fc.property(expr, style, fc.boolean(), (g, s, many) => {
        const q = print(g, s);
        const target = many ? MANY : ONE;
        const enforced = many ? ENFORCED_MANY : ENFORCED_ONE;
        const out = enforceQuery(q, target, DEFAULT_POLICY);
        const expected = selectorsOf(g).map((sel) => ({
          name: sel.name,
          items: strip([...sel.items, enforced]),
        }));
        assert.deepEqual(selectorsIn(out), expected, `query ${JSON.stringify(q)}\nrewrite ${out}`);
      }),
      { numRuns: RUNS },
    );
  });

  test('printing is idempotent and independent of the noise', () => {
    fc.assert(
      fc.property(expr, style, (g, s) => {
        const noisy = print(g, s);
        const once = checkQuery(noisy, DEFAULT_POLICY);
        assert.equal(checkQuery(once, DEFAULT_POLICY), once, `query ${JSON.stringify(noisy)}`);
        assert.equal(checkQuery(print(g, PLAIN), DEFAULT_POLICY), once);
      }),
      { numRuns: RUNS },
    );
  });

  test('enforcement is stable: enforce(print(parse(q))) === enforce(q); twice appends twice', () => {
    fc.assert(
      fc.property(expr, style, (g, s) => {
        const q = print(g, s);
        const out = enforceQuery(q, ONE, DEFAULT_POLICY);
        assert.equal(enforceQuery(checkQuery(q, DEFAULT_POLICY), ONE, DEFAULT_POLICY), out);
        const twice = enforceQuery(out, ONE, DEFAULT_POLICY);
        const expected = selectorsOf(g).map((sel) => ({
          name: sel.name,
          items: strip([...sel.items, ENFORCED_ONE, ENFORCED_ONE]),
        }));
        assert.deepEqual(selectorsIn(twice), expected);
      }),
      { numRuns: RUNS },
    );
  });
});
