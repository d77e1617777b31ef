/**
 * A caller's scope: the values of the enforced label (by default `namespace`) whose series it
 * may see. One decision object, used both to authorize and to enforce.
 */
export type Scope =
  /** Cluster-wide: no rewriting. */
  | { readonly kind: 'all' }
  /** Sorted, unique, non-empty strings; an empty list means "no access" (403). */
  | { readonly kind: 'values'; readonly values: readonly string[] };

export const ALL: Scope = Object.freeze({ kind: 'all' });

/** Builds a values scope: sorted, de-duplicated, empty strings dropped (they would widen it). */
export function scopeOf(values: Iterable<string>): Scope {
  const set = new Set<string>();
  for (const v of values) if (v !== '') set.add(v);
  return Object.freeze({ kind: 'values', values: Object.freeze([...set].sort()) });
}
