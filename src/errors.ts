/**
 * Errors that reach a caller, in Prometheus's JSON error shape:
 * `{"status":"error","errorType":"bad_data","error":"…"}`.
 *
 * Every stage throws {@link ApiError}; the server turns it into a response. Messages must be
 * actionable and must never contain a token.
 */

/** Prometheus's own error types, plus the ones an auth proxy needs. */
export type ErrorType =
  | 'bad_data'
  | 'execution'
  | 'timeout'
  | 'canceled'
  | 'internal'
  | 'not_found'
  | 'unavailable'
  | 'unauthorized'
  | 'forbidden'
  | 'too_many_requests';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: ErrorType,
    message: string,
    /** Extra response headers, e.g. `WWW-Authenticate` or `Retry-After`. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badData = (message: string): ApiError => new ApiError(400, 'bad_data', message);
export const forbidden = (message: string): ApiError => new ApiError(403, 'forbidden', message);
export const notFound = (message = 'not found'): ApiError =>
  new ApiError(404, 'not_found', message);
export const unauthorized = (message: string): ApiError =>
  new ApiError(401, 'unauthorized', message, {
    'www-authenticate': 'Bearer realm="promgate"',
  });
export const unavailable = (message: string): ApiError => new ApiError(503, 'unavailable', message);

/** The JSON body Prometheus uses for errors. */
export function errorBody(errorType: ErrorType, message: string): string {
  return JSON.stringify({ status: 'error', errorType, error: message });
}
