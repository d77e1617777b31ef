/**
 * Label names as they appear in `/api/v1/label/<name>/values` paths.
 *
 * Prometheus ≥ 3.1 decodes a name that starts with `U__` (the "value encoding" escaping of
 * `prometheus/common: model/metric.go`, `UnescapeName`/`EscapeName`), and Grafana sends
 * non-legacy names that way. promgate decodes the name before any policy decision and
 * re-encodes it for the upstream, so both agree on which label is meant.
 *
 * @example
 *   decodeLabelName('U__http_2e_status_code'); // 'http.status_code'
 *   decodeLabelName('U__namespace');           // 'namespace'
 *   encodeLabelName('http.status_code');       // 'U__http_2e_status_code'
 *   encodeLabelName('namespace');              // 'namespace'
 */

const LEGACY_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** True for names valid under Prometheus's legacy (pre-UTF-8) label name rules. */
export function isLegacyLabelName(name: string): boolean {
  return LEGACY_NAME.test(name);
}

/**
 * Decodes a `U__`-escaped label name exactly as Prometheus's `UnescapeName` does: a name
 * without the prefix, or with any malformed escape, is returned unchanged.
 */
export function decodeLabelName(name: string): string {
  if (!name.startsWith('U__')) return name;
  const escaped = name.slice(3);
  let out = '';
  let i = 0;
  while (i < escaped.length) {
    const c = escaped.charCodeAt(i);
    if (c !== 0x5f /* _ */) {
      out += escaped[i];
      i++;
      continue;
    }
    i++;
    if (i >= escaped.length) return name;
    if (escaped.charCodeAt(i) === 0x5f) {
      out += '_';
      i++;
      continue;
    }
    // `_<hex digits>_`: a code point. Like Go's loop, give up once six characters have been
    // examined without finding the closing underscore (so at most five digits).
    let value = 0;
    for (let j = 0; ; j++) {
      if (i >= escaped.length || j >= 6) return name;
      const d = escaped.charCodeAt(i);
      if (d === 0x5f) break;
      const hex = hexValue(d);
      if (hex < 0) return name;
      value = value * 16 + hex;
      i++;
    }
    i++; // the closing underscore
    if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return name;
    out += String.fromCodePoint(value);
  }
  return out;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Encodes a label name for an upstream path segment: legacy names stay plain, everything else
 * (including a legacy name that itself starts with `U__`, which Prometheus ≥ 3.1 would
 * otherwise decode) is escaped so that `decodeLabelName(encodeLabelName(n)) === n`.
 */
export function encodeLabelName(name: string): string {
  if (isLegacyLabelName(name) && !name.startsWith('U__')) return name;
  let out = 'U__';
  for (const ch of name) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '_') out += '__';
    else if (/[a-zA-Z0-9]/.test(ch)) out += ch;
    else out += `_${cp.toString(16)}_`;
  }
  return out;
}
