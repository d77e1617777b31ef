/**
 * fast-check generators for PromQL: a small AST of its own (independent of the engine's), a
 * printer that writes it as tokens with random but legal noise (whitespace, comments, keyword
 * case, quote styles, trailing commas, escapes), and the list of selectors it contains in
 * source order — the oracle the property tests compare the engine's output against.
 */

import fc from 'fast-check';

export type GItem =
  | { kind: 'matcher'; name: string; quoted: boolean; op: '=' | '!=' | '=~' | '!~'; value: string }
  | { kind: 'name'; value: string };

export interface GSel {
  t: 'sel';
  name: string | null;
  items: GItem[];
}

export type G =
  | GSel
  | { t: 'num'; text: string }
  | { t: 'str'; value: string }
  | { t: 'matrix'; e: G; range: string }
  | { t: 'sub'; e: G; range: string; step: string | null }
  | { t: 'offset'; e: G; d: string }
  | { t: 'at'; e: G; at: string }
  | { t: 'call'; f: string; args: G[] }
  | {
      t: 'agg';
      op: string;
      param: G | null;
      e: G;
      grouping: { without: boolean; labels: string[]; before: boolean } | null;
    }
  | {
      t: 'bin';
      l: G;
      op: string;
      bool: boolean;
      matching: {
        ignoring: boolean;
        labels: string[];
        group: { right: boolean; labels: string[] | null } | null;
      } | null;
      r: G;
    }
  | { t: 'unary'; op: '-' | '+'; e: G }
  | { t: 'paren'; e: G };

const METRICS = [
  'up',
  'http_requests_total',
  'job:rate5m:sum',
  'x',
  'node_cpu_seconds_total',
  '_hidden',
  'a1',
];
const LABELS = ['job', 'instance', 'pod', 'le', 'namespace', 'offset', 'by'];
const QUOTED_LABELS = ['k8s.pod', 'app.kubernetes.io/name', 'job', 'namespace', 'ünïcode'];
const FUNCS = [
  'rate',
  'irate',
  'abs',
  'sum_over_time',
  'histogram_quantile',
  'label_replace',
  'vector',
  'time',
  'clamp',
  'absent',
  'sort_desc',
  'scalar',
];
const AGGS = ['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar'];
const PARAM_AGGS = ['topk', 'bottomk', 'quantile', 'count_values'];
const BIN_OPS = [
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  'atan2',
  '==',
  '!=',
  '>',
  '<',
  '>=',
  '<=',
  'and',
  'or',
  'unless',
];
const RANGES = ['5m', '1h30m', '30s', '1d', '300', '2w', '10m', '1y', '1m30s500ms'];
const OFFSETS = ['5m', '-5m', '1h', '-1d2h', '1w'];
const ATS = ['100', '-5.5', 'start()', 'end()', '1.6e9'];
const NUMBERS = ['1', '0.5', '.5', '1e3', '0x1F', 'Inf', 'NaN', '1_000', '42', '1E-3'];

const value = fc.oneof(
  fc.constantFrom(
    '',
    'a',
    'x.*',
    '.+',
    'é',
    '"',
    "'",
    '`',
    '\\',
    '\n',
    '\r',
    '\t',
    '\u2028',
    '😀',
    '\ufffd',
    '\x00',
    '#',
    '}',
    '{a="b"}',
  ),
  fc.string({ unit: 'binary', maxLength: 8 }),
);

const item: fc.Arbitrary<GItem> = fc.oneof(
  fc.record({
    kind: fc.constant('matcher' as const),
    name: fc.constantFrom(...LABELS),
    quoted: fc.constant(false),
    op: fc.constantFrom('=' as const, '!=' as const, '=~' as const, '!~' as const),
    value,
  }),
  fc.record({
    kind: fc.constant('matcher' as const),
    name: fc.constantFrom(...QUOTED_LABELS),
    quoted: fc.constant(true),
    op: fc.constantFrom('=' as const, '!=' as const, '=~' as const, '!~' as const),
    value,
  }),
);

/** A selector that Prometheus accepts: a name, or a matcher that cannot match "". */
export const selector: fc.Arbitrary<GSel> = fc
  .record({
    name: fc.option(fc.constantFrom(...METRICS), { nil: null }),
    quotedName: fc.option(fc.constantFrom('my.metric', 'up', 'ünï.code'), { nil: null }),
    items: fc.array(item, { maxLength: 3 }),
  })
  .map(({ name, quotedName, items }) => {
    // Strict scope: an equality matcher on namespace must name the value in scope.
    const fixed: GItem[] = items.map((m) =>
      m.kind === 'matcher' && m.name === 'namespace' && m.op === '=' ? { ...m, value: 'a' } : m,
    );
    if (name === null && quotedName !== null) fixed.unshift({ kind: 'name', value: quotedName });
    if (name === null && quotedName === null) {
      fixed.push({ kind: 'matcher', name: 'job', quoted: false, op: '!=', value: '' });
    }
    return { t: 'sel' as const, name, items: fixed };
  });

export const expr: fc.Arbitrary<G> = fc.letrec<{ e: G }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    selector,
    fc.constantFrom(...NUMBERS).map((text) => ({ t: 'num' as const, text })),
    value.map((v) => ({ t: 'str' as const, value: v })),
    fc.record({
      t: fc.constant('matrix' as const),
      e: selector,
      range: fc.constantFrom(...RANGES),
    }),
    fc.record({
      t: fc.constant('sub' as const),
      e: tie('e'),
      range: fc.constantFrom(...RANGES),
      step: fc.option(fc.constantFrom('1m', '30s', '5m'), { nil: null }),
    }),
    fc.record({ t: fc.constant('offset' as const), e: tie('e'), d: fc.constantFrom(...OFFSETS) }),
    fc.record({ t: fc.constant('at' as const), e: tie('e'), at: fc.constantFrom(...ATS) }),
    fc.record({
      t: fc.constant('call' as const),
      f: fc.constantFrom(...FUNCS),
      args: fc.array(tie('e'), { maxLength: 3 }),
    }),
    fc.record({
      t: fc.constant('agg' as const),
      op: fc.constantFrom(...AGGS, ...PARAM_AGGS),
      param: fc.option(tie('e'), { nil: null }),
      e: tie('e'),
      grouping: fc.option(
        fc.record({
          without: fc.boolean(),
          labels: fc.array(fc.constantFrom(...LABELS), { maxLength: 3 }),
          before: fc.boolean(),
        }),
        { nil: null },
      ),
    }),
    fc.record({
      t: fc.constant('bin' as const),
      l: tie('e'),
      op: fc.constantFrom(...BIN_OPS),
      bool: fc.boolean(),
      matching: fc.option(
        fc.record({
          ignoring: fc.boolean(),
          labels: fc.array(fc.constantFrom(...LABELS), { maxLength: 2 }),
          group: fc.option(
            fc.record({
              right: fc.boolean(),
              labels: fc.option(fc.array(fc.constantFrom(...LABELS), { maxLength: 2 }), {
                nil: null,
              }),
            }),
            { nil: null },
          ),
        }),
        { nil: null },
      ),
      r: tie('e'),
    }),
    fc.record({
      t: fc.constant('unary' as const),
      op: fc.constantFrom('-' as const, '+' as const),
      e: tie('e'),
    }),
    fc.record({ t: fc.constant('paren' as const), e: tie('e') }),
  ),
})).e;

/** Choices for the noise the printer adds; indexes are used cyclically. */
export interface Style {
  seps: number[];
  cases: number[];
  quotes: number[];
}

export const style: fc.Arbitrary<Style> = fc.record({
  seps: fc.array(fc.nat(9), { minLength: 1, maxLength: 16 }),
  cases: fc.array(fc.nat(2), { minLength: 1, maxLength: 8 }),
  quotes: fc.array(fc.nat(3), { minLength: 1, maxLength: 8 }),
});

/** The canonical style: single spaces, lower-case keywords, double quotes. */
export const PLAIN: Style = { seps: [0], cases: [0], quotes: [0] };

const SEPS = [' ', '', '\n', '\t', '  ', ' # comment\n', '\r\n', ' #\n', '', '\t # x"y\\z\n'];
const PUNCT = new Set('(){}[],:@+-*/%^=!<>'.split(''));

class Printer {
  private toks: { text: string; bracket: boolean }[] = [];
  private k = 0;
  constructor(private readonly s: Style) {}

  private pick(list: number[]): number {
    return list[this.k++ % list.length] ?? 0;
  }
  private tok(text: string, bracket = false): void {
    this.toks.push({ text, bracket });
  }
  private kw(word: string): void {
    const c = this.pick(this.s.cases);
    this.tok(
      c === 0 ? word : c === 1 ? word.toUpperCase() : word[0]!.toUpperCase() + word.slice(1),
    );
  }
  private str(v: string): void {
    const q = this.pick(this.s.quotes);
    if (q === 2 && !v.includes('`') && !v.includes('\ufffd')) {
      this.tok('`' + v + '`');
      return;
    }
    const quote = q === 1 ? "'" : '"';
    let out = quote;
    for (const ch of v) {
      if (ch === '\\') out += '\\\\';
      else if (ch === quote) out += '\\' + quote;
      else if (ch === '\n') out += '\\n';
      else if (ch === '\ufffd') out += '\\ufffd';
      else if (q === 3 && ch.codePointAt(0)! > 127)
        out += '\\U' + ch.codePointAt(0)!.toString(16).padStart(8, '0');
      else out += ch;
    }
    this.tok(out + quote);
  }
  private labels(ls: string[]): void {
    this.tok('(');
    ls.forEach((l, i) => {
      if (i > 0) this.tok(',');
      this.tok(l);
    });
    if (ls.length > 0 && this.pick(this.s.cases) === 2) this.tok(',');
    this.tok(')');
  }
  private sel(g: GSel): void {
    if (g.name !== null) this.tok(g.name);
    if (g.name !== null && g.items.length === 0 && this.pick(this.s.cases) !== 1) return;
    this.tok('{');
    g.items.forEach((m, i) => {
      if (i > 0) this.tok(',');
      if (m.kind === 'name') {
        this.str(m.value);
        return;
      }
      if (m.quoted) this.str(m.name);
      else this.tok(m.name);
      this.tok(m.op);
      this.str(m.value);
    });
    if (g.items.length > 0 && this.pick(this.s.cases) === 2) this.tok(',');
    this.tok('}');
  }
  expr(g: G): void {
    switch (g.t) {
      case 'sel':
        return this.sel(g);
      case 'num':
        return this.tok(g.text);
      case 'str':
        return this.str(g.value);
      case 'matrix':
        this.expr(g.e);
        this.tok('[');
        this.tok(g.range, true);
        this.tok(']');
        return;
      case 'sub':
        this.expr(g.e);
        this.tok('[');
        this.tok(g.range, true);
        this.tok(':', true);
        if (g.step !== null) this.tok(g.step, true);
        this.tok(']');
        return;
      case 'offset':
        this.expr(g.e);
        this.kw('offset');
        return this.tok(g.d);
      case 'at':
        this.expr(g.e);
        this.tok('@');
        if (g.at.endsWith('()')) {
          this.kw(g.at.slice(0, -2));
          this.tok('(');
          this.tok(')');
        } else {
          this.tok(g.at);
        }
        return;
      case 'call':
        this.tok(g.f);
        this.tok('(');
        g.args.forEach((a, i) => {
          if (i > 0) this.tok(',');
          this.expr(a);
        });
        this.tok(')');
        return;
      case 'agg': {
        const op = g.param !== null ? PARAM_AGGS[g.op.length % PARAM_AGGS.length]! : g.op;
        const grouping = g.grouping;
        this.kw(op);
        if (grouping?.before) {
          this.kw(grouping.without ? 'without' : 'by');
          this.labels(grouping.labels);
        }
        this.tok('(');
        if (g.param !== null) {
          this.expr(g.param);
          this.tok(',');
        }
        this.expr(g.e);
        this.tok(')');
        if (grouping !== null && !grouping.before) {
          this.kw(grouping.without ? 'without' : 'by');
          this.labels(grouping.labels);
        }
        return;
      }
      case 'bin': {
        this.expr(g.l);
        if (/^[a-z]/.test(g.op)) this.kw(g.op);
        else this.tok(g.op);
        if (g.bool) this.kw('bool');
        const m = g.matching;
        if (m !== null) {
          this.kw(m.ignoring ? 'ignoring' : 'on');
          this.labels(m.labels);
          if (m.group !== null) {
            this.kw(m.group.right ? 'group_right' : 'group_left');
            // Without labels, an rhs starting with "(" would be read as the label list.
            const rhsParen = startsWithParen(g.r);
            if (m.group.labels !== null || rhsParen) this.labels(m.group.labels ?? []);
          }
        }
        this.expr(g.r);
        return;
      }
      case 'unary':
        this.tok(g.op);
        return this.expr(g.e);
      case 'paren':
        this.tok('(');
        this.expr(g.e);
        this.tok(')');
        return;
    }
  }
  text(): string {
    let out = '';
    let prev: { text: string; bracket: boolean } | null = null;
    for (const t of this.toks) {
      if (prev !== null) {
        let sep = SEPS[this.pick(this.s.seps)] ?? ' ';
        const inBracket = prev.bracket || t.bracket || prev.text === '[';
        if (inBracket && sep.includes('#')) sep = ' ';
        if (sep === '' && !PUNCT.has(prev.text.slice(-1)) && !PUNCT.has(t.text[0]!)) sep = ' ';
        // `=` then `~`/`=` or `!` then `=`/`~` would fuse into another operator.
        if (sep === '' && /[=!<>]$/.test(prev.text) && /^[=~]/.test(t.text)) sep = ' ';
        out += sep;
      }
      out += t.text;
      prev = t;
    }
    return out;
  }
}

function startsWithParen(g: G): boolean {
  switch (g.t) {
    case 'paren':
      return true;
    case 'matrix':
    case 'sub':
    case 'offset':
    case 'at':
      return startsWithParen(g.e);
    case 'bin':
      return startsWithParen(g.l);
    default:
      return false;
  }
}

/** Prints `g` with the noise chosen by `s`. */
export function print(g: G, s: Style = PLAIN): string {
  const p = new Printer(s);
  p.expr(g);
  return p.text();
}

/** The selectors of `g` in source order (matrix selectors included). */
export function selectorsOf(g: G, out: GSel[] = []): GSel[] {
  switch (g.t) {
    case 'sel':
      out.push(g);
      break;
    case 'matrix':
    case 'sub':
    case 'offset':
    case 'at':
    case 'unary':
    case 'paren':
      selectorsOf(g.e, out);
      break;
    case 'call':
      for (const a of g.args) selectorsOf(a, out);
      break;
    case 'agg':
      if (g.param !== null) selectorsOf(g.param, out);
      selectorsOf(g.e, out);
      break;
    case 'bin':
      selectorsOf(g.l, out);
      selectorsOf(g.r, out);
      break;
    default:
      break;
  }
  return out;
}
