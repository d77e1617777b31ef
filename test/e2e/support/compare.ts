/**
 * Comparison helpers for promgate's end-to-end oracle tests: canonical forms of Prometheus
 * API answers (query results, series, label lists, federate text), short human-readable
 * diffs that say which side has extra series (a leak when promgate has more), the
 * namespaces a query names by equality (with Go string escapes decoded), a leak scan over
 * raw response bodies, and a bounded-concurrency map.
 *
 * @example
 * ```ts
 * const d = diffQueryData(viaPromgate.data, direct.data);
 * assert.equal(d, undefined, `[${id}] as team-b: ${d}`); // "LEAK: promgate has 2 series the tenant server lacks: …"
 * namedNamespaces(String.raw`up{namespace="team\x2db"}`); // ['team-b']
 * ```
 */
import { namedNamespaces as namedRaw } from '../../corpus/queries.js';
import { canonicalResult, type QueryData } from '../../support/index.js';

/** Runs fn over items with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (x: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

type Labels = Readonly<Record<string, string>>;

/** `name{a="1",b="2"}` with sorted label names: a series' identity as text. */
export function seriesKey(labels: Labels): string {
  const { __name__: name, ...rest } = labels;
  const inner = Object.keys(rest)
    .sort()
    .map((k) => `${k}=${JSON.stringify(rest[k])}`)
    .join(',');
  return `${name ?? ''}{${inner}}`;
}

const MAX_SHOWN = 5;

function listDiff<V>(
  actual: ReadonlyMap<string, V>,
  expected: ReadonlyMap<string, V>,
  equal: (a: V, b: V) => boolean,
  show: (v: V) => string,
): string | undefined {
  const extra = [...actual.keys()].filter((k) => !expected.has(k));
  const missing = [...expected.keys()].filter((k) => !actual.has(k));
  const changed = [...actual.keys()].filter(
    (k) => expected.has(k) && !equal(actual.get(k) as V, expected.get(k) as V),
  );
  if (extra.length + missing.length + changed.length === 0) return undefined;
  const parts: string[] = [];
  if (extra.length) {
    parts.push(
      `LEAK: promgate has ${extra.length} series/values the direct server lacks: ${extra.slice(0, MAX_SHOWN).join(' ')}`,
    );
  }
  if (missing.length) {
    parts.push(
      `promgate lacks ${missing.length} the direct server has: ${missing.slice(0, MAX_SHOWN).join(' ')}`,
    );
  }
  if (changed.length) {
    parts.push(
      `${changed.length} differ in value: ${changed
        .slice(0, MAX_SHOWN)
        .map(
          (k) => `${k} promgate=${show(actual.get(k) as V)} direct=${show(expected.get(k) as V)}`,
        )
        .join(' ')}`,
    );
  }
  return parts.join('; ');
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const short = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 160)}…` : s;
};

/**
 * Differences between two query answers' `data` (resultType, series and exact values), or
 * undefined when equal. Series order does not matter.
 */
export function diffQueryData(actual: unknown, expected: unknown): string | undefined {
  const a = canonicalResult(actual as QueryData);
  const e = canonicalResult(expected as QueryData);
  if (a.resultType !== e.resultType) {
    return `resultType: promgate=${a.resultType} direct=${e.resultType}`;
  }
  if (a.resultType === 'scalar' || a.resultType === 'string') {
    return sameJson(a.result, e.result)
      ? undefined
      : `${a.resultType}: promgate=${short(a.result)} direct=${short(e.result)}`;
  }
  const toMap = (d: QueryData): Map<string, unknown> => {
    const m = new Map<string, unknown>();
    for (const s of d.result as readonly { metric: Labels; value?: unknown; values?: unknown }[]) {
      m.set(seriesKey(s.metric), s.value ?? s.values);
    }
    return m;
  };
  return listDiff(toMap(a), toMap(e), sameJson, short);
}

/** Differences between two `/api/v1/series` answers (lists of label sets). */
export function diffSeries(actual: unknown, expected: unknown): string | undefined {
  const toMap = (list: unknown): Map<string, true> =>
    new Map((list as Labels[]).map((l) => [seriesKey(l), true as const]));
  return listDiff(toMap(actual), toMap(expected), () => true, String);
}

/** Differences between two string lists (label names or values), order ignored. */
export function diffStrings(actual: unknown, expected: unknown): string | undefined {
  const toMap = (list: unknown): Map<string, true> =>
    new Map((list as string[]).map((s) => [JSON.stringify(s), true as const]));
  return listDiff(toMap(actual), toMap(expected), () => true, String);
}

/**
 * Parses Prometheus text exposition (as `/federate` writes it) into series key (name and
 * sorted labels) → "value timestamp"; comments dropped. Throws on a line it cannot read.
 */
export function parseExposition(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([^{\s]+)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = { __name__: m[1] ?? '' };
    const body = m[2] ?? '';
    const re = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
    let consumed = 0;
    for (const lm of body.matchAll(re)) {
      if (lm.index !== consumed) throw new Error(`unparsable labels in: ${line}`);
      consumed += lm[0].length;
      labels[lm[1] ?? ''] = (lm[2] ?? '').replace(/\\(.)/g, (_, c: string) =>
        c === 'n' ? '\n' : c,
      );
    }
    if (consumed !== body.length) throw new Error(`unparsable labels in: ${line}`);
    out.set(seriesKey(labels), `${Number(m[3])} ${m[4] ?? ''}`);
  }
  return out;
}

/** Differences between two parsed expositions. */
export function diffExposition(
  actual: ReadonlyMap<string, string>,
  expected: ReadonlyMap<string, string>,
): string | undefined {
  return listDiff(actual, expected, (a, b) => a === b, String);
}

/** Decodes a Go/PromQL string literal's body (the text between the quotes). */
export function goUnquote(body: string): string {
  const simple: Record<string, string> = {
    a: '\x07',
    b: '\b',
    f: '\f',
    n: '\n',
    r: '\r',
    t: '\t',
    v: '\v',
    '\\': '\\',
    "'": "'",
    '"': '"',
  };
  return body.replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g,
    (all, e: string) => {
      const c = e[0] as string;
      if (c === 'x' || c === 'u' || c === 'U')
        return String.fromCodePoint(parseInt(e.slice(1), 16));
      if (/[0-7]/.test(c)) return String.fromCodePoint(parseInt(e, 8));
      return simple[c] ?? all;
    },
  );
}

/**
 * Namespaces a query names with an equality matcher on `namespace`, escapes decoded (the
 * corpus's `namedNamespaces` leaves `team\x2db` as written). Backtick strings have no escapes.
 */
export function namedNamespaces(query: string): string[] {
  const backtick = new Set(
    [...query.matchAll(/namespace"?\s*=\s*`([^`]*)`/g)].map((m) => m[1] ?? ''),
  );
  return [...new Set(namedRaw(query).map((v) => (backtick.has(v) ? v : goUnquote(v))))].sort();
}

/** The namespaces of `named` outside `scope` ('all' has none outside). */
export function outsideScope(named: readonly string[], scope: readonly string[] | 'all'): string[] {
  if (scope === 'all') return [];
  return named.filter((n) => !scope.includes(n));
}

/**
 * Which of `forbidden` occur in `body` as a whole token: not preceded or followed by a
 * character that may continue a name (letters, digits, `-`, `_`, `.`).
 */
export function leakedTokens(body: string, forbidden: Iterable<string>): string[] {
  const out: string[] = [];
  for (const f of forbidden) {
    const escaped = f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    if (new RegExp(`(?<![A-Za-z0-9_.-])${escaped}(?![A-Za-z0-9_.-])`).test(body)) out.push(f);
  }
  return out;
}

/**
 * 3.x annotations (warnings, infos) without their trailing query position `(1:6)`: positions
 * refer to the query text, and promgate sends a rewritten text.
 */
export function annotations(r: {
  warnings?: readonly string[];
  infos?: readonly string[];
}): string[] {
  return [...(r.warnings ?? []), ...(r.infos ?? [])]
    .map((a) => a.replace(/\s*\(\d+:\d+\)$/, ''))
    .sort();
}
