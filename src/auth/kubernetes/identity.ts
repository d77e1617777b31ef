/**
 * Turns a TokenReview's `status.user` into promgate's {@link Identity}, and gives identities a
 * stable cache key for authorization decisions.
 *
 * ServiceAccounts are recognised by their username `system:serviceaccount:<namespace>:<name>`
 * (REFERENCE §4.1); everyone else (OIDC users via the API server, webhook users) is `user`.
 *
 * @example
 *   identityFromUser({ username: 'system:serviceaccount:team-a:grafana', groups: ['system:serviceaccounts'] });
 *   // → { name: 'system:serviceaccount:team-a:grafana', kind: 'serviceaccount',
 *   //     serviceAccount: { namespace: 'team-a', name: 'grafana' }, groups: [...] }
 */
import { createHash } from 'node:crypto';
import type { V1UserInfo } from '@kubernetes/client-node';
import type { Identity } from '../types.js';

const SA_PREFIX = 'system:serviceaccount:';
// DNS-1123 label (namespace) and subdomain (ServiceAccount name), as Kubernetes validates them.
const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const SA_NAME_RE = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Parses `system:serviceaccount:<ns>:<name>`; undefined for any other username. */
export function parseServiceAccount(
  username: string,
): { readonly namespace: string; readonly name: string } | undefined {
  if (!username.startsWith(SA_PREFIX)) return undefined;
  const parts = username.slice(SA_PREFIX.length).split(':');
  if (parts.length !== 2) return undefined;
  const [namespace = '', name = ''] = parts;
  if (!NAMESPACE_RE.test(namespace) || !SA_NAME_RE.test(name)) return undefined;
  return { namespace, name };
}

/** The identity of an authenticated TokenReview user; undefined if it has no username. */
export function identityFromUser(user: V1UserInfo | undefined): Identity | undefined {
  const username = user?.username;
  if (typeof username !== 'string' || username === '') return undefined;
  const groups = Object.freeze([...new Set(user?.groups ?? [])]);
  const extra: Record<string, readonly string[]> = {};
  for (const [k, v] of Object.entries(user?.extra ?? {})) {
    if (Array.isArray(v)) extra[k] = Object.freeze([...v]);
  }
  const sa = parseServiceAccount(username);
  return Object.freeze({
    name: username,
    kind: sa ? 'serviceaccount' : 'user',
    ...(user?.uid ? { uid: user.uid } : {}),
    groups,
    ...(Object.keys(extra).length > 0 ? { extra: Object.freeze(extra) } : {}),
    ...(sa ? { serviceAccount: Object.freeze(sa) } : {}),
  });
}

const keys = new WeakMap<Identity, string>();

/**
 * A stable key for authorization caches: everything a SubjectAccessReview depends on (user,
 * uid, groups, extra), canonicalised and hashed. Not a secret; memoised per identity object.
 */
export function identityKey(identity: Identity): string {
  const memo = keys.get(identity);
  if (memo !== undefined) return memo;
  const extra = Object.entries(identity.extra ?? {})
    .map(([k, v]) => [k, [...v].sort()] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = JSON.stringify([
    identity.name,
    identity.uid ?? '',
    [...identity.groups].sort(),
    extra,
  ]);
  const key = createHash('sha256').update(canonical).digest('base64url');
  keys.set(identity, key);
  return key;
}
