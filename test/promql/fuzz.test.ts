/**
 * Fuzzing: garbage and mutated queries never crash the engine — it either throws PromQLError
 * or returns a rewrite in which every selector of the input carries the enforced matcher — and
 * strict parsing keeps 64 KiB of garbage cheap (times are printed, never asserted).
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_POLICY,
  PromQLError,
  enforceQuery,
  enforceSelector,
  parseQuery,
  policyFrom,
  type EnforceTarget,
  type PromQLPolicy,
} from '../../src/promql/index.js';
import { expr, print, style } from './gen.js';

const T: EnforceTarget = { label: 'namespace', values: ['a', 'b'] };
const RUNS = Number(process.env.PROMQL_FUZZ_RUNS ?? 1500);
const WIDE = policyFrom({ maxQueryBytes: 1 << 20, maxDepth: 100_000, maxSelectors: 1_000_000 });

/** Runs `fn`; a non-PromQLError throw fails the test. Returns the rewrite or null. */
function attempt(fn: () => string): string | null {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PromQLError) return null;
    throw e;
  }
}

/** If the engine accepted `q`, its rewrite must confine every selector of `q`. */
function checkAccepted(q: string, policy: PromQLPolicy): void {
  const out = attempt(() => enforceQuery(q, T, policy));
  if (out === null) return;
  const before = parseQuery(q, policy).selectors;
  const after = parseQuery(out, policy).selectors;
  assert.equal(
    after.length,
    before.length,
    `selector count changed: ${JSON.stringify(q)} → ${out}`,
  );
  for (const s of after) {
    const last = s.items[s.items.length - 1];
    assert.ok(
      last !== undefined &&
        last.kind === 'matcher' &&
        last.name === 'namespace' &&
        last.op === '=~' &&
        last.value === 'a|b',
      `selector without the enforced matcher in ${out} (from ${JSON.stringify(q)})`,
    );
  }
}

const NASTY = [
  ...'"\'`\\#\r\n\t {}[]()=~!,@:-+*/^%<>._0123456789aeEsmhdxXyz',
  '\u00a0',
  '\u2028',
  '\ufeff',
  '\ufffd',
  '\ud800',
  'é',
  '😀',
  ' offset ',
  ' by ',
  ' and ',
  ' bool ',
  'sum(',
  'rate(',
  'info(',
  '{namespace="c"}',
  '[5m]',
  '[5m:1m]',
  ' @ start()',
  'namespace',
  '"namespace"="c"',
  '# \r',
];

const mutation = fc.record({
  at: fc.nat(),
  del: fc.nat(3),
  ins: fc.array(fc.constantFrom(...NASTY), { maxLength: 3 }),
});

function mutate(q: string, ms: { at: number; del: number; ins: string[] }[]): string {
  let s = q;
  for (const m of ms) {
    const at = s.length === 0 ? 0 : m.at % (s.length + 1);
    s = s.slice(0, at) + m.ins.join('') + s.slice(at + m.del);
  }
  return s;
}

describe('PromQL fuzzing', () => {
  test('random strings: only PromQLError, and accepted ones are confined', () => {
    const garbage = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.string({ unit: 'grapheme', maxLength: 60 }),
      fc.array(fc.constantFrom(...NASTY), { maxLength: 30 }).map((a) => a.join('')),
    );
    fc.assert(
      fc.property(garbage, (q) => {
        checkAccepted(q, DEFAULT_POLICY);
        attempt(() => enforceSelector(q, T, DEFAULT_POLICY));
      }),
      { numRuns: RUNS },
    );
  });

  test('mutated valid queries: only PromQLError, and accepted ones are confined', () => {
    fc.assert(
      fc.property(expr, style, fc.array(mutation, { minLength: 1, maxLength: 4 }), (g, s, ms) => {
        checkAccepted(mutate(print(g, s), ms), DEFAULT_POLICY);
      }),
      { numRuns: RUNS },
    );
  });

  test('hostile nesting and chains never overflow the stack', () => {
    const hostile = [
      '('.repeat(20_000) + 'up' + ')'.repeat(20_000),
      '-'.repeat(30_000) + 'up',
      Array(10_000).fill('up').join(' + '),
      Array(10_000).fill('up').join(' and on() '),
      'abs('.repeat(5_000) + 'up' + ')'.repeat(5_000),
      'up' + ' offset 5m'.repeat(5_000),
      'up' + '[5m:]'.repeat(3_000),
      '{a="b",'.repeat(5_000),
      '"'.repeat(50_000),
      '#'.repeat(50_000),
    ];
    for (const q of hostile) {
      for (const policy of [DEFAULT_POLICY, WIDE]) {
        const t0 = performance.now();
        const out = attempt(() => enforceQuery(q, T, policy));
        const ms = performance.now() - t0;
        console.log(
          `  ${JSON.stringify(q.slice(0, 24))}… ${q.length} chars, maxDepth ${policy.maxDepth}: ` +
            `${out === null ? 'rejected' : 'accepted'} in ${ms.toFixed(1)} ms`,
        );
        if (out !== null) checkAccepted(q, policy);
      }
    }
  });

  test('64 KiB of garbage is rejected (times printed, not asserted)', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const chars = '(){}[]"\'`,=~!+-*/^%<>@ abcxyz0123456789#\n.:';
    let chars64 = '';
    for (let i = 0; i < 65536; i++) chars64 += chars[rand(chars.length)];
    const words = [
      'up',
      'sum',
      '(',
      ')',
      '{',
      '}',
      'a="b"',
      ',',
      '+',
      'by',
      'offset',
      '5m',
      '[5m]',
      '1',
      'rate',
      'and',
    ];
    let salad = '';
    while (salad.length < 65536) salad += words[rand(words.length)] + ' ';
    const valid =
      'sum(' + Array(2_000).fill('rate(x{job="api"}[5m])').join(' + ').slice(0, 65_000) + ')';
    const cases: [string, string, PromQLPolicy][] = [
      ['random characters, default policy (size limit)', chars64, DEFAULT_POLICY],
      ['random characters, 1 MiB limit (lexer)', chars64, WIDE],
      ['token salad, 1 MiB limit (lezer strict)', salad, WIDE],
      ['valid-looking 64 KiB sum, default policy', valid, DEFAULT_POLICY],
    ];
    for (const [name, q, policy] of cases) {
      const t0 = performance.now();
      assert.throws(
        () => enforceQuery(q, T, policy),
        (e: unknown) => e instanceof PromQLError,
      );
      const ms = performance.now() - t0;
      console.log(`  ${name}: ${q.length} chars rejected in ${ms.toFixed(2)} ms`);
    }
  });
});
