/**
 * Unit tests of lexical.ts: the Go-rules lexer's tokens, string decoding and canonical quoting
 * (round trip), numbers and durations.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  T,
  durationMs,
  isLegacyLabelName,
  lex,
  numberValue,
  quoteString,
} from '../../src/promql/lexical.js';
import { PromQLError } from '../../src/promql/index.js';

function kinds(q: string): string[] {
  const t = lex(q, 256);
  const names = Object.fromEntries(Object.entries(T).map(([k, v]) => [v, k]));
  return t.kind.map((k, i) => `${names[k]}:${q.slice(t.start[i], t.end[i])}`);
}

const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('lex', () => {
  test('tokenises like Prometheus', () => {
    assert.deepEqual(kinds('sum by (pod) (rate(x{a=~"b",c!="d"}[5m:1m] offset -1h))'), [
      'IDENT:sum',
      'IDENT:by',
      'LPAREN:(',
      'IDENT:pod',
      'RPAREN:)',
      'LPAREN:(',
      'IDENT:rate',
      'LPAREN:(',
      'IDENT:x',
      'LBRACE:{',
      'IDENT:a',
      'OP:=~',
      'STRING:"b"',
      'COMMA:,',
      'IDENT:c',
      'OP:!=',
      'STRING:"d"',
      'RBRACE:}',
      'LBRACKET:[',
      'DURATION:5m',
      'COLON::',
      'DURATION:1m',
      'RBRACKET:]',
      'IDENT:offset',
      'OP:-',
      'DURATION:1h',
      'RPAREN:)',
      'RPAREN:)',
    ]);
  });

  test('numbers and durations as Go scans them', () => {
    assert.deepEqual(kinds('1 0x1F 1e3 1E-3 .5 1_000 0755 5m 1h30m 5ms 1y2w Inf'), [
      'NUMBER:1',
      'NUMBER:0x1F',
      'NUMBER:1e3',
      'NUMBER:1E-3',
      'NUMBER:.5',
      'NUMBER:1_000',
      'NUMBER:0755',
      'DURATION:5m',
      'DURATION:1h30m',
      'DURATION:5ms',
      'DURATION:1y2w',
      'IDENT:Inf',
    ]);
    assert.deepEqual(kinds('0X1f 0. a-1'), [
      'NUMBER:0X1f',
      'NUMBER:0.',
      'IDENT:a',
      'OP:-',
      'NUMBER:1',
    ]);
  });

  test('comments and whitespace are not tokens; CRLF ends a comment', () => {
    assert.deepEqual(kinds('a # x\r\n+\tb # y'), ['IDENT:a', 'OP:+', 'IDENT:b']);
  });

  test('metric identifiers keep colons; label names inside braces do not', () => {
    assert.deepEqual(kinds('a:b:c'), ['IDENT:a:b:c']);
    assert.throws(() => lex('x{a:b="c"}', 256), PromQLError);
  });

  test('decodes strings as strutil.Unquote', () => {
    const value = (q: string): string | undefined => lex(q, 256).value[0];
    assert.equal(value('"a\\tb\\x41\\101\\u00e9\\U0001F600"'), 'a\tbAA\u00e9\u{1F600}');
    assert.equal(value("'it\\'s'"), "it's");
    assert.equal(value('`a\\n\rb`'), 'a\\n\rb');
    assert.equal(value('"\\xe2\\x82\\xac"'), '\u20ac');
    assert.equal(value('"\\342\\202\\254"'), '\u20ac');
  });

  test('records holt_winters calls', () => {
    assert.deepEqual(lex('holt_winters (x[5m], 1, 1) + holt_winters', 256).holtWinters, [0]);
  });

  test('nesting limit', () => {
    assert.throws(
      () => lex('((((x))))', 3),
      (e: unknown) => e instanceof PromQLError && e.reason === 'limit',
    );
    assert.equal(lex('((((x))))', 4).kind.length, 9);
  });
});

describe('quoteString', () => {
  test('canonical printable-ASCII form', () => {
    assert.equal(quoteString('plain'), '"plain"');
    assert.equal(quoteString('a"b\\c'), '"a\\"b\\\\c"');
    assert.equal(quoteString('\x07\b\f\n\r\t\v\x00\x7f'), '"\\a\\b\\f\\n\\r\\t\\v\\x00\\x7f"');
    assert.equal(quoteString('é😀\ufffd'), '"\\u00e9\\U0001f600\\ufffd"');
  });

  test('round-trips through the lexer for any string', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !LONE.test(s)),
        (s) => {
          const q = quoteString(s);
          assert.match(q, /^"[\x20-\x7e]*"$/);
          assert.equal(lex(q, 256).value[0], s);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('numbers and durations', () => {
  test('durationMs', () => {
    assert.equal(durationMs('5m', true), 300_000);
    assert.equal(
      durationMs('1y2w3d4h5m6s7ms', true),
      ((365 + 14 + 3) * 24 * 3600 + 4 * 3600 + 5 * 60 + 6) * 1000 + 7,
    );
    assert.ok(Number.isNaN(durationMs('5h5h', true)));
    assert.ok(Number.isNaN(durationMs('1m1h', true)));
    assert.equal(durationMs('300', false), 300_000);
    assert.equal(durationMs('1.5', false), 1500);
    assert.equal(durationMs('Inf', false), Infinity);
  });

  test('numberValue follows ParseInt(base 0) then ParseFloat', () => {
    assert.equal(numberValue('0x1F'), 31);
    assert.equal(numberValue('0X_1f'), 31);
    assert.equal(numberValue('010'), 8);
    assert.equal(numberValue('09'), 9);
    assert.equal(numberValue('1_000'), 1000);
    assert.equal(numberValue('1e3'), 1000);
    assert.equal(numberValue('Inf'), Infinity);
    assert.ok(Number.isNaN(numberValue('NaN')));
  });

  test('isLegacyLabelName', () => {
    assert.ok(isLegacyLabelName('__name__'));
    assert.ok(isLegacyLabelName('a1_b'));
    assert.ok(!isLegacyLabelName('1a'));
    assert.ok(!isLegacyLabelName('k8s.namespace'));
    assert.ok(!isLegacyLabelName(''));
  });
});
