/**
 * The PromQL enforcement engine's public API. (Stub: the engine is being written; the
 * signatures below are the contract the proxy codes against.)
 */

/** The enforced label and the values a caller may see (sorted, unique, non-empty). */
export interface EnforceTarget {
  readonly label: string;
  readonly values: readonly string[];
}

export interface PromQLPolicy {
  /** Maximum query length in bytes (UTF-8). */
  readonly maxQueryBytes: number;
  /** Maximum nesting depth of the AST. */
  readonly maxDepth: number;
  /** Maximum number of vector selectors in one query. */
  readonly maxSelectors: number;
  /** Maximum range of a matrix selector or subquery, in milliseconds (0 = unlimited). */
  readonly maxRangeMs: number;
  /** Function names a query may call. */
  readonly allowedFunctions: ReadonlySet<string>;
  /** Reject an equality matcher on the enforced label that names a value outside the scope. */
  readonly strictScope: boolean;
}

export type PromQLErrorReason =
  'parse' | 'limit' | 'function' | 'out_of_scope' | 'empty_selector' | 'not_selector';

export class PromQLError extends Error {
  constructor(
    readonly reason: PromQLErrorReason,
    message: string,
    /** 0-based character offset into the query, where known. */
    readonly position?: number,
  ) {
    super(message);
    this.name = 'PromQLError';
  }
}

export interface LabelMatcher {
  readonly name: string;
  readonly type: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

/** Parses, validates and rewrites `query` so that every vector selector carries the enforced matcher. */
export function enforceQuery(
  _query: string,
  _target: EnforceTarget,
  _policy: PromQLPolicy,
): string {
  throw new PromQLError('parse', 'PromQL engine not implemented yet');
}

/** Same, for a `match[]` series selector (only a vector selector is accepted). */
export function enforceSelector(
  _selector: string,
  _target: EnforceTarget,
  _policy: PromQLPolicy,
): string {
  throw new PromQLError('parse', 'PromQL engine not implemented yet');
}

/** Parses and validates (limits, functions) without rewriting; returns the canonical print. */
export function checkQuery(_query: string, _policy: PromQLPolicy): string {
  throw new PromQLError('parse', 'PromQL engine not implemented yet');
}

/** Enforces a matcher list (remote read): appends the enforced matcher, checks scope and emptiness. */
export function enforceMatchers(
  _matchers: readonly LabelMatcher[],
  _target: EnforceTarget,
  _policy: Pick<PromQLPolicy, 'strictScope'>,
): LabelMatcher[] {
  throw new PromQLError('parse', 'PromQL engine not implemented yet');
}
