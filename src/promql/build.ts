/**
 * Builds the typed AST (`ast.ts`) from lezer's syntax tree.
 *
 * The builder asserts the exact child sequence of every node it meets, skips `LineComment`
 * wherever it sits, and rejects any node kind it does not know (fail closed). While it walks,
 * it checks that every token lezer produced is exactly one token of Prometheus's own lexer
 * (`lexical.ts`), and that nothing else lies between them but punctuation: if the two lexers
 * disagree about where a token starts or ends, the query is rejected.
 *
 * It also applies the checks Prometheus's parser makes on selectors (at least one matcher that
 * does not match the empty string; the metric name set once) and gathers the facts the policy
 * needs (selectors, calls, depth, longest range).
 */

import type { Tree, TreeCursor } from '@lezer/common';
import * as N from '@prometheus-io/lezer-promql';
import type {
  Aggregate,
  AtExpr,
  BinaryExpr,
  Call,
  Expr,
  Grouping,
  LabelName,
  MatchOp,
  MatcherItem,
  NumberToken,
  ParsedQuery,
  VectorMatching,
  VectorSelector,
} from './ast.js';
import { T, durationMs, type Tokens } from './lexical.js';
import { GATED_AGGREGATIONS, KNOWN_FUNCTIONS } from './policy.js';
import { matcherMatchesEmpty } from './regex.js';
import { PromQLError } from './types.js';

const AGGREGATIONS: ReadonlySet<string> = new Set([
  'avg',
  'bottomk',
  'count',
  'count_values',
  'group',
  'limit_ratio',
  'limitk',
  'max',
  'min',
  'quantile',
  'stddev',
  'stdvar',
  'sum',
  'topk',
]);

const BINARY_OPS: ReadonlyMap<number, string> = new Map([
  [N.Pow, '^'],
  [N.Mul, '*'],
  [N.Div, '/'],
  [N.Mod, '%'],
  [N.Atan2, 'atan2'],
  [N.Add, '+'],
  [N.Sub, '-'],
  [N.Eql, '=='],
  [N.Gte, '>='],
  [N.Gtr, '>'],
  [N.Lte, '<='],
  [N.Lss, '<'],
  [N.Neq, '!='],
  [N.And, 'and'],
  [N.Unless, 'unless'],
  [N.Or, 'or'],
]);

const MATCH_OPS: ReadonlyMap<number, MatchOp> = new Map<number, MatchOp>([
  [N.EqlSingle, '='],
  [N.Neq, '!='],
  [N.EqlRegex, '=~'],
  [N.NeqRegex, '!~'],
]);

function isPunctuation(kind: number): boolean {
  return (
    kind === T.LPAREN ||
    kind === T.RPAREN ||
    kind === T.LBRACE ||
    kind === T.RBRACE ||
    kind === T.LBRACKET ||
    kind === T.RBRACKET ||
    kind === T.COMMA ||
    kind === T.COLON
  );
}

/** Builds and validates the AST of `q` from its lezer tree and Prometheus tokens. */
export function build(q: string, tree: Tree, toks: Tokens, maxDepth: number): ParsedQuery {
  return new Builder(q, tree.cursor(), toks, maxDepth).run();
}

class Builder {
  private ti = 0;
  private readonly selectors: VectorSelector[] = [];
  private readonly functions: { name: string; pos: number }[] = [];
  private depth = 0;
  private longestRange: { ms: number; token: NumberToken } | null = null;

  constructor(
    private readonly q: string,
    private readonly c: TreeCursor,
    private readonly toks: Tokens,
    private readonly maxDepth: number,
  ) {}

  run(): ParsedQuery {
    const c = this.c;
    if (c.type.id !== N.PromQL) throw this.unsupported();
    if (!this.down()) throw new PromQLError('parse', 'the query is empty', 0);
    const expr = this.expr(1);
    this.end();
    this.finishTokens();
    return {
      expr,
      selectors: this.selectors,
      functions: this.functions,
      depth: this.depth,
      longestRange: this.longestRange,
    };
  }

  // --- cursor helpers (comments are skipped everywhere) ---

  private down(): boolean {
    const c = this.c;
    if (!c.firstChild()) return false;
    while (c.type.id === N.LineComment) {
      if (!c.nextSibling()) {
        c.parent();
        return false;
      }
    }
    return true;
  }

  private next(): boolean {
    const c = this.c;
    do if (!c.nextSibling()) return false;
    while (c.type.id === N.LineComment);
    return true;
  }

  /** Asserts that the current node is the last child, and returns to the parent. */
  private end(): void {
    if (this.next()) throw this.unsupported();
    this.c.parent();
  }

  /** Moves to the next child, which must exist. */
  private need(): void {
    if (!this.next()) throw this.unsupported();
  }

  private unsupported(): PromQLError {
    const c = this.c;
    const text = this.q.slice(c.from, Math.min(c.to, c.from + 40));
    return new PromQLError(
      'parse',
      `unsupported PromQL syntax \`${text}\` (${c.type.name}) at position ${c.from}`,
      c.from,
    );
  }

  // --- token alignment with Prometheus's lexer ---

  private mismatch(pos: number): PromQLError {
    const text = this.q.slice(pos, pos + 20);
    return new PromQLError(
      'parse',
      `the text \`${text}\` at position ${pos} is tokenised differently by Prometheus; ` +
        'separate the tokens with spaces or rewrite it',
      pos,
    );
  }

  private skipTo(from: number): void {
    const { kind, start } = this.toks;
    while (this.ti < kind.length && start[this.ti]! < from) {
      if (!isPunctuation(kind[this.ti]!)) throw this.mismatch(start[this.ti]!);
      this.ti++;
    }
  }

  /** Consumes the Prometheus token that must span exactly the current lezer leaf. */
  private leaf(): number {
    const { from, to } = this.c;
    this.skipTo(from);
    const ti = this.ti;
    if (this.toks.start[ti] !== from || this.toks.end[ti] !== to) throw this.mismatch(from);
    this.ti++;
    return ti;
  }

  private finishTokens(): void {
    const { kind, start } = this.toks;
    for (; this.ti < kind.length; this.ti++) {
      if (!isPunctuation(kind[this.ti]!)) throw this.mismatch(start[this.ti]!);
    }
  }

  private text(): string {
    return this.q.slice(this.c.from, this.c.to);
  }

  /** A NumberDurationLiteral(InDurationContext) leaf: an optional sign token, then a number. */
  private numberToken(): NumberToken {
    const { from, to } = this.c;
    const { kind, start, end } = this.toks;
    this.skipTo(from);
    let ti = this.ti;
    if (start[ti] !== from) throw this.mismatch(from);
    let sign: '' | '-' | '+' = '';
    if (kind[ti] === T.OP) {
      const s = this.q[from];
      if (s !== '-' && s !== '+') throw this.mismatch(from);
      sign = s;
      ti++;
    }
    const k = kind[ti];
    const s = start[ti]!;
    const e = end[ti]!;
    if (e !== to) throw this.mismatch(from);
    const text = this.q.slice(s, e);
    const lower = text.toLowerCase();
    if (
      k !== T.NUMBER &&
      k !== T.DURATION &&
      !(k === T.IDENT && (lower === 'inf' || lower === 'nan'))
    ) {
      throw this.mismatch(s);
    }
    this.ti = ti + 1;
    return { sign, text, isDuration: k === T.DURATION, pos: from };
  }

  /** A duration position (range, step, offset): must be a finite duration. */
  private durationToken(isRange: boolean): NumberToken {
    if (this.c.type.id !== N.NumberDurationLiteralInDurationContext) throw this.unsupported();
    const t = this.numberToken();
    const ms = durationMs(t.text, t.isDuration);
    if (!Number.isFinite(ms)) {
      throw new PromQLError(
        'parse',
        `\`${t.sign}${t.text}\` at position ${t.pos} is not a valid duration`,
        t.pos,
      );
    }
    if (isRange && (this.longestRange === null || ms > this.longestRange.ms)) {
      this.longestRange = { ms, token: t };
    }
    return t;
  }

  // --- expressions ---

  private expr(depth: number): Expr {
    if (depth > this.maxDepth) {
      throw new PromQLError(
        'limit',
        `query nests more than ${this.maxDepth} levels deep (limit ${this.maxDepth})`,
        this.c.from,
      );
    }
    if (depth > this.depth) this.depth = depth;
    const c = this.c;
    const pos = c.from;
    switch (c.type.id) {
      case N.VectorSelector:
        return this.vectorSelector();
      case N.NumberDurationLiteral:
        return { type: 'NumberLiteral', pos, value: this.numberToken() };
      case N.StringLiteral:
        return { type: 'StringLiteral', pos, value: this.stringValue() };
      case N.ParenExpr: {
        if (!this.down()) throw this.unsupported();
        const expr = this.expr(depth + 1);
        this.end();
        return { type: 'ParenExpr', pos, expr };
      }
      case N.UnaryExpr: {
        if (!this.down() || c.type.id !== N.UnaryOp) throw this.unsupported();
        this.leaf();
        const op = this.text() === '-' ? '-' : '+';
        this.need();
        const expr = this.expr(depth + 1);
        this.end();
        return { type: 'UnaryExpr', pos, op, expr };
      }
      case N.MatrixSelector: {
        if (!this.down()) throw this.unsupported();
        const expr = this.expr(depth + 1);
        this.need();
        const range = this.durationToken(true);
        this.end();
        return { type: 'MatrixSelector', pos, expr, range };
      }
      case N.SubqueryExpr: {
        if (!this.down()) throw this.unsupported();
        const expr = this.expr(depth + 1);
        this.need();
        const range = this.durationToken(true);
        let step: NumberToken | null = null;
        if (this.next()) {
          step = this.durationToken(false);
          this.end();
        } else {
          c.parent();
        }
        return { type: 'SubqueryExpr', pos, expr, range, step };
      }
      case N.OffsetExpr: {
        if (!this.down()) throw this.unsupported();
        const expr = this.expr(depth + 1);
        this.need();
        if (c.type.id !== N.Offset) throw this.unsupported();
        this.leaf();
        this.need();
        const offset = this.durationToken(false);
        this.end();
        return { type: 'OffsetExpr', pos, expr, offset };
      }
      case N.StepInvariantExpr:
        return this.atExpr(depth);
      case N.FunctionCall:
        return this.call(depth);
      case N.AggregateExpr:
        return this.aggregate(depth);
      case N.BinaryExpr:
        return this.binary(depth);
      default:
        throw this.unsupported();
    }
  }

  private stringValue(): string {
    const ti = this.leaf();
    const v = this.toks.value[ti];
    if (this.toks.kind[ti] !== T.STRING || v === undefined) throw this.mismatch(this.c.from);
    return v;
  }

  private atExpr(depth: number): AtExpr {
    const c = this.c;
    const pos = c.from;
    if (!this.down()) throw this.unsupported();
    const expr = this.expr(depth + 1);
    this.need();
    if (c.type.id !== N.At) throw this.unsupported();
    this.leaf();
    this.need();
    let at: AtExpr['at'];
    if (c.type.id === N.NumberDurationLiteral) {
      at = this.numberToken();
    } else if (c.type.id === N.AtModifierPreprocessors) {
      if (!this.down()) throw this.unsupported();
      const id = c.type.id;
      if (id !== N.Start && id !== N.End) throw this.unsupported();
      this.leaf();
      at = id === N.Start ? 'start' : 'end';
      this.end();
    } else {
      throw this.unsupported();
    }
    this.end();
    return { type: 'AtExpr', pos, expr, at };
  }

  private call(depth: number): Call {
    const c = this.c;
    const pos = c.from;
    if (!this.down() || c.type.id !== N.FunctionIdentifier) throw this.unsupported();
    if (!this.down()) throw this.unsupported();
    this.leaf();
    const func = this.text();
    if (!KNOWN_FUNCTIONS.has(func)) throw this.unsupported();
    this.end();
    this.functions.push({ name: func, pos });
    this.need();
    const args = this.callBody(depth);
    this.end();
    return { type: 'Call', pos, func, args };
  }

  private callBody(depth: number): Expr[] {
    const c = this.c;
    if (c.type.id !== N.FunctionCallBody) throw this.unsupported();
    const args: Expr[] = [];
    if (!this.down()) return args;
    do args.push(this.expr(depth + 1));
    while (this.next());
    c.parent();
    return args;
  }

  private aggregate(depth: number): Aggregate {
    const c = this.c;
    const pos = c.from;
    if (!this.down() || c.type.id !== N.AggregateOp) throw this.unsupported();
    if (!this.down()) throw this.unsupported();
    this.leaf();
    const op = this.text().toLowerCase();
    if (!AGGREGATIONS.has(op)) throw this.unsupported();
    this.end();
    if (GATED_AGGREGATIONS.has(op)) this.functions.push({ name: op, pos });
    this.need();
    let grouping: Grouping | null = null;
    if (c.type.id === N.AggregateModifier) {
      grouping = this.aggregateModifier(true);
      this.need();
    }
    const args = this.callBody(depth);
    if (this.next()) {
      if (grouping !== null || c.type.id !== N.AggregateModifier) throw this.unsupported();
      grouping = this.aggregateModifier(false);
    }
    this.end();
    return { type: 'Aggregate', pos, op, grouping, args };
  }

  private aggregateModifier(before: boolean): Grouping {
    const c = this.c;
    if (!this.down()) throw this.unsupported();
    const id = c.type.id;
    if (id !== N.By && id !== N.Without) throw this.unsupported();
    this.leaf();
    this.need();
    const labels = this.groupingLabels();
    this.end();
    return { without: id === N.Without, labels, before };
  }

  private groupingLabels(): LabelName[] {
    const c = this.c;
    if (c.type.id !== N.GroupingLabels) throw this.unsupported();
    const labels: LabelName[] = [];
    if (!this.down()) return labels;
    do labels.push(this.labelName());
    while (this.next());
    c.parent();
    return labels;
  }

  private labelName(): LabelName {
    const c = this.c;
    if (c.type.id === N.LabelName) {
      this.leaf();
      return { name: this.text(), quoted: false };
    }
    if (c.type.id !== N.QuotedLabelName || !this.down()) throw this.unsupported();
    if (c.type.id !== N.StringLiteral) throw this.unsupported();
    const name = this.stringValue();
    this.end();
    return { name, quoted: true };
  }

  private binary(depth: number): BinaryExpr {
    const c = this.c;
    const pos = c.from;
    if (!this.down()) throw this.unsupported();
    const lhs = this.expr(depth + 1);
    this.need();
    const op = BINARY_OPS.get(c.type.id);
    if (op === undefined) throw this.unsupported();
    this.leaf();
    this.need();
    let bool = false;
    if (c.type.id === N.BoolModifier) {
      if (!this.down() || c.type.id !== N.Bool) throw this.unsupported();
      this.leaf();
      this.end();
      bool = true;
      this.need();
    }
    let matching: VectorMatching | null = null;
    if (c.type.id === N.MatchingModifierClause) {
      matching = this.matching();
      this.need();
    }
    const rhs = this.expr(depth + 1);
    this.end();
    return { type: 'BinaryExpr', pos, lhs, op, bool, matching, rhs };
  }

  private matching(): VectorMatching {
    const c = this.c;
    if (!this.down()) throw this.unsupported();
    const id = c.type.id;
    if (id !== N.On && id !== N.Ignoring) throw this.unsupported();
    this.leaf();
    this.need();
    const labels = this.groupingLabels();
    let group: VectorMatching['group'] = null;
    if (this.next()) {
      const g = c.type.id;
      if (g !== N.GroupLeft && g !== N.GroupRight) throw this.unsupported();
      this.leaf();
      let groupLabels: LabelName[] | null = null;
      if (this.next()) {
        groupLabels = this.groupingLabels();
      }
      group = { right: g === N.GroupRight, labels: groupLabels };
    }
    this.end();
    return { ignoring: id === N.Ignoring, labels, group };
  }

  private vectorSelector(): VectorSelector {
    const c = this.c;
    const pos = c.from;
    if (!this.down()) throw this.unsupported();
    let name: string | null = null;
    let items: MatcherItem[] = [];
    if (c.type.id === N.Identifier) {
      this.leaf();
      name = this.text();
      if (this.next()) {
        if (c.type.id !== N.LabelMatchers) throw this.unsupported();
        items = this.labelMatchers();
      }
    } else if (c.type.id === N.LabelMatchers) {
      items = this.labelMatchers();
    } else {
      throw this.unsupported();
    }
    this.end();
    const vs: VectorSelector = { type: 'VectorSelector', pos, name, items };
    checkSelector(vs);
    this.selectors.push(vs);
    return vs;
  }

  private labelMatchers(): MatcherItem[] {
    const c = this.c;
    const items: MatcherItem[] = [];
    if (!this.down()) return items;
    do {
      const id = c.type.id;
      const pos = c.from;
      if (id === N.QuotedLabelName) {
        items.push({ kind: 'name', value: this.labelName().name, pos });
        continue;
      }
      if (id !== N.UnquotedLabelMatcher && id !== N.QuotedLabelMatcher) throw this.unsupported();
      if (!this.down()) throw this.unsupported();
      if ((id === N.UnquotedLabelMatcher) !== (c.type.id === N.LabelName)) {
        throw this.unsupported();
      }
      const label = this.labelName();
      this.need();
      if (c.type.id !== N.MatchOp || !this.down()) throw this.unsupported();
      const op = MATCH_OPS.get(c.type.id);
      if (op === undefined) throw this.unsupported();
      this.leaf();
      this.end();
      this.need();
      if (c.type.id !== N.StringLiteral) throw this.unsupported();
      const value = this.stringValue();
      this.end();
      items.push({ kind: 'matcher', name: label.name, quoted: label.quoted, op, value, pos });
    } while (this.next());
    c.parent();
    return items;
  }
}

/** The checks Prometheus's parser applies to a vector selector. */
export function checkSelector(vs: VectorSelector): void {
  if (vs.name !== null) {
    for (const m of vs.items) {
      if (m.kind === 'name' || m.name === '__name__') {
        throw new PromQLError(
          'parse',
          `metric name must not be set twice: "${vs.name}" and "${m.value}" (position ${m.pos})`,
          m.pos,
        );
      }
    }
    return;
  }
  for (const m of vs.items) {
    if (m.kind === 'name' ? m.value !== '' : !matcherMatchesEmpty(m.op, m.value)) return;
  }
  throw new PromQLError(
    'empty_selector',
    `vector selector must contain at least one non-empty matcher (position ${vs.pos})`,
    vs.pos,
  );
}
