/**
 * Prints the AST back to PromQL text.
 *
 * Tokens come out in source order, parentheses exactly where the caller wrote them (none added,
 * none removed), strings re-quoted canonically (printable ASCII, escapes for the rest),
 * numbers and durations verbatim, keywords in lower case, comments dropped. Tokens are always
 * separated so that Prometheus's lexer splits them exactly as intended. When `enforced` is
 * given (`namespace="a"`), it is appended as the last matcher of every vector selector.
 *
 *     printExpr(parse('rate(x[5m])').expr, 'namespace="a"') === 'rate(x{namespace="a"}[5m])'
 */

import type { Expr, Grouping, LabelName, MatcherItem, NumberToken, VectorSelector } from './ast.js';
import { quoteString } from './lexical.js';

/** Prints `expr`, appending `enforced` (a printed matcher) to every selector when given. */
export function printExpr(expr: Expr, enforced: string | null): string {
  switch (expr.type) {
    case 'VectorSelector':
      return printSelector(expr, enforced);
    case 'NumberLiteral':
      return num(expr.value);
    case 'StringLiteral':
      return quoteString(expr.value);
    case 'ParenExpr':
      return '(' + printExpr(expr.expr, enforced) + ')';
    case 'UnaryExpr':
      return expr.op + printExpr(expr.expr, enforced);
    case 'MatrixSelector':
      return printExpr(expr.expr, enforced) + '[' + num(expr.range) + ']';
    case 'SubqueryExpr':
      return (
        printExpr(expr.expr, enforced) +
        '[' +
        num(expr.range) +
        ':' +
        (expr.step === null ? '' : num(expr.step)) +
        ']'
      );
    case 'OffsetExpr':
      return printExpr(expr.expr, enforced) + ' offset ' + num(expr.offset);
    case 'AtExpr':
      return (
        printExpr(expr.expr, enforced) +
        ' @ ' +
        (typeof expr.at === 'string' ? expr.at + '()' : num(expr.at))
      );
    case 'Call':
      return expr.func + '(' + args(expr.args, enforced) + ')';
    case 'Aggregate': {
      const g = expr.grouping;
      const body = '(' + args(expr.args, enforced) + ')';
      if (g === null) return expr.op + body;
      return g.before
        ? expr.op + ' ' + grouping(g) + ' ' + body
        : expr.op + body + ' ' + grouping(g);
    }
    case 'BinaryExpr': {
      let s = printExpr(expr.lhs, enforced) + ' ' + expr.op;
      if (expr.bool) s += ' bool';
      const m = expr.matching;
      if (m !== null) {
        s += (m.ignoring ? ' ignoring ' : ' on ') + labels(m.labels);
        if (m.group !== null) {
          s += m.group.right ? ' group_right' : ' group_left';
          if (m.group.labels !== null) s += ' ' + labels(m.group.labels);
        }
      }
      return s + ' ' + printExpr(expr.rhs, enforced);
    }
  }
}

function num(t: NumberToken): string {
  return t.sign + t.text;
}

function args(list: readonly Expr[], enforced: string | null): string {
  let s = '';
  for (let i = 0; i < list.length; i++) {
    if (i > 0) s += ', ';
    s += printExpr(list[i]!, enforced);
  }
  return s;
}

function labelName(l: LabelName): string {
  return l.quoted ? quoteString(l.name) : l.name;
}

function labels(list: readonly LabelName[]): string {
  let s = '(';
  for (let i = 0; i < list.length; i++) {
    if (i > 0) s += ', ';
    s += labelName(list[i]!);
  }
  return s + ')';
}

function grouping(g: Grouping): string {
  return (g.without ? 'without ' : 'by ') + labels(g.labels);
}

/** Prints one matcher item. */
export function printItem(m: MatcherItem): string {
  if (m.kind === 'name') return quoteString(m.value);
  return (m.quoted ? quoteString(m.name) : m.name) + m.op + quoteString(m.value);
}

function printSelector(vs: VectorSelector, enforced: string | null): string {
  let inner = '';
  for (let i = 0; i < vs.items.length; i++) {
    if (i > 0) inner += ',';
    inner += printItem(vs.items[i]!);
  }
  if (enforced !== null) inner += inner === '' ? enforced : ',' + enforced;
  if (inner === '' && vs.name !== null) return vs.name;
  return (vs.name ?? '') + '{' + inner + '}';
}
