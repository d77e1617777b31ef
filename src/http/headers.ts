/**
 * The few caller headers that reach the upstream (DESIGN.md invariant 2). Everything else —
 * `Authorization`, cookies, `X-Scope-OrgID`, `X-HTTP-Method-Override`, `Forwarded`, … — is
 * dropped; promgate's own upstream headers are added by `upstream.ts`.
 *
 * @example
 *   forwardedHeaders(request.headers, ['accept-encoding']); // { 'accept-encoding': 'gzip', ... }
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Passed on every route. */
export const COMMON_HEADERS = ['accept', 'user-agent', 'traceparent', 'tracestate'] as const;

/** Copies the allow-listed headers (`COMMON_HEADERS` plus `extra`) that the caller sent. */
export function forwardedHeaders(
  headers: IncomingHttpHeaders,
  extra: readonly string[] = [],
): Record<string, string> {
  const out: Record<string, string> = {};
  copy(headers, COMMON_HEADERS, out);
  copy(headers, extra, out);
  return out;
}

function copy(headers: IncomingHttpHeaders, names: readonly string[], out: Record<string, string>) {
  for (const name of names) {
    const value = headers[name];
    if (typeof value === 'string') out[name] = value;
    else if (Array.isArray(value)) out[name] = value.join(', ');
  }
}
