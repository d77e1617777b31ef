/**
 * The two regex questions the engine must answer in JavaScript about Go RE2 patterns:
 * escaping a literal (Go's `regexp.QuoteMeta`) and "does this label matcher match the empty
 * string?" (Prometheus rejects selectors whose matchers all do).
 *
 * JavaScript cannot compile every RE2 pattern (`(?i)`, `\Q…\E`, `[[:alpha:]]`, `\pL`, `\z`),
 * so `regexMatchesEmpty` first rewrites the pattern into one with the same empty-match
 * behaviour: every construct that consumes exactly one character (a literal, `.`, a class, an
 * escape such as `\d` or `\pL`) becomes `x`; inline flags, which cannot change whether the
 * empty string matches, are dropped (RE2 treats them as transparent); groups, alternation,
 * quantifiers and anchors stay (anchors wrapped in a group: RE2 lets quantifiers follow them).
 * Where the rewrite still differs from RE2 (a flag group between two quantifiers), JavaScript
 * either fails to compile it or reads a lazy quantifier — both err towards "not empty".
 *
 * When a pattern still cannot be decided (unknown syntax), it is treated as NOT matching the
 * empty string, i.e. the selector is let through. That cannot leak: the enforced matcher is
 * appended to every selector anyway, and Prometheus itself rejects patterns RE2 cannot compile.
 *
 *     regexMatchesEmpty('.*') === true; regexMatchesEmpty('(?i)foo.+') === false
 */

import type { MatchOp } from './ast.js';

const META = /[\\.+*?()|[\]{}^$]/g;
const HAS_META = /[\\.+*?()|[\]{}^$]/;

/** Go's regexp.QuoteMeta: escapes every RE2 metacharacter. */
export function quoteMeta(s: string): string {
  return HAS_META.test(s) ? s.replace(META, '\\$&') : s;
}

const cache = new Map<string, boolean | undefined>();
const CACHE_MAX = 2048;
const REPEAT = /^\{\d+(?:,\d*)?\}/;

/** Whether the fully anchored RE2 pattern matches "", or undefined when it cannot be decided. */
export function regexMatchesEmpty(re: string): boolean | undefined {
  if (!HAS_META.test(re)) return re === '';
  if (re === '.*') return true;
  if (re === '.+') return false;
  if (cache.has(re)) return cache.get(re);
  const result = decide(re);
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(re, result);
  return result;
}

function decide(re: string): boolean | undefined {
  const t = translate(re);
  if (t === undefined) return undefined;
  try {
    return new RegExp('^(?:' + t + ')$').test('');
  } catch {
    return undefined;
  }
}

/** Rewrites an RE2 pattern into a JS pattern with the same empty-string behaviour. */
function translate(re: string): string | undefined {
  const n = re.length;
  let out = '';
  let i = 0;
  while (i < n) {
    const c = re[i];
    if (c === '\\') {
      const d = re[i + 1];
      if (d === undefined) return undefined;
      if (d === 'Q') {
        const stop = re.indexOf('\\E', i + 2);
        const lit = re.slice(i + 2, stop < 0 ? n : stop);
        for (const _ of lit) out += 'x';
        i = stop < 0 ? n : stop + 2;
        continue;
      }
      i += 2;
      // Assertions are wrapped in a group: RE2 lets a quantifier follow them, JS does not.
      if (d === 'A') out += '(?:^)';
      else if (d === 'z') out += '(?:$)';
      else if (d === 'b') out += '(?:\\b)';
      else if (d === 'B') out += '(?:\\B)';
      else {
        if ((d === 'p' || d === 'P' || d === 'x') && re[i] === '{') {
          const close = re.indexOf('}', i);
          if (close < 0) return undefined;
          i = close + 1;
        } else if (d === 'p' || d === 'P') {
          i += 1;
        } else if (d === 'x') {
          i += 2;
        } else if (d >= '0' && d <= '7') {
          for (let k = 0; k < 2 && re[i] !== undefined && re[i]! >= '0' && re[i]! <= '7'; k++) i++;
        }
        out += 'x';
      }
      continue;
    }
    if (c === '[') {
      let j = i + 1;
      if (re[j] === '^') j++;
      if (re[j] === ']') j++;
      for (;;) {
        const e = re[j];
        if (e === undefined) return undefined;
        if (e === ']') break;
        if (e === '\\') {
          const f = re[j + 1];
          j += 2;
          if ((f === 'p' || f === 'P' || f === 'x') && re[j] === '{') {
            const close = re.indexOf('}', j);
            if (close < 0) return undefined;
            j = close + 1;
          }
        } else if (e === '[' && re[j + 1] === ':') {
          const close = re.indexOf(':]', j + 2);
          if (close < 0) return undefined;
          j = close + 2;
        } else {
          j++;
        }
      }
      out += 'x';
      i = j + 1;
      continue;
    }
    if (c === '(') {
      if (re[i + 1] !== '?') {
        out += '(';
        i++;
        continue;
      }
      const e = re[i + 2];
      if (e === ':') {
        out += '(?:';
        i += 3;
      } else if (e === '<' || (e === 'P' && re[i + 3] === '<')) {
        const close = re.indexOf('>', i);
        if (close < 0) return undefined;
        out += '(';
        i = close + 1;
      } else {
        let j = i + 2;
        while (j < n && /[imsU-]/.test(re[j]!)) j++;
        // A flag group is transparent in RE2 (`a(?i)*` repeats `a`): drop it.
        if (re[j] === ')') out += '';
        else if (re[j] === ':') out += '(?:';
        else return undefined;
        i = j + 1;
      }
      continue;
    }
    if (c === '{') {
      const m = REPEAT.exec(re.slice(i, i + 24));
      if (m !== null) {
        out += m[0];
        i += m[0].length;
      } else {
        out += 'x';
        i++;
      }
      continue;
    }
    if (c === '^' || c === '$') {
      out += '(?:' + c + ')';
      i++;
      continue;
    }
    if (c === '|' || c === ')' || c === '*' || c === '+' || c === '?') {
      out += c;
      i++;
      continue;
    }
    // A literal character or `.`: consumes exactly one character.
    const cp = re.codePointAt(i) ?? 0;
    i += cp > 0xffff ? 2 : 1;
    out += 'x';
  }
  return out;
}

/** Whether a label matcher matches the empty value (undecidable regexes count as not). */
export function matcherMatchesEmpty(op: MatchOp, value: string): boolean {
  switch (op) {
    case '=':
      return value === '';
    case '!=':
      return value !== '';
    case '=~':
      return regexMatchesEmpty(value) === true;
    case '!~':
      return regexMatchesEmpty(value) === false;
  }
}
