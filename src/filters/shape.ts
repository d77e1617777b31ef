/**
 * Shape checks for the upstream JSON that the response filters rewrite.
 *
 * The filters fail closed: an answer whose shape they do not recognise is never passed on
 * unfiltered. Every check throws {@link UpstreamShapeError} (HTTP 502) naming the JSON path
 * and the expected type — never the value found, which may belong to another tenant.
 *
 * @example
 *   const data = objectAt(body, 'body').data; // throws if body is not a JSON object
 */
import { ApiError } from '../errors.js';

/** The upstream answered 2xx with JSON promgate cannot filter safely: answered as 502. */
export class UpstreamShapeError extends ApiError {
  constructor(endpoint: string, path: string, expected: string) {
    super(
      502,
      'internal',
      `upstream answered ${endpoint} with an unexpected shape: ${path} is not ${expected}; ` +
        'promgate does not pass on answers it cannot filter',
    );
    this.name = 'UpstreamShapeError';
  }
}

export type JsonObject = Record<string, unknown>;
export type Labels = Record<string, string>;

/** Reports shape errors for one endpoint. */
export class ShapeChecker {
  constructor(readonly endpoint: string) {}

  fail(path: string, expected: string): never {
    throw new UpstreamShapeError(this.endpoint, path, expected);
  }

  object(value: unknown, path: string): JsonObject {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, 'an object');
    }
    return value as JsonObject;
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, 'an array');
    return value;
  }

  /** An array, or `null`/absent (Go marshals a nil slice as `null`), read as empty. */
  optionalArray(value: unknown, path: string): unknown[] | null {
    if (value === undefined || value === null) return null;
    return this.array(value, path);
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string') this.fail(path, 'a string');
    return value;
  }

  /** A label set: an object of string values. `null`/absent (no labels) reads as `{}`. */
  labels(value: unknown, path: string, optional = false): Labels {
    if (optional && (value === undefined || value === null)) return {};
    const obj = this.object(value, path);
    for (const key of Object.keys(obj)) {
      if (typeof obj[key] !== 'string') this.fail(`${path}[${JSON.stringify(key)}]`, 'a string');
    }
    return obj as Labels;
  }

  /**
   * The `{status, data}` envelope of a Prometheus API answer. A success answer yields its
   * `data`; an error answer yields a rebuilt error body (status, errorType, error only),
   * which holds no series data and is passed on as is.
   */
  envelope(body: unknown): { data: unknown } | { error: JsonObject } {
    const obj = this.object(body, 'body');
    if (obj.status === 'success') return { data: obj.data };
    if (obj.status === 'error') {
      return {
        error: {
          status: 'error',
          errorType: this.string(obj.errorType, 'body.errorType'),
          error: this.string(obj.error, 'body.error'),
        },
      };
    }
    return this.fail('body.status', '"success" or "error"');
  }
}

/**
 * Rebuilds a success answer around filtered `data`. Top-level `warnings`/`infos` are dropped:
 * these endpoints do not produce any in Prometheus, and a proxy's (e.g. Thanos's partial
 * response) could describe other tenants' stores or series.
 */
export function success(data: unknown): JsonObject {
  return { status: 'success', data };
}
