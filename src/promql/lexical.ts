/**
 * Prometheus's lexical rules, which are stricter than lezer's grammar.
 *
 * `lex()` is a port of the Go lexer (`promql/parser/lex.go`, Prometheus 3.x): it tokenises
 * the query exactly as Prometheus does and rejects what Prometheus's lexer rejects and lezer
 * accepts — Unicode whitespace, unterminated strings, unknown escapes (`\q`), surrogate and
 * out-of-range escapes, octal above `\377`, raw newlines in `"…"`/`'…'` strings, numbers and
 * durations followed by a letter (`1and`), unbalanced brackets. It also rejects a lone `\r`
 * inside a `#` comment: Go ends the comment there and lezer does not, so the two would read
 * different queries (`count(up) # \r + count(up{namespace="b"})`). String literals are
 * decoded here, as Go's `strutil.Unquote` does.
 *
 * The builder then checks that every token lezer produced is exactly one of these tokens.
 *
 *     lex('rate(x[5m])').count === 7
 */

import { PromQLError } from './types.js';

/** Token kinds (numeric for speed; `TOKEN_NAMES` gives their descriptions). */
export const T = {
  IDENT: 1,
  STRING: 2,
  NUMBER: 3,
  DURATION: 4,
  LPAREN: 5,
  RPAREN: 6,
  LBRACE: 7,
  RBRACE: 8,
  LBRACKET: 9,
  RBRACKET: 10,
  COMMA: 11,
  COLON: 12,
  OP: 13,
  AT: 14,
} as const;

/** The tokens of one query, in source order, as parallel arrays. */
export interface Tokens {
  readonly kind: number[];
  readonly start: number[];
  readonly end: number[];
  /** The decoded value of each STRING token (undefined for other kinds). */
  readonly value: (string | undefined)[];
  /** Starts of `holt_winters` identifiers followed by `(`. */
  readonly holtWinters: number[];
}

const C_TAB = 9;
const C_LF = 10;
const C_CR = 13;
const C_SPACE = 32;

function isSpace(c: number): boolean {
  return c === C_SPACE || c === C_TAB || c === C_LF || c === C_CR;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}
function isAlpha(c: number): boolean {
  return c === 95 || (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}
function isAlnum(c: number): boolean {
  return isAlpha(c) || isDigit(c);
}

/** Describes a character for an error message: `"x"` or `U+00A0`. */
export function describeChar(q: string, i: number): string {
  const cp = q.codePointAt(i);
  if (cp === undefined) return 'end of query';
  const hex = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
  if (cp > 32 && cp < 127) return '`' + String.fromCharCode(cp) + '`';
  return hex;
}

function err(message: string, position: number): PromQLError {
  return new PromQLError('parse', message, position);
}

/** Unicode characters that lezer skips as whitespace and Prometheus rejects. */
function isUnicodeSpace(cp: number): boolean {
  if (cp === C_SPACE || cp === C_TAB || cp === C_LF || cp === C_CR) return false;
  return /\s/u.test(String.fromCodePoint(cp)) || cp === 0x85 || cp === 0x180e || cp === 0x200b;
}

function unexpected(q: string, i: number, where = ''): PromQLError {
  const cp = q.codePointAt(i) ?? 0;
  if (isUnicodeSpace(cp)) {
    return err(
      `unexpected whitespace character ${describeChar(q, i)} at position ${i}: ` +
        'only space, tab, CR and LF may separate tokens',
      i,
    );
  }
  return err(`unexpected character ${describeChar(q, i)}${where} at position ${i}`, i);
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Lexes `q` with Prometheus's rules. Throws PromQLError 'parse' for anything Prometheus's
 * lexer rejects, and 'limit' when brackets nest deeper than `maxNesting`.
 */
export function lex(q: string, maxNesting: number): Tokens {
  const n = q.length;
  const kind: number[] = [];
  const start: number[] = [];
  const end: number[] = [];
  const value: (string | undefined)[] = [];
  const holtWinters: number[] = [];
  const parens: number[] = [];
  let braceOpen = -1;
  let bracketOpen = -1;
  let gotColon = false;
  let i = 0;

  const at = (k: number): number => (k < n ? q.charCodeAt(k) : -1);
  const push = (k: number, s: number, e: number, v?: string): void => {
    kind.push(k);
    start.push(s);
    end.push(e);
    value.push(v);
  };

  /** Skips a `#` comment starting at `s`; returns the index of its end-of-line (or n). */
  const comment = (s: number): number => {
    let j = s + 1;
    for (; j < n; j++) {
      const c = q.charCodeAt(j);
      if (c === C_LF) break;
      if (c === C_CR) {
        if (at(j + 1) === C_LF) break;
        throw err(
          `carriage return inside a # comment at position ${j}: Prometheus ends the comment ` +
            'there and would read the rest of the line as query text; remove it',
          j,
        );
      }
    }
    return j;
  };

  /** Scans a quoted string starting at `s` (the quote); decodes it as Go's Unquote does. */
  const quoted = (s: number, quote: number): void => {
    let j = s + 1;
    let out = '';
    let seg = j;
    let bytes: number[] | null = null;
    const flushBytes = (): void => {
      if (bytes === null) return;
      try {
        out += utf8Decoder.decode(new Uint8Array(bytes));
      } catch {
        throw err(
          `string starting at ${s} has \\x or octal escapes that do not form valid UTF-8`,
          s,
        );
      }
      bytes = null;
    };
    for (;;) {
      const c = at(j);
      if (c === -1 || c === C_LF) {
        throw err(
          `unterminated string starting at ${s}` +
            (c === C_LF ? ` (a newline at ${j} ends the line first; use \\n)` : ''),
          s,
        );
      }
      if (c === quote) break;
      if (c === 0xfffd) throw err(`invalid UTF-8 (U+FFFD) in string at position ${j}`, j);
      if (c !== 92 /* \ */) {
        flushBytes();
        j++;
        continue;
      }
      // Escape sequence (lexEscape + unquoteChar).
      const escStart = j;
      if (bytes === null) out += q.slice(seg, j);
      const e = at(j + 1);
      j += 2;
      let decoded: string | null = null;
      let byte = -1;
      switch (e) {
        case 97:
          decoded = '\x07';
          break; // \a
        case 98:
          decoded = '\b';
          break;
        case 102:
          decoded = '\f';
          break;
        case 110:
          decoded = '\n';
          break;
        case 114:
          decoded = '\r';
          break;
        case 116:
          decoded = '\t';
          break;
        case 118:
          decoded = '\v';
          break;
        case 92:
          decoded = '\\';
          break;
        case -1:
          throw err(`unterminated string starting at ${s}`, s);
        default: {
          if (e === quote) {
            decoded = String.fromCharCode(quote);
            break;
          }
          let digits = 0;
          let base = 16;
          let max = 0x10ffff;
          let first = j;
          if (e >= 48 && e <= 55) {
            digits = 3;
            base = 8;
            max = 255;
            first = j - 1;
          } else if (e === 120 /* x */) {
            digits = 2;
            max = 255;
          } else if (e === 117 /* u */) {
            digits = 4;
          } else if (e === 85 /* U */) {
            digits = 8;
          } else {
            throw err(
              e === C_LF || e === C_CR
                ? `backslash before a line break in string at position ${escStart}`
                : `unknown escape sequence \\${String.fromCodePoint(q.codePointAt(j - 1) ?? e)} ` +
                    `in string at position ${escStart}`,
              escStart,
            );
          }
          let v = 0;
          for (let k = 0; k < digits; k++) {
            const d = at(first + k);
            const dv = base === 8 ? (d >= 48 && d <= 55 ? d - 48 : 99) : isHex(d) ? hexVal(d) : 99;
            if (dv === 99) {
              if (d === -1) throw err(`unterminated string starting at ${s}`, s);
              throw err(
                `illegal character ${describeChar(q, first + k)} in escape sequence at position ${escStart}`,
                escStart,
              );
            }
            v = v * base + dv;
          }
          j = first + digits;
          if (v > max || (v >= 0xd800 && v < 0xe000)) {
            throw err(
              `escape sequence ${q.slice(escStart, j)} at position ${escStart} is not a valid ` +
                (base === 8 ? 'octal byte (at most \\377)' : 'Unicode code point'),
              escStart,
            );
          }
          if (digits <= 3) byte = v;
          else decoded = String.fromCodePoint(v);
        }
      }
      if (byte >= 0) {
        if (byte < 0x80 && bytes === null) out += String.fromCharCode(byte);
        else (bytes ??= []).push(byte);
      } else {
        flushBytes();
        out += decoded ?? '';
      }
      seg = j;
    }
    flushBytes();
    if (seg < j) out += q.slice(seg, j);
    push(T.STRING, s, j + 1, out);
    i = j + 1;
  };

  const raw = (s: number): void => {
    let j = s + 1;
    for (;;) {
      const c = at(j);
      if (c === -1) throw err(`unterminated raw string starting at ${s}`, s);
      if (c === 96) break;
      if (c === 0xfffd) throw err(`invalid UTF-8 (U+FFFD) in string at position ${j}`, j);
      j++;
    }
    push(T.STRING, s, j + 1, q.slice(s + 1, j));
    i = j + 1;
  };

  const numberOrDuration = (s: number): void => {
    const r = scanNumber(q, s);
    if (r >= 0) {
      push(T.NUMBER, s, r);
      i = r;
      return;
    }
    let p = -r - 1;
    // acceptRemainingDuration
    const unit = (c: number, y: boolean): boolean =>
      c === 115 || c === 109 || c === 104 || c === 100 || c === 119 || (y && c === 121);
    let ok = unit(at(p), true);
    if (ok) {
      p++;
      if (at(p) === 115) p++;
      while (ok && isDigit(at(p))) {
        while (isDigit(at(p))) p++;
        if (!unit(at(p), false)) {
          ok = false;
          break;
        }
        p++;
        if (at(p) === 115) p++;
      }
      if (ok && isAlnum(at(p))) ok = false;
    }
    if (!ok) {
      const stop = Math.min(n, Math.max(p + 1, s + 1));
      throw err(
        `bad number or duration syntax \`${q.slice(s, stop)}\` at position ${s}` +
          (isAlpha(at(p)) || isAlpha(at(p - 1))
            ? ': a number or duration must not be followed by a letter'
            : ''),
        s,
      );
    }
    push(T.DURATION, s, p);
    i = p;
  };

  for (;;) {
    if (braceOpen >= 0) {
      // lexInsideBraces
      if (i >= n) throw err(`unclosed \`{\` at position ${braceOpen}`, braceOpen);
      const c = q.charCodeAt(i);
      if (c === 35) {
        i = comment(i);
      } else if (isSpace(c)) {
        i++;
      } else if (isAlpha(c)) {
        let j = i + 1;
        while (isAlnum(at(j))) j++;
        push(T.IDENT, i, j);
        i = j;
      } else if (c === 44) {
        push(T.COMMA, i, ++i);
      } else if (c === 34 || c === 39) {
        quoted(i, c);
      } else if (c === 96) {
        raw(i);
      } else if (c === 61) {
        const w = at(i + 1) === 126 ? 2 : 1;
        push(T.OP, i, i + w);
        i += w;
      } else if (c === 33) {
        const c2 = at(i + 1);
        if (c2 !== 126 && c2 !== 61) throw unexpected(q, i + 1, ' after `!` inside braces');
        push(T.OP, i, i + 2);
        i += 2;
      } else if (c === 125) {
        push(T.RBRACE, i, ++i);
        braceOpen = -1;
      } else {
        throw unexpected(q, i, ' inside braces');
      }
      continue;
    }
    if (i >= n) {
      const open = parens[parens.length - 1];
      if (open !== undefined) throw err(`unclosed \`(\` at position ${open}`, open);
      if (bracketOpen >= 0) throw err(`unclosed \`[\` at position ${bracketOpen}`, bracketOpen);
      break;
    }
    const c = q.charCodeAt(i);
    if (c === 35) {
      i = comment(i);
      continue;
    }
    if (isSpace(c)) {
      i++;
      continue;
    }
    switch (c) {
      case 44:
        push(T.COMMA, i, ++i);
        continue;
      case 42: // *
      case 47: // /
      case 37: // %
      case 43: // +
      case 45: // -
      case 94: // ^
        push(T.OP, i, ++i);
        continue;
      case 61: {
        // =, ==
        const c2 = at(i + 1);
        if (c2 === 126) throw unexpected(q, i + 1, ' after `=`');
        const w = c2 === 61 ? 2 : 1;
        push(T.OP, i, i + w);
        i += w;
        continue;
      }
      case 33: // !=
        if (at(i + 1) !== 61) throw unexpected(q, i + 1, ' after `!`');
        push(T.OP, i, i + 2);
        i += 2;
        continue;
      case 60: // <, <=
      case 62: {
        const w = at(i + 1) === 61 ? 2 : 1;
        push(T.OP, i, i + w);
        i += w;
        continue;
      }
      case 34:
      case 39:
        quoted(i, c);
        continue;
      case 96:
        raw(i);
        continue;
      case 40:
        parens.push(i);
        if (parens.length > maxNesting) {
          throw new PromQLError(
            'limit',
            `query nests parentheses more than ${maxNesting} levels deep (limit ${maxNesting})`,
            i,
          );
        }
        push(T.LPAREN, i, ++i);
        continue;
      case 41:
        if (parens.pop() === undefined) throw err(`unexpected \`)\` at position ${i}`, i);
        push(T.RPAREN, i, ++i);
        continue;
      case 123:
        braceOpen = i;
        push(T.LBRACE, i, ++i);
        continue;
      case 91:
        if (bracketOpen >= 0) throw err(`unexpected \`[\` at position ${i}`, i);
        bracketOpen = i;
        gotColon = false;
        push(T.LBRACKET, i, ++i);
        continue;
      case 93:
        if (bracketOpen < 0) throw err(`unexpected \`]\` at position ${i}`, i);
        bracketOpen = -1;
        push(T.RBRACKET, i, ++i);
        continue;
      case 64:
        push(T.AT, i, ++i);
        continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(at(i + 1)))) {
      numberOrDuration(i);
      continue;
    }
    if (isAlpha(c) || c === 58) {
      if (bracketOpen >= 0) {
        if (c === 58 && !gotColon) {
          gotColon = true;
          push(T.COLON, i, ++i);
          continue;
        }
        throw unexpected(q, i, ' inside `[ ]`');
      }
      let j = i + 1;
      for (let d = at(j); isAlnum(d) || d === 58; d = at(++j));
      if (j - i === 12 && q.startsWith('holt_winters', i)) {
        let k = j;
        while (isSpace(at(k))) k++;
        if (at(k) === 40) holtWinters.push(i);
      }
      push(T.IDENT, i, j);
      i = j;
      continue;
    }
    throw unexpected(q, i);
  }
  return { kind, start, end, value, holtWinters };
}

function hexVal(c: number): number {
  if (c <= 57) return c - 48;
  if (c >= 97) return c - 87;
  return c - 55;
}

/**
 * Go's `scanNumber` (3.x: underscores, hex, exponents). Returns the end of the number, or
 * `-(stop) - 1` when it is not a number (the caller then tries a duration from `stop`).
 */
function scanNumber(q: string, s: number): number {
  const n = q.length;
  const at = (k: number): number => (k < n ? q.charCodeAt(k) : -1);
  let p = s;
  let hex = false;
  if (at(p) === 48) {
    p++;
    const x = at(p);
    if (x === 120 || x === 88) {
      p++;
      hex = true;
      if (at(p) === 95) p++;
    }
  }
  const digit = hex ? isHex : isDigit;
  const isExp = (c: number): boolean => c === 101 || c === 69;
  const anti = (c: number): boolean => c === 46 || c === 95 || isExp(c);
  if (at(p) === 46) p++;
  if (digit(at(p))) p++;
  let dot = false;
  let exp = false;
  for (let c = at(p); digit(c) || c === 46 || c === 95 || isExp(c); c = at(p)) {
    if (c === 46 && dot) return -(p + 1) - 1;
    if (isExp(c) && exp) return -(p + 1) - 1;
    if (c === 46) {
      p++;
      dot = true;
      if (at(p) === 46 || at(p) === 95) return -(p + 1) - 1;
      if (hex) return -p - 1;
      continue;
    }
    if (isExp(c)) {
      p++;
      exp = true;
      const sign = at(p);
      if (sign === 43 || sign === 45) p++;
      if (anti(at(p))) return -(p + 1) - 1;
      if (p >= n) return -p - 1;
      continue;
    }
    if (c === 95) {
      p++;
      if (anti(at(p))) return -(p + 1) - 1;
      if (p >= n) return -p - 1;
      continue;
    }
    while (digit(at(p))) p++;
  }
  if (p === s) return -p - 1;
  if (!isAlnum(at(p))) return p;
  return -p - 1;
}

const DURATION_RE =
  /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86400000, 7 * 86400000, 86400000, 3600000, 60000, 1000, 1];

/**
 * The length in milliseconds of a NUMBER or DURATION token as Prometheus 3.x reads it in a
 * duration position (a number means seconds). NaN when it is not a valid duration.
 */
export function durationMs(text: string, isDuration: boolean): number {
  if (!isDuration) return numberValue(text) * 1000;
  const m = DURATION_RE.exec(text);
  if (m === null || text === '') return NaN;
  let ms = 0;
  for (let k = 0; k < 7; k++) {
    const g = m[k + 1];
    if (g !== undefined) ms += Number(g) * (UNIT_MS[k] ?? 0);
  }
  return ms;
}

/** The value of a NUMBER token as Go's ParseInt(base 0) / ParseFloat read it. */
export function numberValue(text: string): number {
  const t = text.replace(/_/g, '');
  const lower = t.toLowerCase();
  if (lower === 'inf') return Infinity;
  if (lower === 'nan') return NaN;
  if (lower.startsWith('0x')) return parseInt(lower.slice(2), 16);
  if (/^0[0-7]+$/.test(t)) return parseInt(t, 8);
  return Number(t);
}

const LEGACY_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Whether `name` can be written bare (not quoted) as a label name. */
export function isLegacyLabelName(name: string): boolean {
  return LEGACY_NAME.test(name);
}

const PLAIN_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const HEX = '0123456789abcdef';

/**
 * Quotes `s` as a PromQL double-quoted string that Prometheus (2.x and 3.x) decodes back to
 * `s`. Output is printable ASCII only: everything else is escaped, as Go's strconv.Quote does
 * for unprintable characters.
 */
export function quoteString(s: string): string {
  if (PLAIN_STRING.test(s)) return '"' + s + '"';
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    switch (cp) {
      case 34:
        out += '\\"';
        continue;
      case 92:
        out += '\\\\';
        continue;
      case 7:
        out += '\\a';
        continue;
      case 8:
        out += '\\b';
        continue;
      case 12:
        out += '\\f';
        continue;
      case 10:
        out += '\\n';
        continue;
      case 13:
        out += '\\r';
        continue;
      case 9:
        out += '\\t';
        continue;
      case 11:
        out += '\\v';
        continue;
    }
    if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (cp < 0x80) out += '\\x' + HEX[cp >> 4] + HEX[cp & 15];
    else if (cp <= 0xffff) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}
