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

const utf8 = new TextDecoder('utf-8', { fatal: true });

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
    for (const [k, v] of [...body, ...url]) {
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
    return [...new Set(this.values.get(name) ?? [])];
  }

  names(): string[] {
    return [...this.values.keys()];
  }
}

/** Canonical `application/x-www-form-urlencoded` encoding of the pairs, in the given order. */
export function encodeForm(pairs: Pairs): string {
  return pairs.map(([k, v]) => `${encodeComponent(k)}=${encodeComponent(v)}`).join('&');
}

function encodeComponent(s: string): string {
  // encodeURIComponent leaves !'()* unescaped; Go's QueryEscape escapes them. Either decodes the
  // same way; escaping them too keeps the output boring.
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
