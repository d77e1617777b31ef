/**
 * Tests of the API beyond the golden table: enforceMatchers (remote read),
 * enforcedSelectorText, the policy helpers, the parse cache re-applying the policy, and the
 * shape of errors.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_POLICY,
  EXPERIMENTAL_FUNCTIONS,
  PromQLError,
  STABLE_FUNCTIONS,
  checkQuery,
  clearParseCache,
  enforceMatchers,
  enforceQuery,
  enforcedSelectorText,
  policyFrom,
  type LabelMatcher,
  type PromQLErrorReason,
} from '../../src/promql/index.js';
import { formatDuration } from '../../src/promql/policy.js';

const A = { label: 'namespace', values: ['a'] };
const AB = { label: 'namespace', values: ['b', 'a'] };

function throwsReason(fn: () => unknown, reason: PromQLErrorReason, fragment: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PromQLError, String(e));
    assert.equal(e.reason, reason, e.message);
    assert.ok(e.message.includes(fragment), e.message);
    return true;
  });
}

describe('enforceMatchers', () => {
  const up: LabelMatcher = { name: '__name__', type: '=', value: 'up' };

  test('appends the enforced matcher and keeps the user matchers', () => {
    const job: LabelMatcher = { name: 'job', type: '=~', value: 'a.*' };
    assert.deepEqual(enforceMatchers([up, job], A, DEFAULT_POLICY), [
      up,
      job,
      { name: 'namespace', type: '=', value: 'a' },
    ]);
    assert.deepEqual(enforceMatchers([up], AB, DEFAULT_POLICY), [
      up,
      { name: 'namespace', type: '=~', value: 'a|b' },
    ]);
  });

  test('does not modify its input', () => {
    const input = [up];
    enforceMatchers(input, A, DEFAULT_POLICY);
    assert.deepEqual(input, [up]);
  });

  test('rejects lists whose matchers all match the empty value', () => {
    throwsReason(() => enforceMatchers([], A, DEFAULT_POLICY), 'empty_selector', 'non-empty');
    throwsReason(
      () => enforceMatchers([{ name: 'job', type: '=~', value: '.*' }], A, DEFAULT_POLICY),
      'empty_selector',
      'at least one non-empty matcher',
    );
    throwsReason(
      () => enforceMatchers([{ name: 'job', type: '=', value: '' }], A, DEFAULT_POLICY),
      'empty_selector',
      'non-empty',
    );
  });

  test('strict scope names the value; lenient lets it through', () => {
    const other: LabelMatcher = { name: 'namespace', type: '=', value: 'other' };
    throwsReason(
      () => enforceMatchers([up, other], A, { strictScope: true }),
      'out_of_scope',
      'namespace "other" is outside your scope',
    );
    assert.equal(enforceMatchers([up, other], A, { strictScope: false }).length, 3);
  });

  test('rejects malformed matchers and empty scopes', () => {
    const bad = { name: 'job', type: '==', value: 'x' } as unknown as LabelMatcher;
    throwsReason(() => enforceMatchers([bad], A, DEFAULT_POLICY), 'parse', 'invalid label matcher');
    throwsReason(
      () => enforceMatchers([up], { label: 'namespace', values: [] }, DEFAULT_POLICY),
      'out_of_scope',
      'no namespace values',
    );
  });
});

describe('enforcedSelectorText', () => {
  test('one value, several values, unusual label', () => {
    assert.equal(enforcedSelectorText(A), '{namespace="a"}');
    assert.equal(
      enforcedSelectorText({ label: 'namespace', values: ['z', 'a.b', 'a.b', 'c'] }),
      '{namespace=~"a\\\\.b|c|z"}',
    );
    assert.equal(enforcedSelectorText({ label: 'k8s.ns', values: ['x'] }), '{"k8s.ns"="x"}');
    throwsReason(() => enforcedSelectorText({ label: '', values: ['x'] }), 'out_of_scope', 'label');
  });

  test('is itself a valid, enforced selector', () => {
    const sel = enforcedSelectorText(AB);
    assert.equal(checkQuery(sel, DEFAULT_POLICY), sel);
  });
});

describe('policy', () => {
  test('defaults', () => {
    assert.equal(DEFAULT_POLICY.maxQueryBytes, 32 * 1024);
    assert.equal(DEFAULT_POLICY.maxDepth, 256);
    assert.equal(DEFAULT_POLICY.maxSelectors, 500);
    assert.equal(DEFAULT_POLICY.maxRangeMs, 366 * 86_400_000);
    assert.equal(DEFAULT_POLICY.strictScope, true);
    for (const f of STABLE_FUNCTIONS) assert.ok(DEFAULT_POLICY.allowedFunctions.has(f), f);
    for (const f of EXPERIMENTAL_FUNCTIONS) assert.ok(!DEFAULT_POLICY.allowedFunctions.has(f), f);
    assert.ok(!DEFAULT_POLICY.allowedFunctions.has('info'));
    assert.ok(!DEFAULT_POLICY.allowedFunctions.has('holt_winters'));
  });

  test('policyFrom options', () => {
    const p = policyFrom({
      maxQueryBytes: 1000,
      maxDepth: 10,
      maxSelectors: 3,
      maxRangeMs: 0,
      strictScope: false,
      experimentalFunctions: true,
      allowInfo: true,
      upstreamMajor: 2,
      deniedFunctions: ['rate'],
    });
    assert.equal(p.maxQueryBytes, 1000);
    assert.equal(p.maxDepth, 10);
    assert.equal(p.maxSelectors, 3);
    assert.equal(p.maxRangeMs, 0);
    assert.equal(p.strictScope, false);
    for (const f of ['limitk', 'info', 'holt_winters', 'mad_over_time']) {
      assert.ok(p.allowedFunctions.has(f), f);
    }
    assert.ok(!p.allowedFunctions.has('rate'));
    throwsReason(() => checkQuery('rate(x[5m])', p), 'function', 'function "rate" is not allowed');
    assert.equal(checkQuery('x[10000d]', p), 'x[10000d]');
    throwsReason(() => checkQuery('a + b + c + d', p), 'limit', 'query has 4 selectors');
  });

  test('policyFrom rejects nonsense', () => {
    assert.throws(() => policyFrom({ maxDepth: 0 }), TypeError);
    assert.throws(() => policyFrom({ maxSelectors: -1 }), TypeError);
    assert.throws(() => policyFrom({ maxQueryBytes: 1.5 }), TypeError);
    assert.throws(() => policyFrom({ upstreamMajor: 4 as 3 }), TypeError);
  });

  test('formatDuration', () => {
    assert.equal(formatDuration(366 * 86_400_000), '366d');
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(1500), '1s500ms');
    assert.equal(formatDuration(0), '0s');
  });
});

describe('parse cache', () => {
  test('a cached parse is re-checked against each policy', () => {
    clearParseCache();
    const deep = '('.repeat(20) + 'up' + ')'.repeat(20);
    const wide = policyFrom({ maxDepth: 100 });
    assert.equal(
      enforceQuery(deep, A, wide),
      '('.repeat(20) + 'up{namespace="a"}' + ')'.repeat(20),
    );
    throwsReason(() => enforceQuery(deep, A, policyFrom({ maxDepth: 10 })), 'limit', 'levels deep');
    const hw = 'holt_winters(x[5m], 0.5, 0.5)';
    assert.equal(
      enforceQuery(hw, A, policyFrom({ upstreamMajor: 2 })),
      'holt_winters(x{namespace="a"}[5m], 0.5, 0.5)',
    );
    throwsReason(() => enforceQuery(hw, A, DEFAULT_POLICY), 'function', 'holt_winters');
    throwsReason(() => enforceQuery('x{namespace="b"}', A, DEFAULT_POLICY), 'out_of_scope', '"b"');
    assert.equal(
      enforceQuery('x{namespace="b"}', AB, DEFAULT_POLICY),
      'x{namespace="b",namespace=~"a|b"}',
    );
  });

  test('the size limit applies before the cache', () => {
    const q = 'up{a="' + 'x'.repeat(2000) + '"}';
    enforceQuery(q, A, DEFAULT_POLICY);
    throwsReason(() => enforceQuery(q, A, policyFrom({ maxQueryBytes: 1000 })), 'limit', 'bytes');
  });
});

describe('errors', () => {
  test('carry a reason, a position and an actionable message', () => {
    const cases: [string, PromQLErrorReason, number, string][] = [
      ['sum(rate(x[5m])))', 'parse', 16, 'unexpected `)` at position 16'],
      ['up{a="b}', 'parse', 5, 'unterminated string starting at 5'],
      ['rate(x[5m]) + info(x)', 'function', 14, 'function "info" is not allowed'],
      ['x{namespace="z"}', 'out_of_scope', 2, 'namespace "z" is outside your scope'],
      [
        'rate({}[5m])',
        'empty_selector',
        5,
        'vector selector must contain at least one non-empty matcher',
      ],
    ];
    for (const [q, reason, position, message] of cases) {
      assert.throws(
        () => enforceQuery(q, A, DEFAULT_POLICY),
        (e: unknown) =>
          e instanceof PromQLError &&
          e.name === 'PromQLError' &&
          e.reason === reason &&
          e.position === position &&
          e.message.includes(message),
        q,
      );
    }
  });
});
