/**
 * Shared types of the PromQL engine: the enforcement target, the policy, matchers and the one
 * error type every stage throws. Re-exported by `index.ts`; kept apart so that the engine's
 * modules can import them without an import cycle through the public API.
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
