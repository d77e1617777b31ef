/**
 * Request parameters, read the way Prometheus (Go's `net/url` and `r.Form`) reads them, but
 * refusing every ambiguity instead of silently picking one value (DESIGN.md invariant 2).
 *
 * - `parseForm` splits `a=1&b=2` like Go's `url.ParseQuery`: `+` is a space, `%XX` an
 *   escaped byte, a pair without `=` has the empty value, empty pairs are skipped. Where Go
 *   silently drops a pair (a raw `;`, a bad escape) or keeps invalid UTF-8, promgate refuses
 *   the request: both programs must see the same parameters.
 * - `Params` merges the urlencoded body and the query string (body first, as Go does) and
 *   hands out single values only when exactly one was given.
 *
 * @example
 *   const p = new Params(parseForm('match[]=up'), parseForm('match[]=x&start=1'));
 *   p.all('match[]');  // ['x', 'up']  (body first, then URL)
 *   p.single('start'); // '1'
 */
import { badData } from '../errors.js';

export type Pairs = readonly (readonly [string, string])[];

// ignoreBOM: keep a leading U+FEFF, as Go does (the default would silently drop it).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses `application/x-www-form-urlencoded` data (a query string or a form body) given as a
 * binary string: one character per byte (`buffer.toString('latin1')`; Node already hands out
 * the request target that way).
 */
export function parseForm(binary: string, where: 'URL' | 'body'): Pairs {
  const pairs: [string, string][] = [];
  if (binary === '') return pairs;
  for (const part of binary.split('&')) {
    if (part === '') continue;
    if (part.includes(';')) {
      throw badData(
        `invalid ${where} parameter: a raw ";" is not a parameter separator; escape it as %3B`,
      );
    }
    const eq = part.indexOf('=');
    const rawKey = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? '' : part.slice(eq + 1);
    const key = unescape(rawKey, where);
    pairs.push([key, unescape(rawValue, where, key)]);
  }
  return pairs;
}

const PLAIN = /^[\x20-\x24\x26-\x2a\x2c-\x7e]*$/; // printable ASCII without % and +

/** Go's `QueryUnescape` over bytes, plus a UTF-8 check (JavaScript strings cannot hold raw bytes). */
function unescape(s: string, where: string, key?: string): string {
  if (PLAIN.test(s)) return s;
  return unescapeAscii(s) ?? unescapeBytes(s, where, key);
}

/** The common case: escapes of ASCII bytes only. undefined when the byte loop must decide. */
function unescapeAscii(s: string): string | undefined {
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 /* % */) {
      const byte = (hexValue(s.charCodeAt(i + 1)) << 4) | hexValue(s.charCodeAt(i + 2));
      if (byte < 0 || byte >= 0x80) return undefined;
      out += s.slice(last, i) + String.fromCharCode(byte);
      i += 2;
      last = i + 1;
    } else if (c === 0x2b /* + */) {
      out += `${s.slice(last, i)} `;
      last = i + 1;
    } else if (c >= 0x80) {
      return undefined;
    }
  }
  return out + s.slice(last);
}

/** 0-15 for a hex digit's char code, else a large negative number (NaN char codes too). */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -0x10000;
}

function unescapeBytes(s: string, where: string, key?: string): string {
  const bytes = new Uint8Array(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 /* % */) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) {
        throw badData(`invalid ${where} ${describe(key)}: malformed percent-escape "%${hex}"`);
      }
      bytes[n++] = parseInt(hex, 16);
      i += 2;
    } else if (c === 0x2b /* + */) {
      bytes[n++] = 0x20;
    } else if (c <= 0xff) {
      bytes[n++] = c;
    } else {
      throw badData(`invalid ${where} ${describe(key)}: not a byte string`);
    }
  }
  try {
    return utf8.decode(bytes.subarray(0, n));
  } catch {
    throw badData(`invalid ${where} ${describe(key)}: the bytes do not form valid UTF-8`);
  }
}

function describe(key: string | undefined): string {
  return key === undefined ? 'parameter name' : `parameter "${key}"`;
}

/** The parameters of one request: urlencoded body and query string, merged like Go's `r.Form`. */
export class Params {
  private readonly values = new Map<string, string[]>();

  constructor(url: Pairs, body: Pairs = []) {
    this.add(body);
    this.add(url);
  }

  private add(pairs: Pairs): void {
    for (const [k, v] of pairs) {
      const list = this.values.get(k);
      if (list) list.push(v);
      else this.values.set(k, [v]);
    }
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** The one value of a single-valued parameter, or undefined; given twice (URL, body or both) → 400. */
  single(name: string): string | undefined {
    const list = this.values.get(name);
    if (!list) return undefined;
    if (list.length > 1) {
      throw badData(
        `parameter "${name}" is given ${list.length} times (query string and form body together); ` +
          'give it exactly once',
      );
    }
    return list[0];
  }

  /** Every value of a repeatable parameter (body first, then URL), duplicates removed. */
  all(name: string): string[] {
    const list = this.values.get(name);
    if (list === undefined) return [];
    return list.length === 1 ? [list[0] as string] : [...new Set(list)];
  }

  names(): string[] {
    return [...this.values.keys()];
  }
}

/** Canonical `application/x-www-form-urlencoded` encoding of the pairs, in the given order. */
export function encodeForm(pairs: Pairs): string {
  let out = '';
  for (const [k, v] of pairs) {
    if (out !== '') out += '&';
    out += `${encodeComponent(k)}=${encodeComponent(v)}`;
  }
  return out;
}

/** ASCII characters left as they are: Go's QueryEscape set (encodeURIComponent keeps !'()* too). */
const SAFE = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~') {
  SAFE[c.charCodeAt(0)] = 1;
}
const ESCAPED = Array.from({ length: 128 }, (_, c) =>
  SAFE[c] === 1 ? String.fromCharCode(c) : `%${c.toString(16).toUpperCase().padStart(2, '0')}`,
);
const UNESCAPED = /[!'()*]/g;
const escapeOne = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase()}`;

function encodeComponent(s: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      // Non-ASCII: UTF-8 percent-escapes (a lone surrogate throws, as before).
      return encodeURIComponent(s).replace(UNESCAPED, escapeOne);
    }
    if (SAFE[c] !== 1) {
      out += s.slice(last, i) + (ESCAPED[c] as string);
      last = i + 1;
    }
  }
  return last === 0 ? s : out + s.slice(last);
}
