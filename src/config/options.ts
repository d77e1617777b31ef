/**
 * The table of every promgate option. One entry drives the command-line flag, the
 * environment variable, the YAML key, `--help`, validation and `docs/configuration.md`, so
 * the four cannot drift apart.
 *
 * Naming: flag `--upstream-timeout`, environment `PROMGATE_UPSTREAM_TIMEOUT`, YAML key
 * `upstream-timeout` (the camelCase `upstreamTimeout` is accepted too).
 *
 * @example
 *   OPTIONS.upstreamTimeout.flag; // '--upstream-timeout'
 *   OPTIONS.upstreamTimeout.env;  // 'PROMGATE_UPSTREAM_TIMEOUT'
 */
import { KUBERNETES_DEFAULTS } from '../auth/kubernetes/options.js';
import { DEFAULT_POLICY } from '../promql/index.js';
import * as v from './values.js';

export type Section =
  | 'General'
  | 'Upstream'
  | 'Authentication'
  | 'Kubernetes authentication'
  | 'PromQL policy'
  | 'Limits'
  | 'Server'
  | 'Logging';

export const SECTIONS: readonly Section[] = [
  'General',
  'Upstream',
  'Authentication',
  'Kubernetes authentication',
  'PromQL policy',
  'Limits',
  'Server',
  'Logging',
];

interface SpecInput<T> {
  readonly section: Section;
  readonly type: v.ValueType<T>;
  readonly description: string;
  /** The default as text (parsed like any other value; shown as is in the docs). */
  readonly default?: string;
  /** Repeatable: give the flag several times; comma-separated in the environment; a YAML list. */
  readonly repeatable?: boolean;
  /** Never echoed in error messages (header values may hold credentials). */
  readonly secret?: boolean;
  /** Not settable in the YAML file (only `--config` itself). */
  readonly noYaml?: boolean;
}

export interface OptionSpec<V> extends SpecInput<unknown> {
  /** kebab-case name: the flag without `--` and the YAML key. */
  readonly name: string;
  readonly flag: string;
  readonly env: string;
  readonly camel: string;
  /** Turns the raw texts of the winning source (undefined = not set anywhere) into the value. */
  read(raw: readonly string[] | undefined): V;
  readonly isBoolean: boolean;
}

function spec<V>(
  name: string,
  input: SpecInput<unknown>,
  read: (raw: readonly string[] | undefined) => V,
): OptionSpec<V> {
  return {
    ...input,
    name,
    flag: `--${name}`,
    env: `PROMGATE_${name.toUpperCase().replaceAll('-', '_')}`,
    camel: name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()),
    isBoolean: input.type === v.boolean,
    read,
  };
}

/** A single-valued option with a default. */
function opt<T>(name: string, input: SpecInput<T> & { default: string }): OptionSpec<T> {
  return spec(name, input, (raw) => input.type.parse(raw?.[raw.length - 1] ?? input.default));
}

/** A single-valued option without a default (undefined when not set). */
function optional<T>(name: string, input: SpecInput<T>): OptionSpec<T | undefined> {
  return spec(name, input, (raw) => {
    const last = raw?.[raw.length - 1];
    return last === undefined ? undefined : input.type.parse(last);
  });
}

/** A repeatable option; the source with the highest precedence replaces the others entirely. */
function list<T>(name: string, input: SpecInput<T>): OptionSpec<T[]> {
  return spec(name, { ...input, repeatable: true }, (raw) =>
    (raw ?? []).map((r) => input.type.parse(r)),
  );
}

const ms = (n: number): string => {
  if (n === 0) return '0s';
  if (n % 86_400_000 === 0) return `${n / 86_400_000}d`;
  if (n % 3_600_000 === 0) return `${n / 3_600_000}h`;
  if (n % 60_000 === 0) return `${n / 60_000}m`;
  if (n % 1000 === 0) return `${n / 1000}s`;
  return `${n}ms`;
};
const sizeText = (n: number): string => {
  if (n % (1 << 20) === 0) return `${n / (1 << 20)}MiB`;
  if (n % 1024 === 0) return `${n / 1024}KiB`;
  return String(n);
};
const K = KUBERNETES_DEFAULTS;
const groupResourceText = (g: { group: string; resource: string }): string =>
  g.group === '' ? g.resource : `${g.group}/${g.resource}`;

export const OPTIONS = {
  // --- General -----------------------------------------------------------------------------
  config: optional('config', {
    section: 'General',
    type: v.file,
    noYaml: true,
    description:
      'YAML file whose keys are option names (e.g. `upstream: http://prometheus:9090`). ' +
      'Command-line flags win over environment variables, which win over the file.',
  }),
  listen: opt('listen', {
    section: 'General',
    type: v.hostPort,
    default: '0.0.0.0:8080',
    description: 'Tenant-facing listener (the Prometheus API). Port 0 picks a free port.',
  }),
  metricsListen: opt('metrics-listen', {
    section: 'General',
    type: v.hostPort,
    default: '0.0.0.0:8081',
    description: 'Operator listener: `/metrics`, `/healthz`, `/readyz`. Never exposed to tenants.',
  }),
  label: opt('label', {
    section: 'General',
    type: v.labelName,
    default: 'namespace',
    description:
      "The label whose values make up a caller's scope; every selector gets a matcher on it.",
  }),
  // --- Upstream ----------------------------------------------------------------------------
  upstream: optional('upstream', {
    section: 'Upstream',
    type: v.httpUrl,
    description:
      'Required. Base URL of the Prometheus-API server (Prometheus, Thanos Querier, Mimir, ' +
      'VictoriaMetrics), with or without a path prefix: `http://prometheus:9090`, ' +
      '`https://mimir/prometheus`.',
  }),
  upstreamBearerFile: optional('upstream-bearer-file', {
    section: 'Upstream',
    type: v.file,
    description:
      'File holding the bearer token promgate sends upstream (re-read when it changes). ' +
      "The callers' own tokens are never forwarded.",
  }),
  upstreamCaFile: optional('upstream-ca-file', {
    section: 'Upstream',
    type: v.file,
    description: "PEM CA bundle to verify an https upstream (default: the system's CAs).",
  }),
  upstreamCertFile: optional('upstream-cert-file', {
    section: 'Upstream',
    type: v.file,
    description:
      'PEM client certificate for mutual TLS to the upstream (with --upstream-key-file).',
  }),
  upstreamKeyFile: optional('upstream-key-file', {
    section: 'Upstream',
    type: v.file,
    description: 'PEM private key of --upstream-cert-file.',
  }),
  upstreamTimeout: opt('upstream-timeout', {
    section: 'Upstream',
    type: v.duration,
    default: '2m',
    description:
      "Longest wait for the upstream's response headers, and longest pause between body " +
      "chunks. On /federate it is further bounded by the scraper's " +
      'X-Prometheus-Scrape-Timeout-Seconds. Exceeded: 504.',
  }),
  upstreamHeader: list('upstream-header', {
    section: 'Upstream',
    type: v.header,
    secret: true,
    description:
      'Header set on every upstream request, e.g. `X-Scope-OrgID=team-a` for Mimir. ' +
      "Repeatable (comma-separated in the environment). A caller's copy of such a header " +
      'is always dropped.',
  }),
  upstreamMaxConnections: opt('upstream-max-connections', {
    section: 'Upstream',
    type: v.integer(1, 65535),
    default: '128',
    description: 'Keep-alive connection pool size towards the upstream.',
  }),
  upstreamProbeInterval: opt('upstream-probe-interval', {
    section: 'Upstream',
    type: v.duration,
    default: '10s',
    description:
      'How often /readyz checks that the upstream answers (GET /api/v1/status/buildinfo); ' +
      'not ready after three intervals without any upstream answer.',
  }),
  // --- Authentication ----------------------------------------------------------------------
  auth: opt('auth', {
    section: 'Authentication',
    type: v.oneOf('static', 'kubernetes'),
    default: 'static',
    description:
      'How callers are authenticated: `static` (a tokens file) or `kubernetes` ' +
      '(ServiceAccount tokens via TokenReview).',
  }),
  tokensFile: optional('tokens-file', {
    section: 'Authentication',
    type: v.file,
    description:
      'Required with `--auth static`. YAML list of tokens (`name`, `token` or `sha256`, ' +
      '`namespaces` or `clusterWide: true`); reloaded when it changes, a bad version is ' +
      'refused and the previous one kept.',
  }),
  filePollInterval: opt('file-poll-interval', {
    section: 'Authentication',
    type: v.duration,
    default: '10s',
    description:
      'How often the tokens file, TLS files and upstream bearer file are checked for changes ' +
      '(in addition to file-system notifications, which miss some volume updates).',
  }),
  // --- Kubernetes --------------------------------------------------------------------------
  kubeconfig: optional('kubeconfig', {
    section: 'Kubernetes authentication',
    type: v.file,
    description:
      'Kubeconfig file. Default: the in-cluster configuration, else $KUBECONFIG, else ' +
      '~/.kube/config.',
  }),
  tenancy: opt('tenancy', {
    section: 'Kubernetes authentication',
    type: v.oneOf('serviceaccount', 'project', 'rbac'),
    default: K.tenancy,
    description:
      'Scope of a Kubernetes identity: `serviceaccount` (its own namespace), `project` ' +
      '(every namespace with the same --project-label value), `rbac` (every namespace where ' +
      'it may --rbac-verb the --rbac-resource).',
  }),
  projectLabel: opt('project-label', {
    section: 'Kubernetes authentication',
    type: v.kubernetesLabelKey,
    default: K.projectLabel,
    description: 'Namespace label naming its project (`--tenancy project`).',
  }),
  rbacResource: opt('rbac-resource', {
    section: 'Kubernetes authentication',
    type: v.groupResource,
    default: groupResourceText(K.rbacResource),
    description: 'Resource checked per namespace with SubjectAccessReview (`--tenancy rbac`).',
  }),
  rbacVerb: opt('rbac-verb', {
    section: 'Kubernetes authentication',
    type: v.verb,
    default: K.rbacVerb,
    description: 'Verb checked per namespace (`--tenancy rbac`).',
  }),
  clusterWideGroup: list('cluster-wide-group', {
    section: 'Kubernetes authentication',
    type: v.string,
    description: 'Members of this group get cluster-wide scope (no rewriting). Repeatable.',
  }),
  clusterWidePermission: opt('cluster-wide-permission', {
    section: 'Kubernetes authentication',
    type: v.permission,
    default:
      K.clusterWidePermission === null
        ? 'none'
        : `${K.clusterWidePermission.verb}:${groupResourceText(K.clusterWidePermission)}`,
    description:
      'Identities allowed this cluster-scoped permission (SubjectAccessReview) get ' +
      'cluster-wide scope; `none` switches the check off.',
  }),
  tokenAudience: list('token-audience', {
    section: 'Kubernetes authentication',
    type: v.string,
    description:
      'Audience a token must be issued for (TokenReview `spec.audiences`). Repeatable; none ' +
      "means the API server's default audience.",
  }),
  jwks: opt('jwks', {
    section: 'Kubernetes authentication',
    type: v.boolean,
    default: String(K.jwks),
    description:
      "Check JWTs locally against the cluster's OIDC discovery / JWKS first, so junk tokens " +
      'never reach the API server.',
  }),
  tokenCacheSize: opt('token-cache-size', {
    section: 'Kubernetes authentication',
    type: v.integer(1),
    default: String(K.tokenCacheSize),
    description: 'Most TokenReview results kept (LRU).',
  }),
  tokenCacheTtl: opt('token-cache-ttl', {
    section: 'Kubernetes authentication',
    type: v.duration,
    default: ms(K.tokenCacheTtlMs),
    description:
      'How long an authenticated token is trusted without a new review (capped by its exp).',
  }),
  tokenCacheNegativeTtl: opt('token-cache-negative-ttl', {
    section: 'Kubernetes authentication',
    type: v.duration,
    default: ms(K.tokenCacheNegativeTtlMs),
    description: 'How long a rejected token stays rejected without a new review.',
  }),
  tokenStaleIfError: opt('token-stale-if-error', {
    section: 'Kubernetes authentication',
    type: v.duration,
    default: ms(K.staleIfErrorMs),
    description:
      'While the API server is unreachable, cached identities keep working this long past ' +
      'their TTL; unknown tokens get 503.',
  }),
  sarCacheAllowedTtl: opt('sar-cache-allowed-ttl', {
    section: 'Kubernetes authentication',
    type: v.duration,
    default: ms(K.sarCacheAllowedTtlMs),
    description: 'How long an allowed SubjectAccessReview is cached.',
  }),
  sarCacheDeniedTtl: opt('sar-cache-denied-ttl', {
    section: 'Kubernetes authentication',
    type: v.duration,
    default: ms(K.sarCacheDeniedTtlMs),
    description: 'How long a denied SubjectAccessReview is cached.',
  }),
  sarCacheSize: opt('sar-cache-size', {
    section: 'Kubernetes authentication',
    type: v.integer(1),
    default: String(K.sarCacheSize),
    description: 'Most SubjectAccessReview decisions kept (identity × namespace).',
  }),
  maxConcurrentReviews: opt('max-concurrent-reviews', {
    section: 'Kubernetes authentication',
    type: v.integer(1),
    default: String(K.maxConcurrentReviews),
    description: 'Most TokenReview/SubjectAccessReview calls in flight at once.',
  }),
  maxPendingReviews: opt('max-pending-reviews', {
    section: 'Kubernetes authentication',
    type: v.integer(0),
    default: String(K.maxPendingReviews),
    description: 'Most reviews waiting for a slot; beyond that callers get 503 at once.',
  }),
  kubernetesApiTimeout: opt('kubernetes-api-timeout', {
    section: 'Kubernetes authentication',
    type: v.duration,
    default: ms(K.apiTimeoutMs),
    description: 'Timeout of each Kubernetes API call.',
  }),
  informerStaleTolerance: opt('informer-stale-tolerance', {
    section: 'Kubernetes authentication',
    type: v.duration,
    default: ms(K.informerStaleToleranceMs),
    description:
      'After the namespace watch breaks, how long scopes are still computed from the last ' +
      'known namespaces while it restarts; after that, 503.',
  }),
  namespacePageSize: opt('namespace-page-size', {
    section: 'Kubernetes authentication',
    type: v.integer(1),
    default: String(K.namespacePageSize),
    description: 'Page size of namespace lists.',
  }),
  jwksRefreshInterval: opt('jwks-refresh-interval', {
    section: 'Kubernetes authentication',
    type: v.duration,
    default: ms(K.jwksRefreshIntervalMs),
    description: 'Background refresh of the JWKS (also refetched on an unknown key id).',
  }),
  jwksClockTolerance: opt('jwks-clock-tolerance', {
    section: 'Kubernetes authentication',
    type: v.duration,
    default: ms(K.jwksClockToleranceSec * 1000),
    description: 'Clock skew tolerated when checking exp/nbf locally with --jwks.',
  }),
  // --- PromQL policy -----------------------------------------------------------------------
  promqlMaxQueryBytes: opt('promql-max-query-bytes', {
    section: 'PromQL policy',
    type: v.bytes,
    default: sizeText(DEFAULT_POLICY.maxQueryBytes),
    description:
      'Longest query or match[] selector accepted (UTF-8 bytes); longer is a 400. Applies to ' +
      'cluster-wide callers too.',
  }),
  promqlMaxDepth: opt('promql-max-depth', {
    section: 'PromQL policy',
    type: v.integer(1),
    default: String(DEFAULT_POLICY.maxDepth),
    description: 'Deepest expression nesting accepted.',
  }),
  promqlMaxSelectors: opt('promql-max-selectors', {
    section: 'PromQL policy',
    type: v.integer(1),
    default: String(DEFAULT_POLICY.maxSelectors),
    description: 'Most vector selectors in one query.',
  }),
  promqlMaxRange: opt('promql-max-range', {
    section: 'PromQL policy',
    type: v.duration,
    default: ms(DEFAULT_POLICY.maxRangeMs),
    description: 'Longest range of a matrix selector or subquery (`0s`: no limit).',
  }),
  promqlExperimentalFunctions: opt('promql-experimental-functions', {
    section: 'PromQL policy',
    type: v.boolean,
    default: 'false',
    description:
      "Accept Prometheus's experimental functions (e.g. `sort_by_label`, `limitk`); enable " +
      'only if the upstream runs with `--enable-feature=promql-experimental-functions`.',
  }),
  promqlAllowInfo: opt('promql-allow-info', {
    section: 'PromQL policy',
    type: v.boolean,
    default: 'false',
    description:
      'Accept the experimental `info()` function from scoped callers. Unsafe: it joins ' +
      '`target_info` series the query does not name, which no matcher confines. ' +
      '(Cluster-wide callers are never rewritten.)',
  }),
  promqlUpstreamMajor: opt('promql-upstream-major', {
    section: 'PromQL policy',
    type: v.oneOf('2', '3'),
    default: '3',
    description:
      'Major version of the upstream Prometheus: `2` also accepts `holt_winters` (renamed ' +
      '`double_exponential_smoothing` in 3.0).',
  }),
  promqlDeniedFunction: list('promql-denied-function', {
    section: 'PromQL policy',
    type: v.string,
    description: 'A PromQL function callers may not use, on top of the built-in list. Repeatable.',
  }),
  strictScope: opt('strict-scope', {
    section: 'PromQL policy',
    type: v.boolean,
    default: 'true',
    description:
      'A query naming a label value outside the caller\'s scope (`namespace="other"`) is a ' +
      '403 naming it, instead of an empty answer.',
  }),
  // --- Limits ------------------------------------------------------------------------------
  maxBodyBytes: opt('max-body-bytes', {
    section: 'Limits',
    type: v.bytes,
    default: '4MiB',
    description: 'Largest request body (form or remote-read protobuf); larger is a 413.',
  }),
  maxFilteredResponseBytes: opt('max-filtered-response-bytes', {
    section: 'Limits',
    type: v.bytes,
    default: '256MiB',
    description:
      'Largest upstream answer promgate reads into memory to filter (rules, alerts, targets, ' +
      'metadata); larger is a 502. Other answers stream and have no limit.',
  }),
  maxConcurrentPerIdentity: opt('max-concurrent-per-identity', {
    section: 'Limits',
    type: v.integer(0),
    default: '128',
    description:
      'Most requests one identity may have in flight; more get 429 with Retry-After ' +
      '(`0`: no limit).',
  }),
  metadataCacheTtl: opt('metadata-cache-ttl', {
    section: 'Limits',
    type: v.duration,
    default: '30s',
    description:
      'How long the metric names of a scope (used to filter /api/v1/metadata) are cached.',
  }),
  // --- Server ------------------------------------------------------------------------------
  tlsCertFile: optional('tls-cert-file', {
    section: 'Server',
    type: v.file,
    description:
      'PEM certificate (chain) for HTTPS on the tenant listener; reloaded when it changes.',
  }),
  tlsKeyFile: optional('tls-key-file', {
    section: 'Server',
    type: v.file,
    description: 'PEM private key of --tls-cert-file.',
  }),
  serverHeaderTimeout: opt('server-header-timeout', {
    section: 'Server',
    type: v.duration,
    default: '10s',
    description: 'Longest time a client may take to send the request headers.',
  }),
  serverRequestTimeout: opt('server-request-timeout', {
    section: 'Server',
    type: v.duration,
    default: '1m',
    description:
      'Longest time a client may take to send the whole request (not the response: long ' +
      'queries and federation are bounded by --upstream-timeout).',
  }),
  serverIdleTimeout: opt('server-idle-timeout', {
    section: 'Server',
    type: v.duration,
    default: '65s',
    description: 'How long an idle keep-alive connection stays open.',
  }),
  shutdownDelay: opt('shutdown-delay', {
    section: 'Server',
    type: v.duration,
    default: '0s',
    description:
      'On SIGTERM, how long to keep serving with /readyz failing before closing the listener ' +
      '(lets load balancers notice).',
  }),
  shutdownTimeout: opt('shutdown-timeout', {
    section: 'Server',
    type: v.duration,
    default: '30s',
    description: 'On SIGTERM, how long in-flight requests may take to finish before they are cut.',
  }),
  // --- Logging -----------------------------------------------------------------------------
  logLevel: opt('log-level', {
    section: 'Logging',
    type: v.oneOf('trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'),
    default: 'info',
    description: 'Log level of the JSON logs (one line per request at info).',
  }),
  logQueries: opt('log-queries', {
    section: 'Logging',
    type: v.boolean,
    default: 'false',
    description:
      'Include the PromQL query and match[] selectors in request log lines (always included ' +
      'at debug level).',
  }),
} as const;

export type Options = typeof OPTIONS;
export type OptionName = keyof Options;
export type OptionValues = { -readonly [K in OptionName]: ReturnType<Options[K]['read']> };

export const OPTION_LIST: readonly OptionSpec<unknown>[] = Object.values(OPTIONS);
