/**
 * The typed AST the engine builds from lezer's tree.
 *
 * It keeps lezer's shape on purpose: postfix modifiers (`offset`, `@`, `[range]`, subqueries)
 * wrap everything to their left, where Prometheus binds them to the nearest operand. The
 * printer writes every node's tokens in source order and never adds or removes parentheses,
 * so the printed text means to Prometheus exactly what the input meant; enforcement only
 * appends a matcher inside each selector's braces, which is correct under either reading.
 *
 * `pos` is the 0-based offset of the node's first token in the query.
 *
 *     sum by (pod) (rate(x[5m]))
 *     → Aggregate{op:'sum', grouping:{by, before}, args:[Call{rate, [Matrix{Selector x, 5m}]}]}
 */

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** A label name as written: bare (`pod`) or quoted (`"k8s.pod"`, 3.x). */
export interface LabelName {
  readonly name: string;
  readonly quoted: boolean;
}

/** `name op "value"` inside braces. */
export interface Matcher {
  readonly kind: 'matcher';
  readonly name: string;
  readonly quoted: boolean;
  readonly op: MatchOp;
  readonly value: string;
  readonly pos: number;
}

/** A bare quoted string inside braces: the metric name (`{"my.metric"}`, 3.x). */
export interface QuotedMetricName {
  readonly kind: 'name';
  readonly value: string;
  readonly pos: number;
}

export type MatcherItem = Matcher | QuotedMetricName;

export interface VectorSelector {
  readonly type: 'VectorSelector';
  readonly pos: number;
  /** The metric identifier before the braces, verbatim, or null. */
  readonly name: string | null;
  readonly items: readonly MatcherItem[];
}

/** A number or duration token with its optional sign, verbatim (`-5m`, `0x1F`, `Inf`). */
export interface NumberToken {
  readonly sign: '' | '-' | '+';
  readonly text: string;
  readonly isDuration: boolean;
  readonly pos: number;
}

export interface MatrixSelector {
  readonly type: 'MatrixSelector';
  readonly pos: number;
  readonly expr: Expr;
  readonly range: NumberToken;
}

export interface SubqueryExpr {
  readonly type: 'SubqueryExpr';
  readonly pos: number;
  readonly expr: Expr;
  readonly range: NumberToken;
  readonly step: NumberToken | null;
}

export interface OffsetExpr {
  readonly type: 'OffsetExpr';
  readonly pos: number;
  readonly expr: Expr;
  readonly offset: NumberToken;
}

/** `expr @ <number>` or `expr @ start()` / `end()`. */
export interface AtExpr {
  readonly type: 'AtExpr';
  readonly pos: number;
  readonly expr: Expr;
  readonly at: NumberToken | 'start' | 'end';
}

export interface Call {
  readonly type: 'Call';
  readonly pos: number;
  readonly func: string;
  readonly args: readonly Expr[];
}

export interface Grouping {
  readonly without: boolean;
  readonly labels: readonly LabelName[];
  /** Whether the clause came before the argument list (`sum by (x) (…)`). */
  readonly before: boolean;
}

export interface Aggregate {
  readonly type: 'Aggregate';
  readonly pos: number;
  /** Lower-case operator name (`sum`, `topk`, `count_values`, …). */
  readonly op: string;
  readonly grouping: Grouping | null;
  readonly args: readonly Expr[];
}

export interface VectorMatching {
  readonly ignoring: boolean;
  readonly labels: readonly LabelName[];
  /** `group_left`/`group_right`, with its label list (null when written without one). */
  readonly group: { readonly right: boolean; readonly labels: readonly LabelName[] | null } | null;
}

export interface BinaryExpr {
  readonly type: 'BinaryExpr';
  readonly pos: number;
  readonly lhs: Expr;
  /** Operator as printed: `+`, `==`, `and`, `atan2`, … (keywords lower-case). */
  readonly op: string;
  readonly bool: boolean;
  readonly matching: VectorMatching | null;
  readonly rhs: Expr;
}

export interface UnaryExpr {
  readonly type: 'UnaryExpr';
  readonly pos: number;
  readonly op: '-' | '+';
  readonly expr: Expr;
}

export interface ParenExpr {
  readonly type: 'ParenExpr';
  readonly pos: number;
  readonly expr: Expr;
}

export interface NumberLiteral {
  readonly type: 'NumberLiteral';
  readonly pos: number;
  readonly value: NumberToken;
}

export interface StringLiteral {
  readonly type: 'StringLiteral';
  readonly pos: number;
  readonly value: string;
}

export type Expr =
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | OffsetExpr
  | AtExpr
  | Call
  | Aggregate
  | BinaryExpr
  | UnaryExpr
  | ParenExpr
  | NumberLiteral
  | StringLiteral;

/** A parsed, validated query and the facts the policy checks need. */
export interface ParsedQuery {
  readonly expr: Expr;
  /** Every vector selector, in source order. */
  readonly selectors: readonly VectorSelector[];
  /** Every function call and gated aggregation, in source order. */
  readonly functions: readonly { readonly name: string; readonly pos: number }[];
  /** Nesting depth of the AST (a lone selector is 1). */
  readonly depth: number;
  /** The longest matrix or subquery range, or null when there is none. */
  readonly longestRange: { readonly ms: number; readonly token: NumberToken } | null;
}
