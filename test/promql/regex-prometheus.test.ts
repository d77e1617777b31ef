/**
 * The empty-match decision of regex.ts against the real RE2, through Prometheus 3.5: for each
 * pattern, `{a=~"<pattern>"}` is sent to `/api/v1/parse_query`; Prometheus answers "vector
 * selector must contain at least one non-empty matcher" exactly when the pattern matches "".
 * Every pattern the engine decides must be decided the same way; undecidable ones (treated as
 * not matching "") are listed.
 *
 * Needs the test bed (`npm run testbed`).
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { quoteString } from '../../src/promql/lexical.js';
import { regexMatchesEmpty } from '../../src/promql/regex.js';
import { startPrometheus, type PrometheusServer } from '../support/index.js';

const FIXED = [
  '',
  '.*',
  '.+',
  'a|',
  '(?i).*',
  '(?i)foo',
  '[[:alpha:]]*',
  '[[:alpha:]]+',
  '\\pL*',
  '\\p{Greek}',
  '\\Qa.b\\E',
  '\\Q\\E',
  '\\Aa?\\z',
  '(?P<n>x?)',
  '^$',
  '^?',
  '\\b?',
  '\\B',
  'x{0}',
  'x{2,}',
  '[^]a]*',
  '\\d*|x',
  '(?s:.)?',
];

const PARTS = [
  'a',
  '.',
  '*',
  '+',
  '?',
  '|',
  '(',
  ')',
  '[',
  ']',
  '^',
  '$',
  '\\d',
  '{2}',
  '{0,1}',
  '(?i)',
  '[[:alpha:]]',
  '\\pL',
  'x',
  '\\b',
  '\\B',
  '(?:',
  '\\Q',
  '\\E',
  '{',
  '}',
  '[^a]',
  '\\z',
  '\\A',
  '(?s)',
];

function generated(count: number): string[] {
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let s = '';
    for (let j = rnd(7); j > 0; j--) s += PARTS[rnd(PARTS.length)];
    out.push(s);
  }
  return out;
}

describe('regexMatchesEmpty agrees with Prometheus 3.5 (RE2)', () => {
  let prom: PrometheusServer;
  before(async () => {
    prom = await startPrometheus({ version: 3 });
  });
  after(async () => {
    await prom?.stop();
  });

  test('fixed and generated patterns', async () => {
    let agreed = 0;
    let invalid = 0;
    const undecided: string[] = [];
    const disagreements: string[] = [];
    for (const re of [...FIXED, ...generated(500)]) {
      const r = await prom.api('/api/v1/parse_query', { query: `{a=~${quoteString(re)}}` });
      let promSays: boolean;
      if (r.ok) promSays = false;
      else if (/non-empty matcher/.test(JSON.stringify(r.body))) promSays = true;
      else {
        invalid++;
        continue;
      }
      const mine = regexMatchesEmpty(re);
      if (mine === undefined) undecided.push(`${JSON.stringify(re)} (Prometheus: ${promSays})`);
      else if (mine === promSays) agreed++;
      else disagreements.push(`${JSON.stringify(re)}: engine ${mine}, Prometheus ${promSays}`);
    }
    console.log(
      `  ${agreed} agreed, ${invalid} invalid in RE2, ${undecided.length} undecided: ` +
        undecided.join(', '),
    );
    assert.deepEqual(disagreements, []);
    assert.ok(agreed > 150, `only ${agreed} patterns compared`);
  });
});
