/**
 * The interfaces between authentication (token → Identity) and authorization
 * (Identity → Scope). Static tokens and Kubernetes both implement them.
 */
import type { Scope } from '../scope.js';

export interface Identity {
  /** Shown in logs and metrics: a static token's `name` or a Kubernetes username. Never a secret. */
  readonly name: string;
  readonly kind: 'static' | 'serviceaccount' | 'user';
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
  /** Set for `system:serviceaccount:<namespace>:<name>` identities. */
  readonly serviceAccount?: { readonly namespace: string; readonly name: string };
}

export interface Authenticator {
  readonly mode: 'static' | 'kubernetes';
  /**
   * Resolves a bearer token to its identity; `null` when the token is not valid (401).
   * Throws {@link ApiError} 503 when the backend cannot answer (never a denial).
   */
  authenticate(token: string, signal?: AbortSignal): Promise<Identity | null>;
}

export interface ScopeResolver {
  /**
   * The scope of an authenticated identity. Throws {@link ApiError} 503 when the answer is
   * unknown (backend down, informer not synced): never an empty scope in that case.
   */
  resolve(identity: Identity, signal?: AbortSignal): Promise<Scope>;
}

/** An auth backend: both halves, plus readiness and shutdown. */
export interface AccessBackend {
  readonly authenticator: Authenticator;
  readonly scopes: ScopeResolver;
  /** False until the backend can answer (e.g. the namespace informer has synced). */
  ready(): boolean;
  close(): Promise<void>;
}
