/**
 * Narrowing: a caller may ask for part of its scope with `namespace=<ns>` parameters (query
 * string or form body, repeatable) or an `X-Namespace: a,b` header (OpenShift's convention).
 * Every value must lie inside the scope (403 naming it otherwise); a cluster-wide caller
 * narrowed to some namespaces is then enforced like any other caller.
 *
 * @example
 *   narrow({ kind: 'values', values: ['a', 'b'] }, ['a'], undefined); // { kind: 'values', values: ['a'] }
 *   narrow({ kind: 'values', values: ['a'] }, ['c'], undefined);      // throws 403 naming "c"
 */
import { badData, forbidden } from '../errors.js';
import { scopeOf, type Scope } from '../scope.js';

/** The parameter and header callers narrow with. */
export const NARROW_PARAM = 'namespace';
export const NARROW_HEADER = 'x-namespace';

export function requestedValues(
  params: readonly string[],
  header: string | string[] | undefined,
): string[] {
  const values: string[] = [];
  for (const v of params) {
    if (v === '')
      throw badData(`parameter "${NARROW_PARAM}" is empty; name a namespace or leave it out`);
    values.push(v);
  }
  for (const h of header === undefined ? [] : Array.isArray(header) ? header : [header]) {
    const parts = h.split(',').map((s) => s.trim());
    if (parts.every((p) => p === '')) {
      throw badData(
        'header X-Namespace is empty; name namespaces (comma-separated) or leave it out',
      );
    }
    for (const p of parts) if (p !== '') values.push(p);
  }
  return values;
}

/** The scope after narrowing to `requested` (unchanged when nothing is requested). */
export function narrow(scope: Scope, requested: readonly string[], label: string): Scope {
  if (requested.length === 0) return scope;
  if (scope.kind === 'values') {
    const allowed = new Set(scope.values);
    const outside = [...new Set(requested.filter((v) => !allowed.has(v)))];
    if (outside.length > 0) {
      throw forbidden(
        `${label} ${outside.map((v) => JSON.stringify(v)).join(', ')} ${outside.length === 1 ? 'is' : 'are'} not in your scope`,
      );
    }
  }
  return scopeOf(requested);
}
