/**
 * The golden table of the PromQL engine: every case is a query (or match[] selector), the
 * target and policy it runs under, and the exact rewrite or the error reason plus a fragment
 * of the message. Run by golden.test.ts.
 *
 * Unless a case says otherwise it runs `enforceQuery` with target A (`namespace="a"`) and the
 * default policy.
 */

import type { EnforceTarget, PromQLErrorReason } from '../../src/promql/index.js';

export const A: EnforceTarget = { label: 'namespace', values: ['a'] };
export const MANY: EnforceTarget = { label: 'namespace', values: ['b', 'a', 'a.b', 'c|d'] };
export const DOTTED: EnforceTarget = { label: 'k8s.namespace', values: ['a'] };
export const QUOTEY: EnforceTarget = { label: 'namespace', values: ['we"ird\\'] };

export type PolicyName = 'default' | 'lenient' | 'experimental' | 'info' | 'v2' | 'nolimit' | 'big';

export interface GoldenCase {
  readonly q: string;
  /** The exact rewrite, or an error. */
  readonly out?: string;
  readonly err?: readonly [PromQLErrorReason, string];
  readonly mode?: 'query' | 'selector' | 'check';
  readonly target?: EnforceTarget;
  readonly policy?: PolicyName;
  readonly note?: string;
}

const E = 'namespace="a"';

/** Balanced binary tree of `n` selectors joined with `+` (depth ~log2 n). */
function balanced(n: number): string {
  if (n === 1) return 'up';
  const l = Math.floor(n / 2);
  return `(${balanced(l)} + ${balanced(n - l)})`;
}

const ok = (q: string, out: string, extra: Partial<GoldenCase> = {}): GoldenCase => ({
  q,
  out,
  ...extra,
});
const bad = (
  q: string,
  reason: PromQLErrorReason,
  fragment: string,
  extra: Partial<GoldenCase> = {},
): GoldenCase => ({ q, err: [reason, fragment], ...extra });

export const CASES: readonly GoldenCase[] = [
  // --- plain selectors ---
  ok('up', `up{${E}}`),
  ok('up{}', `up{${E}}`),
  ok('up{job="api"}', `up{job="api",${E}}`),
  ok('up{job="api",}', `up{job="api",${E}}`),
  ok('up { job = "api" , instance != "x" }', `up{job="api",instance!="x",${E}}`),
  ok('up{job=~"a.*",job!~"ab"}', `up{job=~"a.*",job!~"ab",${E}}`),
  ok('{__name__="up"}', `{__name__="up",${E}}`),
  ok('{__name__=~"up|down"}', `{__name__=~"up|down",${E}}`),
  ok('{__name__=~".+"}', `{__name__=~".+",${E}}`),
  ok('{job="api"}', `{job="api",${E}}`),
  ok('{job!=""}', `{job!="",${E}}`),
  ok('{job=~".+"}', `{job=~".+",${E}}`),
  ok('job:rate5m:sum', `job:rate5m:sum{${E}}`),
  ok(':colon_first', `:colon_first{${E}}`),
  ok('UP_Mixed_Case', `UP_Mixed_Case{${E}}`),
  ok('offset_seconds', `offset_seconds{${E}}`, { note: 'identifier that starts with a keyword' }),
  ok('rate', `rate{${E}}`, { note: 'a function name used as a metric name' }),
  ok('sum', `sum{${E}}`, { note: 'an aggregation keyword used as a metric name' }),
  ok('up{offset="x"}', `up{offset="x",${E}}`, { note: 'offset as a label name' }),
  ok('up{by="x",on="y"}', `up{by="x",on="y",${E}}`),
  ok('{__name__="offset"}', `{__name__="offset",${E}}`, { note: 'metric named offset' }),

  // --- UTF-8 quoted names (3.x) ---
  ok('{"my.metric"}', `{"my.metric",${E}}`),
  ok('{"my.metric", "ns"="x"}', `{"my.metric","ns"="x",${E}}`),
  ok('{"k8s.pod"=~"x.*", "my.metric"}', `{"k8s.pod"=~"x.*","my.metric",${E}}`),
  ok('up{"job"="x"}', `up{"job"="x",${E}}`),
  ok('{"offset"}', `{"offset",${E}}`),
  ok(`{'single.quoted'}`, `{"single.quoted",${E}}`),
  ok('{"caf\u00e9"}', `{"caf\\u00e9",${E}}`),
  ok('sum by ("k8s.pod", job) (up)', `sum by ("k8s.pod", job) (up{${E}})`),
  ok(
    'up * on("k8s.pod") group_left("team.name") info_metric',
    `up{${E}} * on ("k8s.pod") group_left ("team.name") info_metric{${E}}`,
  ),

  // --- strings and escapes ---
  ok(`up{a='b'}`, `up{a="b",${E}}`),
  ok('up{a=`b\\n`}', `up{a="b\\\\n",${E}}`, { note: 'raw string: backslash is literal' }),
  ok('up{a=`multi\nline`}', `up{a="multi\\nline",${E}}`),
  ok('up{a="\\u00e9"}', `up{a="\\u00e9",${E}}`),
  ok('up{a="\u00e9"}', `up{a="\\u00e9",${E}}`),
  ok('up{a="\\x41\\101\\u0041\\U00000041"}', `up{a="AAAA",${E}}`),
  ok('up{a="\\xc3\\xa9"}', `up{a="\\u00e9",${E}}`, { note: 'byte escapes forming UTF-8' }),
  ok('up{a="\\a\\b\\f\\n\\r\\t\\v\\\\"}', `up{a="\\a\\b\\f\\n\\r\\t\\v\\\\",${E}}`),
  ok('up{a="q\\"q"}', `up{a="q\\"q",${E}}`),
  ok(`up{a='q\\'q'}`, `up{a="q'q",${E}}`),
  ok(`up{a='has"dq'}`, `up{a="has\\"dq",${E}}`),
  ok('up{a="\\U0001F600"}', `up{a="\\U0001f600",${E}}`),
  ok('up{a="\u{1F600}"}', `up{a="\\U0001f600",${E}}`),
  ok('up{a="\\x00"}', `up{a="\\x00",${E}}`),
  ok('up{a="\\303\\251"}', `up{a="\\u00e9",${E}}`, { note: 'octal bytes forming UTF-8' }),
  bad('up{a="\\377"}', 'parse', 'do not form valid UTF-8'),
  ok('up{a="\\"}, namespace=\\"b\\""}', `up{a="\\"}, namespace=\\"b\\"",${E}}`, {
    note: 'an injection attempt stays inside the value',
  }),
  ok('up{a="tab\there"}', `up{a="tab\\there",${E}}`, { note: 'raw tab inside a string' }),
  ok('up{a="cr\rhere"}', `up{a="cr\\rhere",${E}}`, {
    note: 'raw CR inside a string is legal in Go',
  }),
  ok('"top level string"', '"top level string"'),
  ok(`'single'`, '"single"'),
  ok('`raw top`', '"raw top"'),
  ok(
    'label_replace(up, "dst", "$1", "src", "(.*)")',
    `label_replace(up{${E}}, "dst", "$1", "src", "(.*)")`,
  ),
  ok('label_join(up, "dst", ",", "a", "b")', `label_join(up{${E}}, "dst", ",", "a", "b")`),
  bad('"abc', 'parse', 'unterminated string starting at 0'),
  bad('up{a="abc}', 'parse', 'unterminated string starting at 5'),
  bad(`up{a='abc}`, 'parse', 'unterminated string starting at 5'),
  bad('up{a=`abc}', 'parse', 'unterminated raw string starting at 5'),
  bad('up{a="abc\\"}', 'parse', 'unterminated string starting at 5'),
  bad('up{a="ab\nc"}', 'parse', 'unterminated string starting at 5'),
  bad(`up{a='ab\nc'}`, 'parse', 'unterminated string starting at 5'),
  bad('"a\\', 'parse', 'unterminated string starting at 0'),
  bad('up{a="\\q"}', 'parse', 'unknown escape sequence \\q in string at position 6'),
  bad('up{a="\\8"}', 'parse', 'unknown escape sequence \\8'),
  bad('up{a="\\400"}', 'parse', 'is not a valid octal byte (at most \\377)'),
  bad('up{a="\\777"}', 'parse', 'is not a valid octal byte'),
  bad('up{a="\\12"}', 'parse', 'illegal character `"` in escape sequence'),
  bad('up{a="\\ud800"}', 'parse', 'is not a valid Unicode code point'),
  bad('up{a="\\uDFFF"}', 'parse', 'is not a valid Unicode code point'),
  bad('up{a="\\U00110000"}', 'parse', 'is not a valid Unicode code point'),
  bad('up{a="\\x4"}', 'parse', 'illegal character `"` in escape sequence'),
  bad('up{a="\\u12"}', 'parse', 'illegal character `"` in escape sequence'),
  bad(`up{a="\\'"}`, 'parse', "unknown escape sequence \\'"),
  bad(`up{a='\\"'}`, 'parse', 'unknown escape sequence \\"'),
  bad('up{a="\\xff"}', 'parse', 'do not form valid UTF-8'),
  bad('up{a="\\xc3"}', 'parse', 'do not form valid UTF-8'),
  bad('up{a="\\xc3x"}', 'parse', 'do not form valid UTF-8'),
  bad('up{a="x\\\ny"}', 'parse', 'backslash before a line break'),
  bad('up{a="\ufffd"}', 'parse', 'invalid UTF-8 (U+FFFD) in string at position 6'),
  bad('up{a=`\ufffd`}', 'parse', 'invalid UTF-8 (U+FFFD)'),
  bad('up{a="\ud800"}', 'parse', 'lone UTF-16 surrogate'),

  // --- comments ---
  ok('up # a comment', `up{${E}}`),
  ok('# leading\nup', `up{${E}}`),
  ok('up{job="x" # inside the braces\n}', `up{job="x",${E}}`),
  ok('up{a="b" # },x="y"\n}', `up{a="b",${E}}`, {
    note: 'the comment swallows the rest of the line',
  }),
  ok('up#{namespace="b"}', `up{${E}}`),
  ok('sum( # c\n up)', `sum(up{${E}})`),
  ok('up # c\r\n+ up', `up{${E}} + up{${E}}`, { note: 'CRLF line end after a comment is fine' }),
  ok('- # c\n 1', '-1'),
  bad(
    'count(up) # \r + count(up{namespace="b"})',
    'parse',
    'carriage return inside a # comment at position 12',
  ),
  bad('up # c\rfoo', 'parse', 'carriage return inside a # comment'),
  bad('up{a="b" # c\r, namespace="b"}', 'parse', 'carriage return inside a # comment'),
  bad('# only a comment', 'parse', 'the query is empty'),

  // --- whitespace ---
  ok('up\t+\r\nup', `up{${E}} + up{${E}}`),
  bad('up\u00a0+ up', 'parse', 'unexpected whitespace character U+00A0 at position 2'),
  bad('up +\u2028up', 'parse', 'unexpected whitespace character U+2028 at position 4'),
  bad('up\u2029', 'parse', 'U+2029'),
  bad('up\u3000or up', 'parse', 'U+3000'),
  bad('\ufeffup', 'parse', 'U+FEFF'),
  bad('up\v+ up', 'parse', 'U+000B'),
  bad('up\f', 'parse', 'U+000C'),
  bad('up{a\u00a0="b"}', 'parse', 'U+00A0'),
  bad('', 'parse', 'the query is empty'),
  bad('   \n\t', 'parse', 'the query is empty'),

  // --- offset, @ ---
  ok('up offset 5m', `up{${E}} offset 5m`),
  ok('up OFFSET 1h30m', `up{${E}} offset 1h30m`),
  ok('up offset -5m', `up{${E}} offset -5m`),
  ok('up offset 1y2w3d4h5m6s7ms', `up{${E}} offset 1y2w3d4h5m6s7ms`),
  ok('up offset 300', `up{${E}} offset 300`),
  ok('up[5m] offset 1w', `up{${E}}[5m] offset 1w`),
  ok('a + b offset 5m', `a{${E}} + b{${E}} offset 5m`, {
    note: 'printed in source order: Go binds offset to b',
  }),
  ok('-up offset 5m', `-up{${E}} offset 5m`),
  ok('up @ 1609746000', `up{${E}} @ 1609746000`),
  ok('up @ 1.6e9', `up{${E}} @ 1.6e9`),
  ok('up @ -100.5', `up{${E}} @ -100.5`),
  ok('up @ start()', `up{${E}} @ start()`),
  ok('up @ end()', `up{${E}} @ end()`),
  ok('up @ END ( )', `up{${E}} @ end()`),
  ok('up @ 100 offset 5m', `up{${E}} @ 100 offset 5m`),
  ok('up offset 5m @ 100', `up{${E}} offset 5m @ 100`),
  ok('rate(up[5m] @ end())', `rate(up{${E}}[5m] @ end())`),
  ok('sum(up) @ start()', `sum(up{${E}}) @ start()`),
  ok('up offset 5m offset 1m', `up{${E}} offset 5m offset 1m`, {
    note: 'Prometheus rejects it; printed faithfully',
  }),
  bad('up offset inf', 'parse', '`inf` at position 10 is not a valid duration'),
  bad('up offset 5M', 'parse', 'bad number or duration syntax'),
  bad('up offset5m', 'parse', 'unexpected `offset5m`'),
  bad('offset', 'parse', 'unexpected `offset` at position 0'),
  bad('up @', 'parse', 'unexpected end of query'),
  bad('up @ foo()', 'parse', 'unexpected `foo` at position 5'),

  // --- ranges and subqueries ---
  ok('up[5m]', `up{${E}}[5m]`),
  ok('up[ 1h30m ]', `up{${E}}[1h30m]`),
  ok('up[300]', `up{${E}}[300]`, { note: '3.x: a number is seconds' }),
  ok('up[1y]', `up{${E}}[1y]`),
  ok('up[366d]', `up{${E}}[366d]`),
  ok('up[5m:]', `up{${E}}[5m:]`),
  ok('up[5m:1m]', `up{${E}}[5m:1m]`),
  ok('rate(up[5m])[1h:5m]', `rate(up{${E}}[5m])[1h:5m]`),
  ok('max_over_time(rate(up[5m])[1h:])', `max_over_time(rate(up{${E}}[5m])[1h:])`),
  ok('(up)[5m:]', `(up{${E}})[5m:]`),
  ok('sum(up)[5m:1m] offset 1h', `sum(up{${E}})[5m:1m] offset 1h`),
  ok('rate(x[5m:1m]) [1h:]', `rate(x{${E}}[5m:1m])[1h:]`),
  ok('avg_over_time((up > 0)[10m:30s])', `avg_over_time((up{${E}} > 0)[10m:30s])`),
  bad('up[5M]', 'parse', 'bad number or duration syntax'),
  bad('up[1.5h]', 'parse', 'unexpected `1.5h`'),
  bad('up[5m', 'parse', 'unclosed `[` at position 2'),
  bad('up]', 'parse', 'unexpected `]` at position 2'),
  bad('up[5m::]', 'parse', 'unexpected character `:` inside `[ ]`'),
  bad('up[5m:1m:1m]', 'parse', 'inside `[ ]`'),
  ok('up[5m # c\n]', `up{${E}}[5m]`),
  bad('up[inf]', 'parse', 'unexpected character `i` inside `[ ]`'),
  bad('up[5m+1m]', 'parse', 'unexpected `+` at position 5', { note: 'duration arithmetic' }),
  bad('up[367d]', 'limit', 'range 367d at position 3 is longer than the limit of 366d'),
  bad(
    'rate(up[5m])[400d:1m]',
    'limit',
    'range 400d at position 13 is longer than the limit of 366d',
  ),
  bad('up[100000000]', 'limit', 'range 100000000 at position 3'),
  ok('up[1000d]', `up{${E}}[1000d]`, { policy: 'nolimit' }),

  // --- functions ---
  ok('rate(up[5m])', `rate(up{${E}}[5m])`),
  ok(
    'irate(up[5m]) + increase(up[1h]) - delta(up[5m]) * idelta(up[5m]) / deriv(up[5m])',
    `irate(up{${E}}[5m]) + increase(up{${E}}[1h]) - delta(up{${E}}[5m]) * idelta(up{${E}}[5m]) / deriv(up{${E}}[5m])`,
  ),
  ok('predict_linear(up[1h], 3600)', `predict_linear(up{${E}}[1h], 3600)`),
  ok(
    'histogram_quantile(0.9, sum by (le) (rate(http_bucket[5m])))',
    `histogram_quantile(0.9, sum by (le) (rate(http_bucket{${E}}[5m])))`,
  ),
  ok('histogram_fraction(0, 0.1, x)', `histogram_fraction(0, 0.1, x{${E}})`),
  ok(
    'histogram_avg(x) + histogram_count(x) + histogram_sum(x)',
    `histogram_avg(x{${E}}) + histogram_count(x{${E}}) + histogram_sum(x{${E}})`,
  ),
  ok(
    'histogram_stddev(x) - histogram_stdvar(x)',
    `histogram_stddev(x{${E}}) - histogram_stdvar(x{${E}})`,
  ),
  ok('absent(up{job="x"})', `absent(up{job="x",${E}})`),
  ok('absent_over_time(up[5m])', `absent_over_time(up{${E}}[5m])`),
  ok(
    'clamp(up, 0, 1) + clamp_min(up, 0) + clamp_max(up, 1)',
    `clamp(up{${E}}, 0, 1) + clamp_min(up{${E}}, 0) + clamp_max(up{${E}}, 1)`,
  ),
  ok('round(up, 0.5)', `round(up{${E}}, 0.5)`),
  ok('vector(1)', 'vector(1)'),
  ok('time() - 60', 'time() - 60'),
  ok('pi()', 'pi()'),
  ok('scalar(up)', `scalar(up{${E}})`),
  ok('sort_desc(sort(up))', `sort_desc(sort(up{${E}}))`),
  ok('timestamp(up)', `timestamp(up{${E}})`),
  ok('day_of_week()', 'day_of_week()'),
  ok(
    'hour(up) + minute(up) + month() + year() + day_of_month() + day_of_year() + days_in_month()',
    `hour(up{${E}}) + minute(up{${E}}) + month() + year() + day_of_month() + day_of_year() + days_in_month()`,
  ),
  ok('quantile_over_time(0.9, up[5m])', `quantile_over_time(0.9, up{${E}}[5m])`),
  ok('changes(up[5m]) + resets(up[5m])', `changes(up{${E}}[5m]) + resets(up{${E}}[5m])`),
  ok(
    'last_over_time(up[5m]) or present_over_time(up[5m])',
    `last_over_time(up{${E}}[5m]) or present_over_time(up{${E}}[5m])`,
  ),
  ok(
    'count_over_time(up[5m]) / sum_over_time(up[5m])',
    `count_over_time(up{${E}}[5m]) / sum_over_time(up{${E}}[5m])`,
  ),
  ok(
    'stddev_over_time(up[5m]) + stdvar_over_time(up[5m]) + avg_over_time(up[5m])',
    `stddev_over_time(up{${E}}[5m]) + stdvar_over_time(up{${E}}[5m]) + avg_over_time(up{${E}}[5m])`,
  ),
  ok(
    'min_over_time(up[5m]) - max_over_time(up[5m])',
    `min_over_time(up{${E}}[5m]) - max_over_time(up{${E}}[5m])`,
  ),
  ok(
    'ln(up) + log2(up) + log10(up) + exp(up) + sqrt(up) + abs(up)',
    `ln(up{${E}}) + log2(up{${E}}) + log10(up{${E}}) + exp(up{${E}}) + sqrt(up{${E}}) + abs(up{${E}})`,
  ),
  ok(
    'ceil(up) + floor(up) + sgn(up) + deg(up) + rad(up)',
    `ceil(up{${E}}) + floor(up{${E}}) + sgn(up{${E}}) + deg(up{${E}}) + rad(up{${E}})`,
  ),
  ok(
    'sin(up) + cos(up) + tan(up) + asin(up) + acos(up) + atan(up)',
    `sin(up{${E}}) + cos(up{${E}}) + tan(up{${E}}) + asin(up{${E}}) + acos(up{${E}}) + atan(up{${E}})`,
  ),
  ok(
    'sinh(up) + cosh(up) + tanh(up) + asinh(up) + acosh(up) + atanh(up)',
    `sinh(up{${E}}) + cosh(up{${E}}) + tanh(up{${E}}) + asinh(up{${E}}) + acosh(up{${E}}) + atanh(up{${E}})`,
  ),
  ok('rate ( up [5m] )', `rate(up{${E}}[5m])`),
  bad('foo(up)', 'parse', 'unknown function "foo" at position 0'),
  bad('RATE(up[5m])', 'parse', 'function names are case-sensitive: "rate"'),
  bad('rate(up[5m]', 'parse', 'unclosed `(` at position 4'),

  // --- gated functions ---
  bad('info(up)', 'function', 'function "info" is not allowed: it joins target_info series'),
  bad('info(up, {k8s_cluster_name=~".+"})', 'function', 'function "info" is not allowed'),
  bad('sum(info(up))', 'function', 'function "info"'),
  bad('limitk(1, up)', 'function', 'function "limitk" is not allowed: it is experimental'),
  bad('limit_ratio(0.5, up)', 'function', 'function "limit_ratio" is not allowed'),
  bad('sort_by_label(up, "a")', 'function', 'function "sort_by_label" is not allowed'),
  bad('sort_by_label_desc(up, "a")', 'function', 'function "sort_by_label_desc"'),
  bad('mad_over_time(up[5m])', 'function', 'function "mad_over_time"'),
  bad(
    'double_exponential_smoothing(up[5m], 0.5, 0.5)',
    'function',
    'function "double_exponential_smoothing"',
  ),
  bad('ts_of_max_over_time(up[5m])', 'function', 'function "ts_of_max_over_time"'),
  bad(
    'holt_winters(up[5m], 0.5, 0.5)',
    'function',
    'function "holt_winters" is not allowed: it exists only in Prometheus 2.x',
  ),
  ok('limitk(1, up)', `limitk(1, up{${E}})`, { policy: 'experimental' }),
  ok('limit_ratio(0.5, up) by (job)', `limit_ratio(0.5, up{${E}}) by (job)`, {
    policy: 'experimental',
  }),
  ok('sort_by_label(up, "a", "b")', `sort_by_label(up{${E}}, "a", "b")`, {
    policy: 'experimental',
  }),
  ok('mad_over_time(up[5m])', `mad_over_time(up{${E}}[5m])`, { policy: 'experimental' }),
  ok(
    'double_exponential_smoothing(up[5m], 0.5, 0.5)',
    `double_exponential_smoothing(up{${E}}[5m], 0.5, 0.5)`,
    { policy: 'experimental' },
  ),
  ok('ts_of_last_over_time(up[5m])', `ts_of_last_over_time(up{${E}}[5m])`, {
    policy: 'experimental',
  }),
  bad('info(up)', 'function', 'function "info"', {
    policy: 'experimental',
    note: 'experimental does not imply info',
  }),
  ok('info(up)', `info(up{${E}})`, { policy: 'info' }),
  ok('holt_winters(up[5m], 0.5, 0.5)', `holt_winters(up{${E}}[5m], 0.5, 0.5)`, { policy: 'v2' }),
  ok('sum(holt_winters (up[5m], 0.5, 0.5))', `sum(holt_winters(up{${E}}[5m], 0.5, 0.5))`, {
    policy: 'v2',
  }),
  ok('holt_winters', `holt_winters{${E}}`, { note: 'as a metric name it is not a call' }),

  // --- aggregations ---
  ok('sum(up)', `sum(up{${E}})`),
  ok(
    'avg(up) + count(up) + min(up) + max(up) + group(up) + stddev(up) + stdvar(up)',
    `avg(up{${E}}) + count(up{${E}}) + min(up{${E}}) + max(up{${E}}) + group(up{${E}}) + stddev(up{${E}}) + stdvar(up{${E}})`,
  ),
  ok('sum by (job) (up)', `sum by (job) (up{${E}})`),
  ok('sum(up) by (job)', `sum(up{${E}}) by (job)`),
  ok('sum without (instance, pod) (up)', `sum without (instance, pod) (up{${E}})`),
  ok('sum(up) without (instance,)', `sum(up{${E}}) without (instance)`),
  ok('sum by () (up)', `sum by () (up{${E}})`),
  ok('SUM BY (job) (up)', `sum by (job) (up{${E}})`, { note: 'keywords are case-insensitive' }),
  ok('Sum(up) WITHOUT (job)', `sum(up{${E}}) without (job)`),
  ok('topk(3, up)', `topk(3, up{${E}})`),
  ok('bottomk(3, up) by (job)', `bottomk(3, up{${E}}) by (job)`),
  ok('count_values("value", up)', `count_values("value", up{${E}})`),
  ok('quantile(0.9, up)', `quantile(0.9, up{${E}})`),
  ok('topk(scalar(x), y)', `topk(scalar(x{${E}}), y{${E}})`, {
    note: 'aggregation parameter selector',
  }),
  ok('quantile(scalar(sum(M))/1e6, x)', `quantile(scalar(sum(M{${E}})) / 1e6, x{${E}})`, {
    note: 'prom-label-proxy / Thanos leak',
  }),
  ok('topk by (job) (scalar(count(up)), up)', `topk by (job) (scalar(count(up{${E}})), up{${E}})`),
  ok('count_values by (job) ("v", up)', `count_values by (job) ("v", up{${E}})`),
  ok('sum by (namespace) (rate(x[5m]))', `sum by (namespace) (rate(x{${E}}[5m]))`, {
    note: 'grouping labels are not selectors',
  }),
  bad('sum(x) by (a) (y)', 'parse', 'unexpected `(` at position 14'),
  bad('sum by (a:b) (x)', 'parse', 'unexpected'),

  // --- binary operators and modifiers ---
  ok('a + b', `a{${E}} + b{${E}}`),
  ok('a - b * c / d % e ^ f', `a{${E}} - b{${E}} * c{${E}} / d{${E}} % e{${E}} ^ f{${E}}`),
  ok('a atan2 b', `a{${E}} atan2 b{${E}}`),
  ok('a == b', `a{${E}} == b{${E}}`),
  ok('a != b', `a{${E}} != b{${E}}`),
  ok('a > b < c >= d <= e', `a{${E}} > b{${E}} < c{${E}} >= d{${E}} <= e{${E}}`),
  ok('a == bool 1', `a{${E}} == bool 1`),
  ok('a > BOOL on(job) b', `a{${E}} > bool on (job) b{${E}}`),
  ok('a == bool on(x, y) group_left(z) b', `a{${E}} == bool on (x, y) group_left (z) b{${E}}`),
  ok('a * on(job) group_left(team) b', `a{${E}} * on (job) group_left (team) b{${E}}`),
  ok('a * ignoring(job) group_right b', `a{${E}} * ignoring (job) group_right b{${E}}`),
  ok('a * on() group_left() b', `a{${E}} * on () group_left () b{${E}}`),
  ok('a and b', `a{${E}} and b{${E}}`),
  ok('a AND on(job) b', `a{${E}} and on (job) b{${E}}`),
  ok('a or ignoring(x) b', `a{${E}} or ignoring (x) b{${E}}`),
  ok('a unless on(x) b', `a{${E}} unless on (x) b{${E}}`),
  ok('a or b and c unless d', `a{${E}} or b{${E}} and c{${E}} unless d{${E}}`),
  ok('1 + 2 * 3', '1 + 2 * 3'),
  ok('2 ^ 3 ^ 2', '2 ^ 3 ^ 2'),
  ok('-2^2', '-2 ^ 2', { note: 'Go reads -(2^2); tokens kept in order' }),
  ok('a + -b', `a{${E}} + -b{${E}}`),
  ok('a - -1', `a{${E}} - -1`),
  ok('-up', `-up{${E}}`),
  ok('+up', `+up{${E}}`),
  ok('- - up', `--up{${E}}`),
  ok('(up)', `(up{${E}})`),
  ok('((up))', `((up{${E}}))`),
  ok('(up + up) * 2', `(up{${E}} + up{${E}}) * 2`),
  ok('up + (up * 2)', `up{${E}} + (up{${E}} * 2)`),
  bad('up +', 'parse', 'unexpected end of query'),
  bad('+', 'parse', 'unexpected end of query'),
  bad('up ! up', 'parse', 'unexpected character'),
  bad('up =~ up', 'parse', 'after `=`'),
  bad('up == bool', 'parse', 'unexpected end of query'),

  // --- numbers ---
  ok('up * 0x1F', `up{${E}} * 0x1F`),
  ok('up > Inf', `up{${E}} > Inf`),
  ok('up > -Inf', `up{${E}} > -Inf`),
  ok('up != NaN', `up{${E}} != NaN`),
  ok('up * 1e3 + 1E-3 + .5 + 1_000 + 0755', `up{${E}} * 1e3 + 1E-3 + .5 + 1_000 + 0755`),
  ok('+Inf', '+Inf'),
  ok('1.5e+3', '1.5e+3'),
  bad('1and x', 'parse', 'bad number or duration syntax `1a` at position 0'),
  bad('5mfoo', 'parse', 'must not be followed by a letter'),
  bad('1_', 'parse', 'bad number or duration syntax'),
  bad('1e', 'parse', 'bad number or duration syntax'),
  bad('0.', 'parse', 'unexpected `0.`', { note: 'Go accepts 0.; lezer does not: fail closed' }),
  bad('0X1F', 'parse', 'unexpected `0X1F`', { note: 'Go accepts 0X1F; lezer does not' }),
  bad('1..2', 'parse', 'bad number'),

  // --- empty selectors ---
  bad('{}', 'empty_selector', 'vector selector must contain at least one non-empty matcher'),
  bad('{a=""}', 'empty_selector', 'at least one non-empty matcher'),
  bad('{a=~".*"}', 'empty_selector', 'at least one non-empty matcher'),
  bad('{a=~""}', 'empty_selector', 'non-empty matcher'),
  bad('{a!~".+"}', 'empty_selector', 'non-empty matcher'),
  bad('{a=~"x|"}', 'empty_selector', 'non-empty matcher'),
  bad('{a=~"x?"}', 'empty_selector', 'non-empty matcher'),
  bad('{a=~"^$"}', 'empty_selector', 'non-empty matcher'),
  bad('{a=~"(?i).*"}', 'empty_selector', 'non-empty matcher', { note: 'RE2 flag group' }),
  bad('{a=~"[[:alpha:]]*"}', 'empty_selector', 'non-empty matcher', { note: 'POSIX class' }),
  bad('{a=~"\\\\pL*"}', 'empty_selector', 'non-empty matcher'),
  bad('{a="", b=~".*"}', 'empty_selector', 'non-empty matcher'),
  bad('{""}', 'empty_selector', 'non-empty matcher'),
  bad('rate({}[5m])', 'empty_selector', '(position 5)'),
  bad('sum(up) + {job=""}', 'empty_selector', '(position 10)'),
  bad('{namespace=~".*"}', 'empty_selector', 'non-empty matcher', {
    note: 'the enforced matcher does not count',
  }),
  ok('{a!=""}', `{a!="",${E}}`),
  ok('{a=~".+"}', `{a=~".+",${E}}`),
  ok('{a=~"(?i)foo"}', `{a=~"(?i)foo",${E}}`),
  ok('{a=~"\\\\d+"}', `{a=~"\\\\d+",${E}}`),
  ok('{a=~"[[:alpha:]]+"}', `{a=~"[[:alpha:]]+",${E}}`),
  ok('{a=~"\\\\Qa.b\\\\E"}', `{a=~"\\\\Qa.b\\\\E",${E}}`),
  ok('{a=~"(?P<x>y)"}', `{a=~"(?P<x>y)",${E}}`),
  ok('{a="", b="x"}', `{a="",b="x",${E}}`),
  ok('up{a=~".*"}', `up{a=~".*",${E}}`, { note: 'a metric name is a non-empty matcher' }),
  bad('up{__name__="x"}', 'parse', 'metric name must not be set twice: "up" and "x"'),
  bad('up{"x"}', 'parse', 'metric name must not be set twice'),

  // --- strict scope ---
  bad('up{namespace="b"}', 'out_of_scope', 'namespace "b" is outside your scope'),
  bad('up{"namespace"="b"}', 'out_of_scope', 'namespace "b" is outside your scope'),
  bad(
    'sum(rate(up{namespace="zzz"}[5m]))',
    'out_of_scope',
    'namespace "zzz" is outside your scope',
  ),
  bad('up{namespace="a",namespace="b"}', 'out_of_scope', 'namespace "b"'),
  bad('up{namespace=""}', 'out_of_scope', 'namespace "" is outside your scope'),
  ok('up{namespace="b"}', 'up{namespace="b",namespace=~"a|a\\\\.b|b|c\\\\|d"}', { target: MANY }),
  ok('up{namespace="a"}', `up{namespace="a",${E}}`),
  ok('up{namespace=~"a|b"}', `up{namespace=~"a|b",${E}}`, {
    note: 'regexes are ANDed, not checked',
  }),
  ok('up{namespace!="b"}', `up{namespace!="b",${E}}`),
  ok('up{namespace="b"}', `up{namespace="b",${E}}`, { policy: 'lenient' }),
  ok('up{exported_namespace="b"}', `up{exported_namespace="b",${E}}`, {
    note: 'only the configured label',
  }),

  // --- targets ---
  ok('up', 'up{namespace=~"a|a\\\\.b|b|c\\\\|d"}', { target: MANY }),
  ok('up{namespace="a.b"}', 'up{namespace="a.b",namespace=~"a|a\\\\.b|b|c\\\\|d"}', {
    target: MANY,
  }),
  bad('up{namespace="a.c"}', 'out_of_scope', 'namespace "a.c" is outside your scope', {
    target: MANY,
  }),
  ok('up', 'up{"k8s.namespace"="a"}', { target: DOTTED }),
  ok('up', 'up{namespace="we\\"ird\\\\"}', { target: QUOTEY }),
  bad('up', 'out_of_scope', 'your scope contains no namespace values', {
    target: { label: 'namespace', values: [] },
  }),
  bad('up', 'out_of_scope', 'empty namespace value', {
    target: { label: 'namespace', values: [''] },
  }),
  bad('up', 'out_of_scope', 'empty namespace value', {
    target: { label: 'namespace', values: ['a', ''] },
  }),

  // --- limits ---
  bad('up{a="' + 'x'.repeat(33000) + '"}', 'limit', 'more than the limit of 32768'),
  bad(
    'up{a="' + '\u00e9'.repeat(16400) + '"}',
    'limit',
    'query is 32808 bytes, more than the limit of 32768',
  ),
  bad('('.repeat(300) + 'up' + ')'.repeat(300), 'limit', 'more than 256 levels deep'),
  bad('('.repeat(5000) + 'up' + ')'.repeat(5000), 'limit', 'more than 256 levels deep'),
  bad(Array(300).fill('1').join(' + '), 'limit', 'more than 256 levels deep'),
  bad('-'.repeat(300) + 'up', 'limit', 'more than 256 levels deep'),
  bad(balanced(612), 'limit', 'query has 612 selectors, more than the limit of 500'),
  ok(balanced(4), `((up{${E}} + up{${E}}) + (up{${E}} + up{${E}}))`),
  ok('('.repeat(255) + 'up' + ')'.repeat(255), '('.repeat(255) + `up{${E}}` + ')'.repeat(255)),
  ok('up{a="' + 'x'.repeat(40000) + '"}', `up{a="${'x'.repeat(40000)}",${E}}`, { policy: 'big' }),

  // --- match[] selectors ---
  ok('up', `up{${E}}`, { mode: 'selector' }),
  ok('{job="x"}', `{job="x",${E}}`, { mode: 'selector' }),
  ok('up{job=~"a.*"}', `up{job=~"a.*",${E}}`, { mode: 'selector' }),
  ok('{"my.metric"}', `{"my.metric",${E}}`, { mode: 'selector' }),
  ok('{__name__=~".+"}', `{__name__=~".+",${E}}`, { mode: 'selector' }),
  bad('rate(up[5m])', 'not_selector', 'match[] must be a series selector', { mode: 'selector' }),
  bad('up offset 5m', 'not_selector', 'match[] must be a series selector', { mode: 'selector' }),
  bad('up[5m]', 'not_selector', 'no functions, operators, offset, @, ranges or parentheses', {
    mode: 'selector',
  }),
  bad('(up)', 'not_selector', 'series selector', { mode: 'selector' }),
  bad('up + up', 'not_selector', 'series selector', { mode: 'selector' }),
  bad('up @ 100', 'not_selector', 'series selector', { mode: 'selector' }),
  bad('1', 'not_selector', 'series selector', { mode: 'selector' }),
  bad('"up"', 'not_selector', 'series selector', { mode: 'selector' }),
  bad('{}', 'empty_selector', 'non-empty matcher', { mode: 'selector' }),
  bad('{namespace="b"}', 'out_of_scope', 'namespace "b" is outside your scope', {
    mode: 'selector',
  }),
  bad('up{', 'parse', 'unclosed `{` at position 2', { mode: 'selector' }),
  bad('info(up)', 'function', 'function "info"', { mode: 'selector' }),

  // --- checkQuery (no rewrite) ---
  ok('sum(up)', 'sum(up)', { mode: 'check' }),
  ok('up{}', 'up', { mode: 'check' }),
  ok('up{job="x",} # comment', 'up{job="x"}', { mode: 'check' }),
  ok('{namespace="b"}', '{namespace="b"}', { mode: 'check', note: 'no scope in check mode' }),
  ok("rate(up{a='b'}[5m])", 'rate(up{a="b"}[5m])', { mode: 'check' }),
  bad('info(up)', 'function', 'function "info"', { mode: 'check' }),
  bad('{}', 'empty_selector', 'non-empty matcher', { mode: 'check' }),
  bad('up[400d]', 'limit', 'longer than the limit', { mode: 'check' }),

  // --- unbalanced and misplaced tokens ---
  bad('sum(up))', 'parse', 'unexpected `)` at position 7'),
  bad('sum(up', 'parse', 'unclosed `(` at position 3'),
  bad('up{', 'parse', 'unclosed `{` at position 2'),
  bad('up{a="b"', 'parse', 'unclosed `{` at position 2'),
  bad('up{a=b}', 'parse', 'unexpected `b`'),
  bad('up{{a="b"}}', 'parse', 'unexpected character `{` inside braces'),
  bad('up}', 'parse', 'unexpected character `}` at position 2'),
  bad('up{a="b" "c"}', 'parse', 'unexpected `"c"` at position 9'),
  bad('up{a=~"x" !~ "y"}', 'parse', 'unexpected `!~` at position 10'),
  bad('up{a:b="c"}', 'parse', 'unexpected character `:` inside braces'),
  bad('up{1="c"}', 'parse', 'unexpected character `1` inside braces'),
  bad('up up', 'parse', 'unexpected `up` at position 3'),
  bad('sum(up) by', 'parse', 'unexpected end of query'),
  bad('sum by (job)', 'parse', 'unexpected end of query'),
  bad('up $', 'parse', 'unexpected character `$` at position 3'),
  bad('up\u00e9', 'parse', 'unexpected character U+00E9 at position 2'),
  bad('.', 'parse', 'unexpected character `.` at position 0'),
  bad('a , b', 'parse', 'unexpected `,` at position 2'),
];
