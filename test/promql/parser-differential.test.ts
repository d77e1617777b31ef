/**
 * Differential test of the PromQL engine against the real Prometheus parsers (issue 2, Proof):
 * Prometheus 2.42 (`/api/v1/format_query`) and 3.5 (`/api/v1/parse_query`, Go's AST).
 *
 * - The corpus itself: every query is accepted by exactly the versions it names.
 * - For every valid corpus query and a one-value and a two-value target, promgate's rewrite
 *   is accepted by 2.42, and 3.5's AST of the rewrite equals its AST of the original plus
 *   exactly one enforced matcher per selector (vector and matrix selectors).
 * - Invalid queries are refused by promgate; queries only Prometheus's type checker rejects
 *   are either refused or still rejected by Prometheus after the rewrite (never made valid).
 * - Queries the default policy refuses (info(), a `#` comment ended by `\r`) are refused.
 * - With a strict scope, queries naming namespaces outside it are refused, others are not.
 *
 * Needs the test bed (`npm run testbed`); servers run with no scrape jobs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import {
  enforceQuery,
  PromQLError,
  policyFrom,
  type EnforceTarget,
  type PromQLPolicy,
} from '../../src/promql/index.js';
import {
  CORPUS,
  invalidEverywhere,
  namedNamespaces,
  validFor,
  type CorpusQuery,
  type PromVersion,
} from '../corpus/queries.js';
import {
  enforcedMatcher,
  startPrometheus,
  stripMatcherPerSelector,
  type ApiResult,
  type PrometheusServer,
} from '../support/index.js';

const TARGETS: readonly EnforceTarget[] = [
  { label: 'namespace', values: ['team-a-dev'] },
  { label: 'namespace', values: ['team-a-dev', 'team-a-prod'] },
];

/** Permissive limits, no strict scope (adversarial queries must be rewritten, not refused). */
function policyFor(version: PromVersion, strictScope = false): PromQLPolicy {
  return policyFrom({ strictScope, experimentalFunctions: version === 3, upstreamMajor: version });
}

/** Runs fn over items with at most `limit` in flight; results in input order. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (x: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Rewrites, or returns the PromQLError (anything else is a bug and is rethrown). */
function rewrite(query: string, target: EnforceTarget, policy: PromQLPolicy): string | PromQLError {
  try {
    return enforceQuery(query, target, policy);
  } catch (err) {
    if (err instanceof PromQLError) return err;
    throw err;
  }
}

const show = (q: CorpusQuery): string => `[${q.id}] ${JSON.stringify(q.query)}`;

function report(failures: readonly string[], checked: number, what: string): void {
  assert.equal(
    failures.length,
    0,
    `${failures.length} of ${checked} ${what}:\n${failures.slice(0, 40).join('\n')}`,
  );
}

let v2: PrometheusServer;
let v3: PrometheusServer;

/** Does Prometheus `version` parse `query`? (2.x: format_query, 3.x: parse_query.) */
function parse(version: PromVersion, query: string): Promise<ApiResult<unknown>> {
  return version === 2
    ? v2.api('/api/v1/format_query', { query }, { method: 'POST' })
    : v3.api('/api/v1/parse_query', { query }, { method: 'POST' });
}

describe('PromQL engine vs Prometheus 2.42 and 3.5 parsers', () => {
  before(async () => {
    [v2, v3] = await Promise.all([
      startPrometheus({ version: 2 }),
      startPrometheus({ version: 3 }),
    ]);
  });
  after(() => Promise.all([v2?.stop(), v3?.stop()]));

  test('the corpus is accepted by exactly the Prometheus versions it names', async (t) => {
    assert.ok(CORPUS.length >= 120, `corpus has ${CORPUS.length} queries`);
    assert.equal(new Set(CORPUS.map((q) => q.id)).size, CORPUS.length, 'ids are unique');
    const failures: string[] = [];
    await mapLimit(CORPUS, 8, async (q) => {
      for (const v of [2, 3] as const) {
        const r = await parse(v, q.query);
        if (r.ok !== q.validIn.includes(v)) {
          failures.push(`${show(q)}: Prometheus ${v} ${r.ok ? 'accepts' : `rejects (${r.error})`}`);
        }
      }
    });
    t.diagnostic(
      `${CORPUS.length} queries: ${validFor(2).length} valid on 2.42, ${validFor(3).length} on 3.5, ` +
        `${invalidEverywhere().length} invalid everywhere`,
    );
    report(failures, CORPUS.length * 2, 'corpus verdicts disagree with the real parsers');
  });

  for (const target of TARGETS) {
    const label = target.values.join(',');
    const matcher = enforcedMatcher(target.label, target.values);

    test(`2.42 accepts every rewrite of the valid 2.x corpus (scope ${label})`, async (t) => {
      const queries = validFor(2).filter((q) => !q.refused);
      const policy = policyFor(2);
      const failures: string[] = [];
      await mapLimit(queries, 8, async (q) => {
        const rw = rewrite(q.query, target, policy);
        if (rw instanceof PromQLError) {
          failures.push(`${show(q)}: promgate refused: ${rw.reason}: ${rw.message}`);
          return;
        }
        const r = await parse(2, rw);
        if (!r.ok)
          failures.push(`${show(q)}\n    rewrite ${JSON.stringify(rw)}\n    2.42: ${r.error}`);
      });
      t.diagnostic(`${queries.length} queries checked`);
      report(failures, queries.length, 'rewrites failed on 2.42');
    });

    test(`3.5 AST of every rewrite = original + one ${matcher.name}${matcher.type}"${matcher.value}" per selector`, async (t) => {
      const queries = validFor(3).filter((q) => !q.refused);
      const policy = policyFor(3);
      const failures: string[] = [];
      let selectors = 0;
      await mapLimit(queries, 8, async (q) => {
        const rw = rewrite(q.query, target, policy);
        if (rw instanceof PromQLError) {
          failures.push(`${show(q)}: promgate refused: ${rw.reason}: ${rw.message}`);
          return;
        }
        const [orig, rewritten] = await Promise.all([parse(3, q.query), parse(3, rw)]);
        if (!orig.ok || !rewritten.ok) {
          const why = !orig.ok
            ? `original: ${orig.error}`
            : `rewrite: ${rewritten.ok ? '' : rewritten.error}`;
          failures.push(`${show(q)}\n    rewrite ${JSON.stringify(rw)}\n    3.5 ${why}`);
          return;
        }
        const stripped = stripMatcherPerSelector(rewritten.data, matcher);
        selectors += stripped.selectors;
        if (stripped.problems.length > 0) {
          failures.push(
            `${show(q)}\n    rewrite ${JSON.stringify(rw)}\n    ${stripped.problems.join('\n    ')}`,
          );
        } else if (!isDeepStrictEqual(stripped.tree, orig.data)) {
          failures.push(
            `${show(q)}\n    rewrite ${JSON.stringify(rw)}\n    AST differs beyond the enforced matchers:` +
              `\n    want ${JSON.stringify(orig.data)}\n    got  ${JSON.stringify(stripped.tree)}`,
          );
        }
      });
      t.diagnostic(`${queries.length} queries, ${selectors} selectors checked`);
      report(failures, queries.length, 'rewrites differ from the original on 3.5');
    });
  }

  test('promgate refuses every query invalid everywhere (type errors: or Prometheus still rejects the rewrite)', async (t) => {
    const target = TARGETS[1] as EnforceTarget;
    const failures: string[] = [];
    let refusedTypeErrors = 0;
    const queries = invalidEverywhere();
    await mapLimit(queries, 8, async (q) => {
      for (const v of [2, 3] as const) {
        const rw = rewrite(q.query, target, policyFor(v));
        if (rw instanceof PromQLError) {
          if (q.invalid === 'type') refusedTypeErrors++;
          continue;
        }
        if (q.invalid !== 'type') {
          failures.push(
            `${show(q)} (${q.invalid}): promgate ${v}.x policy accepted it as ${JSON.stringify(rw)}`,
          );
          continue;
        }
        const r = await parse(v, rw);
        if (r.ok)
          failures.push(`${show(q)}: the rewrite ${JSON.stringify(rw)} became valid on ${v}.x`);
      }
    });
    const typeErrors = queries.filter((q) => q.invalid === 'type').length * 2;
    t.diagnostic(
      `${queries.length} invalid queries; promgate itself refused ${refusedTypeErrors} of ${typeErrors} type-error checks`,
    );
    report(failures, queries.length * 2, 'invalid queries were not refused');
  });

  test('queries valid on one version only: refused, or the rewrite is still rejected there', async () => {
    const target = TARGETS[0] as EnforceTarget;
    const failures: string[] = [];
    const queries = CORPUS.filter((q) => q.validIn.length === 1);
    await mapLimit(queries, 8, async (q) => {
      const v: PromVersion = q.validIn.includes(2) ? 3 : 2;
      const rw = rewrite(q.query, target, policyFor(v));
      if (rw instanceof PromQLError) return;
      const r = await parse(v, rw);
      if (r.ok)
        failures.push(
          `${show(q)}: rewrite ${JSON.stringify(rw)} parses on ${v}.x, the original does not`,
        );
    });
    report(failures, queries.length, 'version-specific queries changed meaning');
  });
});

test('promgate refuses what its default policy refuses (info(), `#` comments ended by \\r)', () => {
  const queries = CORPUS.filter((q) => q.refused);
  assert.ok(queries.length >= 2);
  for (const q of queries) {
    for (const v of q.validIn) {
      const rw = rewrite(q.query, TARGETS[0] as EnforceTarget, policyFor(v));
      assert.ok(rw instanceof PromQLError, `${show(q)} on ${v}.x was rewritten to ${String(rw)}`);
      if (q.refused === 'info') assert.equal(rw.reason, 'function', show(q));
    }
  }
});

test('with a strict scope, queries naming outside namespaces are refused and the rest rewritten', () => {
  const target = TARGETS[1] as EnforceTarget;
  const inScope = new Set(target.values);
  let refused = 0;
  for (const v of [2, 3] as const) {
    const policy = policyFor(v, true);
    for (const q of validFor(v).filter((x) => !x.refused)) {
      const outside = namedNamespaces(q.query).filter((ns) => !inScope.has(ns));
      const rw = rewrite(q.query, target, policy);
      if (outside.length > 0) {
        assert.ok(
          rw instanceof PromQLError,
          `${show(q)} names ${outside.join(', ')} but was rewritten`,
        );
        assert.equal(rw.reason, 'out_of_scope', `${show(q)}: ${rw.message}`);
        refused++;
      } else {
        assert.equal(
          typeof rw,
          'string',
          `${show(q)}: ${rw instanceof PromQLError ? rw.message : ''}`,
        );
      }
    }
  }
  assert.ok(
    refused >= 10,
    `only ${refused} strict refusals: the corpus lost its adversarial queries?`,
  );
});
