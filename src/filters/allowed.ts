/**
 * The predicate every response filter takes: may the caller see an object carrying these
 * labels? True only when the enforced label is present with one of the scope's values.
 *
 * @example
 *   const allowed = allowedBy('namespace', ['ns-1', 'ns-2']);
 *   allowed({ namespace: 'ns-1', pod: 'p' }); // true
 *   allowed({ pod: 'p' });                    // false: no label, no visibility
 */

/** Decides visibility from a label set. */
export type LabelPredicate = (labels: Readonly<Record<string, string>>) => boolean;

export function allowedBy(label: string, values: readonly string[]): LabelPredicate {
  // An empty value would make "label missing" and "label empty" look alike; scopes never hold one.
  const set = new Set(values.filter((v) => v !== ''));
  return (labels) => {
    // Own properties only: a label named like an Object.prototype member must not match.
    if (!Object.hasOwn(labels, label)) return false;
    const value = labels[label];
    return typeof value === 'string' && set.has(value);
  };
}
