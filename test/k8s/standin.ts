/**
 * A Kubernetes API server stand-in for tests: an HTTPS server on 127.0.0.1 that answers the
 * handful of endpoints promgate uses, in the real wire format (REFERENCE.md §4):
 *
 * - `POST /apis/authentication.k8s.io/v1/tokenreviews` — 201 echoing the TokenReview with its
 *   `status` (a bad token is still 201, `authenticated` absent and `status.error` set); audiences
 *   per the API server's rules (bound tokens: `aud` ∩ requested; legacy and user tokens are
 *   audience-agnostic: requested ∩ the API server's audiences); 400 for an empty token.
 * - `POST /apis/authorization.k8s.io/v1/subjectaccessreviews` — 201 with `status.allowed` from an
 *   in-memory RBAC table ({@link RbacTable}); 422 `Invalid` for no user and no groups, or for
 *   neither / both attribute kinds.
 * - `GET /api/v1/namespaces` — `NamespaceList` with `limit` / `continue` (410 `Expired` for a
 *   stale continue token) and `resourceVersion`; `?watch=true|1` streams NDJSON events (ADDED,
 *   MODIFIED, DELETED, BOOKMARK when `allowWatchBookmarks=true`, `ERROR` 410 `Expired` for a
 *   too-old resourceVersion — or HTTP 410 with `watchGone: 'http'`), honouring `timeoutSeconds`.
 * - `GET /.well-known/openid-configuration` and `GET /openid/v1/jwks`.
 *
 * It issues ServiceAccount JWTs signed like the API server's (jose, RS256 or ES256, bound-token
 * claims of REFERENCE §4.1, or legacy Secret-token claims), opaque tokens for non-ServiceAccount
 * users, and counts every call per endpoint. Faults can be injected per endpoint: latency, any
 * HTTP status (as a `Status` object; 429 carries `Retry-After`), dropped connections, and
 * "down" (every connection reset). Every endpoint requires promgate's own bearer credential.
 *
 * The server speaks HTTPS with a throw-away self-signed certificate (see `tls.ts`) that the
 * generated kubeconfig trusts via `certificate-authority-data`, so clients verify TLS for real.
 *
 * @example
 *   const kube = await startKubeStandin({
 *     namespaces: [{ name: 'team-a', labels: { 'field.cattle.io/projectId': 'p-1' } }, 'team-b'],
 *   });
 *   try {
 *     const token = await kube.issueToken('team-a/grafana', { audiences: ['promgate'] });
 *     kube.grant({ user: 'system:serviceaccount:team-a:grafana', namespace: 'team-b', verbs: ['get'], resources: ['pods'] });
 *     // … start promgate with `--kubeconfig ${kube.kubeconfigPath}` and call it with `token` …
 *     assert.equal(kube.counters.tokenreviews, 1);
 *     kube.fail('tokenreviews', { status: 503, times: 2 });
 *     kube.setDown(true); // every connection is reset
 *   } finally {
 *     await kube.stop();
 *   }
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jose from 'jose';
import { stringify as toYaml } from 'yaml';
import { RbacTable, type Grant } from './rbac-table.js';
import { testTlsIdentity } from './tls.js';

export type { Grant } from './rbac-table.js';

/** Endpoint families the stand-in serves, as used by counters and faults. */
export type Endpoint =
  'tokenreviews' | 'subjectaccessreviews' | 'namespaces' | 'watch' | 'discovery' | 'jwks';

export const ENDPOINTS: readonly Endpoint[] = [
  'tokenreviews',
  'subjectaccessreviews',
  'namespaces',
  'watch',
  'discovery',
  'jwks',
];

/** An injected fault. Several fields combine: latency first, then drop or status. */
export interface Fault {
  /** Answer with this HTTP status and a `Status` object (e.g. 500, 503, 429, 403, 410). */
  readonly status?: number;
  /** Delay before answering (or before the fault). */
  readonly latencyMs?: number;
  /** Destroy the connection instead of answering. */
  readonly drop?: boolean;
  /** Send 200 and headers, then nothing, ever (a hung API server or a silently dead watch). */
  readonly hang?: boolean;
  /** Only the next N requests; default: until cleared with `fail(endpoint, null)`. */
  readonly times?: number;
  /** Let this many requests pass unharmed first (e.g. fail only a list's second page). */
  readonly skip?: number;
  /** `Retry-After` seconds on 429 / 503 (default 1 on 429). */
  readonly retryAfterSeconds?: number;
}

export type NamespaceInput =
  | string
  | {
      readonly name: string;
      readonly labels?: Readonly<Record<string, string>>;
      readonly annotations?: Readonly<Record<string, string>>;
    };

export interface StandinOptions {
  /** Token issuer, as in discovery. Default `https://kubernetes.default.svc.cluster.local`. */
  readonly issuer?: string;
  /** The API server's own audiences (`--api-audiences`). Default `[issuer]`. */
  readonly apiAudiences?: readonly string[];
  readonly namespaces?: readonly NamespaceInput[];
  /** promgate's own bearer credential written to the kubeconfig. Default: random. */
  readonly credential?: string;
  /** Override discovery's `jwks_uri` (e.g. an external URL). Default `<url>/openid/v1/jwks`. */
  readonly jwksUri?: string;
  /** Signing algorithm of ServiceAccount tokens. Default RS256. */
  readonly algorithm?: 'RS256' | 'ES256';
  /** How a too-old watch resourceVersion is reported: an ERROR event (default) or HTTP 410. */
  readonly watchGone?: 'event' | 'http';
}

export interface TokenOptions {
  /** `aud` claim; default the API server's audiences. Ignored for legacy tokens. */
  readonly audiences?: readonly string[];
  /** Lifetime from now; negative = already expired. Default 3600. */
  readonly expiresInSeconds?: number;
  /** A legacy Secret-based token: `iss: kubernetes/serviceaccount`, no `exp`, no `aud`. */
  readonly legacy?: boolean;
  /** Bind the token to a pod of this name (adds pod claims and `extra`). */
  readonly pod?: string;
  /** `foreign`: signed with a key that is not in the JWKS but under the cluster's `kid`. */
  readonly signer?: 'cluster' | 'foreign';
  /** Override the `iss` claim (a token from another cluster). */
  readonly issuer?: string;
}

/** A non-ServiceAccount user known to TokenReview (e.g. OIDC via the API server). */
export interface UserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export type Counters = Record<Endpoint, number> & {
  /** Every request that reached the server, including 401s and unknown paths. */
  requests: number;
  /** Requests refused for a missing or wrong promgate credential. */
  unauthorized: number;
  /** TCP connections accepted (to check connection reuse). */
  connections: number;
};

export interface KubeStandin {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** A kubeconfig file pointing at the stand-in with promgate's credential and the test CA. */
  readonly kubeconfigPath: string;
  readonly caPem: string;
  readonly credential: string;
  readonly issuer: string;
  readonly apiAudiences: readonly string[];
  /** Calls per endpoint since start (or {@link resetCounters}). */
  readonly counters: Readonly<Counters>;
  /** Highest number of concurrent in-flight requests seen per endpoint. */
  readonly maxInFlight: Readonly<Record<Endpoint, number>>;
  /** `spec.audiences` of every TokenReview received, in order. */
  readonly reviewedAudiences: readonly (readonly string[])[];
  /** Specs of every SubjectAccessReview received, in order. */
  readonly accessReviewSpecs: readonly SarSpec[];
  resetCounters(): void;
  /** Issues a ServiceAccount token for `namespace/name`; the ServiceAccount is created if new. */
  issueToken(
    sa: string | { readonly namespace: string; readonly name: string },
    options?: TokenOptions,
  ): Promise<string>;
  /** Registers an opaque token for a non-ServiceAccount user; returns the token. */
  addUserToken(user: UserInfo): string;
  /** Revokes one token (TokenReview rejects it from now on). */
  revokeToken(token: string): void;
  /** Deletes a ServiceAccount: its bound and legacy tokens stop authenticating. */
  deleteServiceAccount(namespace: string, name: string): void;
  /** Adds a new signing key (new `kid`); the old key stays in the JWKS. */
  rotateSigningKey(): Promise<void>;
  /** Replaces the namespace set: emits ADDED / MODIFIED / DELETED for the differences. */
  setNamespaces(namespaces: readonly NamespaceInput[]): void;
  upsertNamespace(namespace: NamespaceInput): void;
  /** Deletes a namespace: MODIFIED (phase Terminating) then DELETED, like the API server. */
  deleteNamespace(name: string): void;
  /** Current namespace names, sorted. */
  namespaceNames(): string[];
  /** Adds an RBAC grant (RoleBinding with `namespace`, else ClusterRoleBinding); returns its revoker. */
  grant(grant: Grant): () => void;
  clearGrants(): void;
  /** Injects a fault on one endpoint (or all); `null` clears it. */
  fail(endpoint: Endpoint | 'all', fault: Fault | null): void;
  /** While down, every connection (new and open) is reset. */
  setDown(down: boolean): void;
  /** Sends a BOOKMARK to every watch that asked for bookmarks. */
  bookmark(): void;
  /** Forgets all event history: watches resuming from an older RV get 410; continue tokens expire. */
  compact(): void;
  /** Sends `ERROR` 410 Expired on every open watch and ends it (etcd compaction). */
  expireWatches(): void;
  /** Resets the connection of every open watch (network failure mid-stream). */
  dropWatches(): void;
  /** Ends every open watch cleanly (server-side watch timeout). */
  endWatches(): void;
  /** Number of open watch streams. */
  openWatches(): number;
  stop(): Promise<void>;
}

export interface SarSpec {
  readonly user?: string;
  readonly groups?: readonly string[];
  readonly uid?: string;
  readonly extra?: Readonly<Record<string, readonly string[]>>;
  readonly resourceAttributes?: {
    readonly namespace?: string;
    readonly verb?: string;
    readonly group?: string;
    readonly resource?: string;
  };
  readonly nonResourceAttributes?: { readonly path?: string; readonly verb?: string };
}

const LEGACY_ISSUER = 'kubernetes/serviceaccount';
const MAX_BODY = 3 * 1024 * 1024;
const HISTORY_LIMIT = 10_000;

interface NamespaceObject {
  kind: 'Namespace';
  apiVersion: 'v1';
  metadata: {
    name: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
  };
  spec: { finalizers: string[] };
  status: { phase: 'Active' | 'Terminating' };
}

interface WatchEvent {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: NamespaceObject;
}

interface OpenWatch {
  readonly res: ServerResponse;
  readonly bookmarks: boolean;
  timer?: NodeJS.Timeout;
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: jose.CryptoKey;
  readonly publicJwk: jose.JWK;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function statusObject(code: number, message: string): Json {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: REASONS[code] ?? 'Unknown',
    code,
  };
}

async function generateSigningKey(alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg);
  const jwk = await jose.exportJWK(publicKey);
  const kid = randomBytes(16).toString('base64url');
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg, use: 'sig' } };
}

const sharedKeys = new Map<string, Promise<SigningKey>>();
function sharedKey(name: string, alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  let key = sharedKeys.get(name);
  if (!key) sharedKeys.set(name, (key = generateSigningKey(alg)));
  return key;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const clone = <T>(v: T): T => structuredClone(v);

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}
function asStringArray(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

/**
 * Starts a stand-in on a free loopback port. Always `stop()` it (e.g. in `after`).
 * See the module comment for an example.
 */
export async function startKubeStandin(options: StandinOptions = {}): Promise<KubeStandin> {
  const tls = testTlsIdentity();
  const issuer = options.issuer ?? 'https://kubernetes.default.svc.cluster.local';
  const apiAudiences = [...(options.apiAudiences ?? [issuer])];
  const credential = options.credential ?? randomBytes(24).toString('base64url');
  const alg = options.algorithm ?? 'RS256';
  const watchGone = options.watchGone ?? 'event';

  // --- signing keys -------------------------------------------------------------------------
  const keys: SigningKey[] = [];
  const newKey = (): Promise<SigningKey> => generateSigningKey(alg);
  // RSA key generation takes up to a second: the first key and the foreign key are made once
  // per process and shared by all stand-ins (each stand-in is its own cluster all the same).
  keys.push(await sharedKey(`${alg}/cluster`, alg));
  let foreignKey: SigningKey | undefined;
  let localJwks = jose.createLocalJWKSet({ keys: keys.map((k) => k.publicJwk) });

  // --- identities ---------------------------------------------------------------------------
  const serviceAccounts = new Map<string, string>(); // "ns/name" → uid
  const userTokens = new Map<string, UserInfo>(); // sha256(token) → user
  const revoked = new Set<string>(); // sha256(token)

  // --- namespaces ---------------------------------------------------------------------------
  let rv = 1000;
  let compactedRv = rv; // events with rv <= compactedRv are gone
  const namespaces = new Map<string, NamespaceObject>();
  const history: WatchEvent[] = [];
  const snapshots = new Map<number, NamespaceObject[]>(); // list snapshots for continue tokens
  const watches = new Set<OpenWatch>();

  // --- observation and faults ---------------------------------------------------------------
  const counters = { requests: 0, unauthorized: 0, connections: 0 } as Counters;
  const inFlight = {} as Record<Endpoint, number>;
  const maxInFlight = {} as Record<Endpoint, number>;
  for (const e of ENDPOINTS) {
    counters[e] = 0;
    inFlight[e] = 0;
    maxInFlight[e] = 0;
  }
  const reviewedAudiences: string[][] = [];
  const accessReviewSpecs: SarSpec[] = [];
  const faults = new Map<Endpoint | 'all', { fault: Fault; left: number; skip: number }>();
  const rbac = new RbacTable();
  let down = false;
  const sockets = new Set<Socket>();

  function emit(type: WatchEvent['type'], object: NamespaceObject): void {
    const event: WatchEvent = { rv: Number(object.metadata.resourceVersion), type, object };
    history.push(event);
    if (history.length > HISTORY_LIMIT) {
      const dropped = history.splice(0, history.length - HISTORY_LIMIT);
      compactedRv = dropped[dropped.length - 1]?.rv ?? compactedRv;
    }
    for (const w of watches) writeEvent(w.res, { type, object: clone(object) as unknown as Json });
  }

  function normalise(input: NamespaceInput): {
    name: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
  } {
    const spec = typeof input === 'string' ? { name: input } : input;
    return {
      name: spec.name,
      // Every real namespace carries this label (since 1.21).
      labels: { ...(spec.labels ?? {}), 'kubernetes.io/metadata.name': spec.name },
      ...(spec.annotations ? { annotations: { ...spec.annotations } } : {}),
    };
  }

  function upsertNamespace(input: NamespaceInput): void {
    const spec = normalise(input);
    const existing = namespaces.get(spec.name);
    if (existing) {
      const same =
        JSON.stringify(existing.metadata.labels) === JSON.stringify(spec.labels) &&
        JSON.stringify(existing.metadata.annotations) === JSON.stringify(spec.annotations);
      if (same) return;
      const updated = clone(existing);
      updated.metadata.labels = spec.labels;
      if (spec.annotations) updated.metadata.annotations = spec.annotations;
      else delete updated.metadata.annotations;
      updated.metadata.resourceVersion = String(++rv);
      namespaces.set(spec.name, updated);
      emit('MODIFIED', updated);
      return;
    }
    const created: NamespaceObject = {
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: {
        name: spec.name,
        uid: randomUUID(),
        resourceVersion: String(++rv),
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        labels: spec.labels,
        ...(spec.annotations ? { annotations: spec.annotations } : {}),
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    };
    namespaces.set(spec.name, created);
    emit('ADDED', created);
  }

  function deleteNamespace(name: string): void {
    const existing = namespaces.get(name);
    if (!existing) return;
    const terminating = clone(existing);
    terminating.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    terminating.status.phase = 'Terminating';
    terminating.metadata.resourceVersion = String(++rv);
    emit('MODIFIED', terminating);
    const gone = clone(terminating);
    gone.spec.finalizers = [];
    gone.metadata.resourceVersion = String(++rv);
    namespaces.delete(name);
    emit('DELETED', gone);
  }

  for (const ns of options.namespaces ?? []) upsertNamespace(ns);

  // --- HTTP plumbing ------------------------------------------------------------------------
  function sendJson(res: ServerResponse, code: number, body: Json, headers = {}): void {
    if (res.writableEnded || res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(code, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  function sendStatus(res: ServerResponse, code: number, message: string, headers = {}): void {
    sendJson(res, code, statusObject(code, message), headers);
  }

  function writeEvent(res: ServerResponse, event: Json): void {
    if (!res.writableEnded && !res.destroyed) res.write(JSON.stringify(event) + '\n');
  }

  async function readJson(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) throw new Error('request body too large');
      chunks.push(chunk);
    }
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  }

  function classify(url: URL): Endpoint | undefined {
    const path = url.pathname;
    if (path === '/apis/authentication.k8s.io/v1/tokenreviews') return 'tokenreviews';
    if (path === '/apis/authorization.k8s.io/v1/subjectaccessreviews')
      return 'subjectaccessreviews';
    if (path === '/api/v1/namespaces') {
      const w = url.searchParams.get('watch');
      return w === 'true' || w === '1' ? 'watch' : 'namespaces';
    }
    if (path === '/.well-known/openid-configuration') return 'discovery';
    if (path === '/openid/v1/jwks') return 'jwks';
    return undefined;
  }

  const expectedMethod: Record<Endpoint, string> = {
    tokenreviews: 'POST',
    subjectaccessreviews: 'POST',
    namespaces: 'GET',
    watch: 'GET',
    discovery: 'GET',
    jwks: 'GET',
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    counters.requests++;
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const endpoint = classify(url);
    if (endpoint) counters[endpoint]++;
    if (req.headers.authorization !== `Bearer ${credential}`) {
      counters.unauthorized++;
      sendStatus(res, 401, 'Unauthorized');
      return;
    }
    if (!endpoint) {
      sendStatus(res, 404, 'the server could not find the requested resource');
      return;
    }
    if (req.method !== expectedMethod[endpoint]) {
      sendStatus(res, 405, `the server does not allow this method on the requested resource`);
      return;
    }
    inFlight[endpoint]++;
    maxInFlight[endpoint] = Math.max(maxInFlight[endpoint], inFlight[endpoint]);
    try {
      let slot = faults.get(endpoint) ?? faults.get('all');
      if (slot && slot.skip > 0) {
        slot.skip--;
        slot = undefined;
      }
      if (slot) {
        if (--slot.left <= 0) {
          for (const [k, v] of faults) if (v === slot) faults.delete(k);
        }
        const { fault } = slot;
        if (fault.latencyMs) await sleep(fault.latencyMs);
        if (fault.drop) {
          req.socket.destroy();
          return;
        }
        if (fault.hang) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.flushHeaders();
          return; // the connection is destroyed by stop()
        }
        if (fault.status !== undefined) {
          const retry = fault.retryAfterSeconds ?? (fault.status === 429 ? 1 : undefined);
          sendStatus(
            res,
            fault.status,
            fault.status === 429
              ? 'Too many requests, please try again later.'
              : `injected fault (${fault.status})`,
            retry !== undefined ? { 'retry-after': String(retry) } : {},
          );
          return;
        }
      }
      switch (endpoint) {
        case 'tokenreviews':
          return await tokenReview(req, res);
        case 'subjectaccessreviews':
          return await subjectAccessReview(req, res);
        case 'namespaces':
          return listNamespaces(url, res);
        case 'watch':
          return watchNamespaces(url, req, res);
        case 'discovery':
          return sendJson(res, 200, {
            issuer,
            jwks_uri: options.jwksUri ?? `${baseUrl}/openid/v1/jwks`,
            response_types_supported: ['id_token'],
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: [alg],
          });
        case 'jwks':
          return sendJson(
            res,
            200,
            { keys: keys.map((k) => k.publicJwk) as unknown as Json },
            { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=3600' },
          );
      }
    } finally {
      inFlight[endpoint]--;
    }
  }

  // --- TokenReview --------------------------------------------------------------------------
  async function tokenReview(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: Record<string, unknown> | undefined;
    try {
      body = asRecord(await readJson(req));
    } catch {
      body = undefined;
    }
    if (!body || body.kind !== 'TokenReview' || body.apiVersion !== 'authentication.k8s.io/v1') {
      sendStatus(res, 400, 'the body of the request was in an unknown format');
      return;
    }
    const spec = asRecord(body.spec) ?? {};
    const token = typeof spec.token === 'string' ? spec.token : '';
    const requested = asStringArray(spec.audiences) ?? [];
    reviewedAudiences.push([...requested]);
    if (token === '') {
      sendStatus(res, 400, 'token is required for TokenReview in authentication');
      return;
    }
    const target = requested.length > 0 ? requested : apiAudiences;
    const status = await authenticate(token, target);
    sendJson(res, 201, {
      kind: 'TokenReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: null },
      // The real API server echoes the spec, token included.
      spec: { token, ...(requested.length > 0 ? { audiences: requested } : {}) },
      status,
    });
  }

  async function authenticate(token: string, target: readonly string[]): Promise<Json> {
    const fail = (error: string): Json => ({ user: {}, error });
    const intersect = (a: readonly string[], b: readonly string[]): string[] =>
      a.filter((x) => b.includes(x));
    if (revoked.has(sha256(token))) return fail('[invalid bearer token, token has been revoked]');

    const user = userTokens.get(sha256(token));
    if (user) {
      // Audience-agnostic authenticator: only for the API server's own audiences.
      const auds = intersect(apiAudiences, target);
      if (auds.length === 0) return { user: {} };
      return {
        authenticated: true,
        user: {
          username: user.username,
          ...(user.uid ? { uid: user.uid } : {}),
          groups: [...(user.groups ?? []), 'system:authenticated'],
          ...(user.extra ? { extra: user.extra as Json } : {}),
        },
        audiences: auds,
      };
    }

    let payload: jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, localJwks, {
        issuer: [issuer, LEGACY_ISSUER],
        algorithms: [alg],
      }));
    } catch (err) {
      if (err instanceof jose.errors.JWTExpired) {
        return fail('[invalid bearer token, service account token has expired]');
      }
      const code = err instanceof jose.errors.JOSEError ? err.code : 'ERR_INVALID';
      return fail(`[invalid bearer token, ${code}]`);
    }

    const legacy = payload.iss === LEGACY_ISSUER;
    let namespace: string | undefined;
    let name: string | undefined;
    let saUid: string | undefined;
    let auds: string[];
    const extra: Record<string, string[]> = {};
    if (legacy) {
      namespace = payload['kubernetes.io/serviceaccount/namespace'] as string | undefined;
      name = payload['kubernetes.io/serviceaccount/service-account.name'] as string | undefined;
      saUid = payload['kubernetes.io/serviceaccount/service-account.uid'] as string | undefined;
      auds = intersect(apiAudiences, target);
      if (auds.length === 0) return { user: {} };
    } else {
      const tokenAud =
        typeof payload.aud === 'string' ? [payload.aud] : (asStringArray(payload.aud) ?? []);
      auds = intersect(target, tokenAud);
      if (auds.length === 0) {
        return fail(
          `[invalid bearer token, token audiences ${JSON.stringify(tokenAud)} is invalid for the target audiences ${JSON.stringify(target)}]`,
        );
      }
      const k = asRecord(payload['kubernetes.io']) ?? {};
      namespace = typeof k.namespace === 'string' ? k.namespace : undefined;
      const sa = asRecord(k.serviceaccount) ?? {};
      name = typeof sa.name === 'string' ? sa.name : undefined;
      saUid = typeof sa.uid === 'string' ? sa.uid : undefined;
      const pod = asRecord(k.pod);
      if (pod && typeof pod.name === 'string' && typeof pod.uid === 'string') {
        extra['authentication.kubernetes.io/pod-name'] = [pod.name];
        extra['authentication.kubernetes.io/pod-uid'] = [pod.uid];
      }
      if (typeof payload.jti === 'string') {
        extra['authentication.kubernetes.io/credential-id'] = [`JTI=${payload.jti}`];
      }
    }
    if (!namespace || !name) return fail('[invalid bearer token, missing claims]');
    const current = serviceAccounts.get(`${namespace}/${name}`);
    if (current === undefined || current !== saUid) {
      return fail(
        `[invalid bearer token, service account ${namespace}/${name} has been deleted or replaced]`,
      );
    }
    return {
      authenticated: true,
      user: {
        username: `system:serviceaccount:${namespace}:${name}`,
        uid: saUid,
        groups: [
          'system:serviceaccounts',
          `system:serviceaccounts:${namespace}`,
          'system:authenticated',
        ],
        ...(Object.keys(extra).length > 0 ? { extra } : {}),
      },
      audiences: auds,
    };
  }

  // --- SubjectAccessReview ------------------------------------------------------------------
  async function subjectAccessReview(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: Record<string, unknown> | undefined;
    try {
      body = asRecord(await readJson(req));
    } catch {
      body = undefined;
    }
    if (
      !body ||
      body.kind !== 'SubjectAccessReview' ||
      body.apiVersion !== 'authorization.k8s.io/v1'
    ) {
      sendStatus(res, 400, 'the body of the request was in an unknown format');
      return;
    }
    const spec = (asRecord(body.spec) ?? {}) as SarSpec & Record<string, unknown>;
    accessReviewSpecs.push(clone(spec));
    const user = typeof spec.user === 'string' ? spec.user : '';
    const groups = asStringArray(spec.groups) ?? [];
    const ra = asRecord(spec.resourceAttributes);
    const nra = asRecord(spec.nonResourceAttributes);
    const invalid: string[] = [];
    if (user === '' && groups.length === 0) {
      invalid.push('spec.user: Invalid value: "": at least one of user or group must be specified');
    }
    if ((ra === undefined) === (nra === undefined)) {
      invalid.push(
        'spec.resourceAttributes: Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified',
      );
    }
    if (invalid.length > 0) {
      sendStatus(
        res,
        422,
        `SubjectAccessReview.authorization.k8s.io "" is invalid: ${invalid.join(', ')}`,
      );
      return;
    }
    let reason: string | undefined;
    if (ra) {
      const str = (v: unknown): string => (typeof v === 'string' ? v : '');
      reason = rbac.allows(
        { user, groups },
        {
          namespace: str(ra.namespace),
          verb: str(ra.verb),
          group: str(ra.group),
          resource: str(ra.resource),
        },
      );
    }
    sendJson(res, 201, {
      kind: 'SubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: spec as unknown as Json,
      status: reason !== undefined ? { allowed: true, reason } : { allowed: false },
    });
  }

  // --- namespace list and watch -------------------------------------------------------------
  function sortedNamespaces(): NamespaceObject[] {
    return [...namespaces.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }

  function matchesSelector(ns: NamespaceObject, selector: string | null): boolean | 'bad' {
    if (!selector) return true;
    for (const term of selector.split(',')) {
      const t = term.trim();
      let m: RegExpMatchArray | null;
      if ((m = t.match(/^([\w./-]+)\s*(==?|!=)\s*([\w.-]*)$/))) {
        const [, key = '', op, value] = m;
        const actual = ns.metadata.labels[key];
        if (op === '!=' ? actual === value : actual !== value) return false;
      } else if ((m = t.match(/^!([\w./-]+)$/))) {
        if (ns.metadata.labels[m[1] ?? ''] !== undefined) return false;
      } else if ((m = t.match(/^([\w./-]+)$/))) {
        if (ns.metadata.labels[m[1] ?? ''] === undefined) return false;
      } else return 'bad';
    }
    return true;
  }

  function listNamespaces(url: URL, res: ServerResponse): void {
    const limitParam = url.searchParams.get('limit');
    const limit = limitParam ? Number(limitParam) : 0;
    const cont = url.searchParams.get('continue');
    const selector = url.searchParams.get('labelSelector');
    let snapshotRv: number;
    let items: NamespaceObject[];
    let start = 0;
    if (cont) {
      let token: { rv?: unknown; offset?: unknown } | undefined;
      try {
        token = asRecord(JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')));
      } catch {
        token = undefined;
      }
      if (!token || typeof token.rv !== 'number' || typeof token.offset !== 'number') {
        sendStatus(res, 400, 'continue key is not valid');
        return;
      }
      const snap = snapshots.get(token.rv);
      // Compaction at revision X keeps X readable: only older snapshots expire.
      if (token.rv < compactedRv || !snap) {
        sendStatus(
          res,
          410,
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
        return;
      }
      snapshotRv = token.rv;
      items = snap;
      start = token.offset;
    } else {
      snapshotRv = rv;
      const filtered: NamespaceObject[] = [];
      for (const ns of sortedNamespaces()) {
        const ok = matchesSelector(ns, selector);
        if (ok === 'bad') {
          sendStatus(res, 400, `unable to parse requirement: ${selector ?? ''}`);
          return;
        }
        if (ok) filtered.push(ns);
      }
      items = filtered.map(clone);
    }
    const end = limit > 0 ? Math.min(items.length, start + limit) : items.length;
    const page = items.slice(start, end).map((ns) => {
      // Items of a list carry no kind/apiVersion.
      const { kind: _k, apiVersion: _a, ...rest } = ns;
      return rest;
    });
    const metadata: Record<string, Json> = { resourceVersion: String(snapshotRv) };
    if (end < items.length) {
      snapshots.set(snapshotRv, items);
      metadata.continue = Buffer.from(JSON.stringify({ rv: snapshotRv, offset: end })).toString(
        'base64url',
      );
      metadata.remainingItemCount = items.length - end;
    }
    sendJson(res, 200, {
      kind: 'NamespaceList',
      apiVersion: 'v1',
      metadata,
      items: page as unknown as Json,
    });
  }

  function watchNamespaces(url: URL, req: IncomingMessage, res: ServerResponse): void {
    const rvParam = url.searchParams.get('resourceVersion') ?? '';
    const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true';
    const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? '0');
    const from = rvParam === '' || rvParam === '0' ? undefined : Number(rvParam);
    if (from !== undefined && (!Number.isInteger(from) || from < 0)) {
      sendStatus(res, 400, `invalid resource version: ${rvParam}`);
      return;
    }
    const tooOld = from !== undefined && from < compactedRv;
    if (tooOld && watchGone === 'http') {
      sendStatus(res, 410, `too old resource version: ${from} (${compactedRv + 1})`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // The API server sends the headers at once, before any event.
    res.flushHeaders();
    if (tooOld) {
      writeEvent(res, {
        type: 'ERROR',
        object: statusObject(410, `too old resource version: ${from} (${compactedRv + 1})`),
      });
      res.end();
      return;
    }
    if (from === undefined) {
      for (const ns of sortedNamespaces()) {
        writeEvent(res, { type: 'ADDED', object: clone(ns) as unknown as Json });
      }
    } else {
      for (const e of history) {
        if (e.rv > from)
          writeEvent(res, { type: e.type, object: clone(e.object) as unknown as Json });
      }
    }
    const watch: OpenWatch = { res, bookmarks };
    watches.add(watch);
    if (timeoutSeconds > 0) {
      watch.timer = setTimeout(() => res.end(), timeoutSeconds * 1000);
    }
    const cleanup = (): void => {
      if (watch.timer) clearTimeout(watch.timer);
      watches.delete(watch);
    };
    res.on('close', cleanup);
    req.on('close', cleanup);
  }

  // --- server -------------------------------------------------------------------------------
  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      sendStatus(res, 500, `stand-in error: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
  server.on('connection', (socket: Socket) => {
    if (down) {
      socket.destroy();
      return;
    }
    counters.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  const baseUrl = `https://127.0.0.1:${address.port}`;

  const dir = mkdtempSync(join(tmpdir(), 'promgate-standin-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfigPath,
    toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'standin',
          cluster: {
            server: baseUrl,
            'certificate-authority-data': Buffer.from(tls.certPem).toString('base64'),
          },
        },
      ],
      users: [{ name: 'promgate', user: { token: credential } }],
      contexts: [{ name: 'standin', context: { cluster: 'standin', user: 'promgate' } }],
      'current-context': 'standin',
    }),
    { mode: 0o600 },
  );

  function forEachWatch(fn: (w: OpenWatch) => void): void {
    for (const w of [...watches]) fn(w);
  }

  const standin: KubeStandin = {
    url: baseUrl,
    kubeconfigPath,
    caPem: tls.certPem,
    credential,
    issuer,
    apiAudiences,
    counters,
    maxInFlight,
    reviewedAudiences,
    accessReviewSpecs,
    resetCounters() {
      for (const e of ENDPOINTS) {
        counters[e] = 0;
        maxInFlight[e] = inFlight[e];
      }
      counters.requests = 0;
      counters.unauthorized = 0;
      counters.connections = 0;
      reviewedAudiences.length = 0;
      accessReviewSpecs.length = 0;
    },
    async issueToken(sa, tokenOptions = {}) {
      const { namespace, name } =
        typeof sa === 'string'
          ? (() => {
              const [n = '', s = ''] = sa.split('/');
              return { namespace: n, name: s };
            })()
          : sa;
      if (!namespace || !name)
        throw new Error(`issueToken wants "namespace/name", got ${String(sa)}`);
      const key = `${namespace}/${name}`;
      let saUid = serviceAccounts.get(key);
      if (saUid === undefined) {
        saUid = randomUUID();
        serviceAccounts.set(key, saUid);
      }
      const current = keys[keys.length - 1];
      if (!current) throw new Error('no signing key');
      let signer = current;
      if (tokenOptions.signer === 'foreign') {
        foreignKey ??= await sharedKey(`${alg}/foreign`, alg);
        signer = { ...foreignKey, kid: current.kid };
      }
      const now = Math.floor(Date.now() / 1000);
      let claims: jose.JWTPayload;
      if (tokenOptions.legacy) {
        claims = {
          iss: tokenOptions.issuer ?? LEGACY_ISSUER,
          sub: `system:serviceaccount:${namespace}:${name}`,
          'kubernetes.io/serviceaccount/namespace': namespace,
          'kubernetes.io/serviceaccount/secret.name': `${name}-token-${randomBytes(3).toString('hex')}`,
          'kubernetes.io/serviceaccount/service-account.name': name,
          'kubernetes.io/serviceaccount/service-account.uid': saUid,
        };
      } else {
        const lifetime = tokenOptions.expiresInSeconds ?? 3600;
        const k8s: Record<string, unknown> = {
          namespace,
          serviceaccount: { name, uid: saUid },
        };
        if (tokenOptions.pod) {
          k8s.pod = { name: tokenOptions.pod, uid: randomUUID() };
          k8s.node = { name: 'node-1', uid: randomUUID() };
        }
        claims = {
          aud: [...(tokenOptions.audiences ?? apiAudiences)],
          exp: now + lifetime,
          iat: Math.min(now, now + lifetime - 1),
          nbf: Math.min(now, now + lifetime - 1),
          iss: tokenOptions.issuer ?? issuer,
          jti: randomUUID(),
          'kubernetes.io': k8s,
          sub: `system:serviceaccount:${namespace}:${name}`,
        };
      }
      return await new jose.SignJWT(claims)
        .setProtectedHeader({ alg, kid: signer.kid })
        .sign(signer.privateKey);
    },
    addUserToken(user) {
      const token = `user-${randomBytes(24).toString('base64url')}`;
      userTokens.set(sha256(token), user);
      return token;
    },
    revokeToken(token) {
      revoked.add(sha256(token));
    },
    deleteServiceAccount(namespace, name) {
      serviceAccounts.delete(`${namespace}/${name}`);
    },
    async rotateSigningKey() {
      keys.push(await newKey());
      localJwks = jose.createLocalJWKSet({ keys: keys.map((k) => k.publicJwk) });
    },
    setNamespaces(list) {
      const wanted = new Set(list.map((n) => normalise(n).name));
      for (const name of [...namespaces.keys()]) if (!wanted.has(name)) deleteNamespace(name);
      for (const n of list) upsertNamespace(n);
    },
    upsertNamespace,
    deleteNamespace,
    namespaceNames: () => sortedNamespaces().map((n) => n.metadata.name),
    grant: (g) => rbac.grant(g),
    clearGrants: () => rbac.clear(),
    fail(endpoint, fault) {
      if (fault === null) faults.delete(endpoint);
      else faults.set(endpoint, { fault, left: fault.times ?? Infinity, skip: fault.skip ?? 0 });
    },
    setDown(value) {
      down = value;
      if (value) for (const s of [...sockets]) s.destroy();
    },
    bookmark() {
      forEachWatch((w) => {
        if (w.bookmarks) {
          writeEvent(w.res, {
            type: 'BOOKMARK',
            object: {
              kind: 'Namespace',
              apiVersion: 'v1',
              metadata: { resourceVersion: String(rv) },
            },
          });
        }
      });
    },
    compact() {
      compactedRv = rv;
      history.length = 0;
      snapshots.clear();
    },
    expireWatches() {
      forEachWatch((w) => {
        writeEvent(w.res, {
          type: 'ERROR',
          object: statusObject(410, `too old resource version: (${rv})`),
        });
        w.res.end();
      });
    },
    dropWatches() {
      forEachWatch((w) => w.res.socket?.destroy());
    },
    endWatches() {
      forEachWatch((w) => w.res.end());
    },
    openWatches: () => watches.size,
    async stop() {
      forEachWatch((w) => w.res.socket?.destroy());
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const s of [...sockets]) s.destroy();
      await closed;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return standin;
}
