/**
 * The caller's token, from `Authorization: Bearer <token>` or from HTTP Basic auth with the
 * token as the password (promtool 2.42 and many scrapers can only send Basic). The header's
 * content never appears in an error message.
 *
 * @example
 *   readToken('Bearer abc');                          // { scheme: 'bearer', token: 'abc' }
 *   readToken('Basic ' + btoa('promtool:abc'));       // { scheme: 'basic', token: 'abc' }
 *   readToken(undefined);                             // throws ApiError 401
 */
import { unauthorized } from '../errors.js';

export interface Credentials {
  readonly scheme: 'bearer' | 'basic';
  readonly token: string;
}

/** Visible ASCII: RFC 6750 tokens, JWTs and any sane static token. */
const TOKEN = /^[\x21-\x7e]+$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export const MISSING_CREDENTIALS =
  'missing credentials: send "Authorization: Bearer <token>", or HTTP Basic auth with the token as the password';

export function readToken(header: string | undefined): Credentials {
  if (header === undefined || header.trim() === '') throw unauthorized(MISSING_CREDENTIALS);
  const match = /^([A-Za-z]+) +(.*)$/.exec(header.trim());
  const scheme = match?.[1]?.toLowerCase();
  const rest = match?.[2]?.trim() ?? '';
  if (scheme === 'bearer') {
    if (TOKEN.test(rest)) return { scheme: 'bearer', token: rest };
    throw unauthorized('malformed Authorization header: expected "Bearer <token>" with no spaces');
  }
  if (scheme === 'basic') {
    const token = basicPassword(rest);
    if (token !== undefined) return { scheme: 'basic', token };
    throw unauthorized(
      'malformed Basic credentials: expected base64("<any user>:<token>") with a non-empty token',
    );
  }
  throw unauthorized(
    'unsupported Authorization scheme: use "Bearer <token>" or Basic auth with the token as the password',
  );
}

function basicPassword(encoded: string): string | undefined {
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0) return undefined;
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(encoded, 'base64'));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const password = decoded.slice(colon + 1);
  return TOKEN.test(password) ? password : undefined;
}
