/**
 * Runs the golden table (golden-cases.ts): exact rewrites and error reasons/messages of the
 * PromQL engine. Every successful rewrite must also parse again and print identically
 * (printing is idempotent).
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_POLICY,
  PromQLError,
  checkQuery,
  enforceQuery,
  enforceSelector,
  policyFrom,
  type PromQLPolicy,
} from '../../src/promql/index.js';
import { A, CASES, type GoldenCase, type PolicyName } from './golden-cases.js';

const POLICIES: Record<PolicyName, PromQLPolicy> = {
  default: DEFAULT_POLICY,
  lenient: policyFrom({ strictScope: false }),
  experimental: policyFrom({ experimentalFunctions: true }),
  info: policyFrom({ allowInfo: true }),
  v2: policyFrom({ upstreamMajor: 2 }),
  nolimit: policyFrom({ maxRangeMs: 0 }),
  big: policyFrom({ maxQueryBytes: 65536 }),
};

function run(c: GoldenCase): string {
  const policy = POLICIES[c.policy ?? 'default'];
  const target = c.target ?? A;
  switch (c.mode ?? 'query') {
    case 'query':
      return enforceQuery(c.q, target, policy);
    case 'selector':
      return enforceSelector(c.q, target, policy);
    case 'check':
      return checkQuery(c.q, policy);
  }
}

function title(c: GoldenCase, i: number): string {
  const q = c.q.length > 70 ? c.q.slice(0, 70) + `… (${c.q.length} chars)` : c.q;
  return `#${i} ${c.mode ?? 'query'} ${JSON.stringify(q)}${c.note ? ` — ${c.note}` : ''}`;
}

describe('PromQL golden table', () => {
  test('has at least 200 cases', () => {
    assert.ok(CASES.length >= 200, `only ${CASES.length} cases`);
  });

  CASES.forEach((c, i) => {
    test(title(c, i), () => {
      if (c.err !== undefined) {
        const [reason, fragment] = c.err;
        assert.throws(
          () => run(c),
          (e: unknown) => {
            assert.ok(e instanceof PromQLError, `expected PromQLError, got ${String(e)}`);
            assert.equal(e.reason, reason, `reason (message: ${e.message})`);
            assert.ok(
              e.message.includes(fragment),
              `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(fragment)}`,
            );
            assert.ok(!/No parse at/.test(e.message), 'lezer message leaked');
            if (e.position !== undefined) {
              assert.ok(e.position >= 0 && e.position <= c.q.length, `position ${e.position}`);
            }
            return true;
          },
        );
        return;
      }
      const out = run(c);
      assert.equal(out, c.out);
      // The rewrite parses again and prints to itself.
      const policy = POLICIES[c.policy ?? 'default'];
      assert.equal(checkQuery(out, policy), out);
    });
  });
});
