/**
 * Unit tests of regex.ts: Go's QuoteMeta and the empty-match decision on RE2 patterns,
 * including RE2-only syntax that JavaScript cannot compile directly.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { matcherMatchesEmpty, quoteMeta, regexMatchesEmpty } from '../../src/promql/regex.js';

describe('quoteMeta', () => {
  test('escapes exactly the RE2 metacharacters', () => {
    assert.equal(quoteMeta('a.b'), 'a\\.b');
    assert.equal(quoteMeta('\\.+*?()|[]{}^$'), '\\\\\\.\\+\\*\\?\\(\\)\\|\\[\\]\\{\\}\\^\\$');
    assert.equal(quoteMeta('plain-ns_1'), 'plain-ns_1');
  });

  test('the quoted literal matches itself and only itself', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), (s, other) => {
        const re = new RegExp('^(?:' + quoteMeta(s) + ')$', 'su');
        assert.ok(re.test(s));
        if (other !== s) assert.ok(!re.test(other));
      }),
      { numRuns: 300 },
    );
  });
});

describe('regexMatchesEmpty', () => {
  const cases: [string, boolean | undefined][] = [
    ['', true],
    ['a', false],
    ['.*', true],
    ['.+', false],
    ['a|', true],
    ['x?', true],
    ['(a|b)*', true],
    ['(a|b)+', false],
    ['^$', true],
    ['a{0}', true],
    ['a{0,3}', true],
    ['a{1,3}', false],
    ['(?i)foo', false],
    ['(?i).*', true],
    ['(?is:a)?', true],
    ['(?P<name>x)', false],
    ['(?P<name>x?)', true],
    ['(?<name>x)*', true],
    ['[[:alpha:]]*', true],
    ['[[:alpha:]]+', false],
    ['[^]a]', false],
    ['\\pL*', true],
    ['\\p{Greek}', false],
    ['\\PN?', true],
    ['\\x{10FFFF}', false],
    ['\\Qa.b\\E', false],
    ['\\Q\\E', true],
    ['\\Qab\\E*', false],
    ['\\d+', false],
    ['\\d*', true],
    ['\\Aa?\\z', true],
    ['\\b', false],
    ['\\B', true],
    ['a{', false],
    ['{', false],
    ['x{2,}', false],
    ['(', undefined],
    ['[abc', undefined],
    ['a\\', undefined],
    ['a**', undefined],
  ];
  for (const [re, expected] of cases) {
    test(`${JSON.stringify(re)} → ${String(expected)}`, () => {
      assert.equal(regexMatchesEmpty(re), expected);
    });
  }

  test('undecidable patterns count as not matching "" (the enforced matcher confines them)', () => {
    assert.equal(matcherMatchesEmpty('=~', '('), false);
    assert.equal(matcherMatchesEmpty('!~', '('), false);
  });

  test('matcherMatchesEmpty by operator', () => {
    assert.equal(matcherMatchesEmpty('=', ''), true);
    assert.equal(matcherMatchesEmpty('=', 'x'), false);
    assert.equal(matcherMatchesEmpty('!=', ''), false);
    assert.equal(matcherMatchesEmpty('!=', 'x'), true);
    assert.equal(matcherMatchesEmpty('=~', '.*'), true);
    assert.equal(matcherMatchesEmpty('!~', '.*'), false);
    assert.equal(matcherMatchesEmpty('!~', '.+'), true);
  });
});
