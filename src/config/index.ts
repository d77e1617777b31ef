/**
 * promgate's configuration: flags, environment variables (`PROMGATE_<FLAG>`) and a YAML file
 * (`--config`), merged with flags > environment > file > default, validated as a whole.
 * Every problem is reported with its key, its value and why, all at once.
 *
 * @example
 *   const config = buildConfig(
 *     ['--upstream', 'http://127.0.0.1:9090', '--tokens-file', 'tokens.yaml', '--listen', '127.0.0.1:0'],
 *     process.env,
 *   );
 *   config.upstream.url.href; // 'http://127.0.0.1:9090/'
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { KubernetesOptions } from '../auth/kubernetes/options.js';
import { OPTION_LIST, OPTIONS, SECTIONS, type OptionSpec, type OptionValues } from './options.js';
import { ValueError, type HostPort } from './values.js';

export { OPTIONS, OPTION_LIST } from './options.js';
export type { HostPort } from './values.js';

export interface UpstreamConfig {
  /** Base URL; `pathname` is the prefix ('/' when none, else '/prefix' without trailing slash). */
  readonly url: URL;
  readonly bearerFile?: string;
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly timeoutMs: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly maxConnections: number;
  readonly probeIntervalMs: number;
}

export interface PromQLConfig {
  readonly maxQueryBytes: number;
  readonly maxDepth: number;
  readonly maxSelectors: number;
  readonly maxRangeMs: number;
  readonly experimentalFunctions: boolean;
  readonly allowInfo: boolean;
  readonly upstreamMajor: 2 | 3;
  readonly deniedFunctions: readonly string[];
  readonly strictScope: boolean;
}

export type AuthConfig =
  | { readonly mode: 'static'; readonly tokensFile: string }
  | { readonly mode: 'kubernetes'; readonly kubernetes: KubernetesOptions };

export interface Config {
  readonly listen: HostPort;
  readonly metricsListen: HostPort;
  readonly label: string;
  readonly upstream: UpstreamConfig;
  readonly auth: AuthConfig;
  readonly filePollIntervalMs: number;
  readonly promql: PromQLConfig;
  readonly limits: {
    readonly maxBodyBytes: number;
    readonly maxFilteredResponseBytes: number;
    /** 0 = unlimited. */
    readonly maxConcurrentPerIdentity: number;
    readonly metadataCacheTtlMs: number;
  };
  readonly server: {
    readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
    readonly headerTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly idleTimeoutMs: number;
    readonly shutdownDelayMs: number;
    readonly shutdownTimeoutMs: number;
  };
  readonly log: {
    readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
    readonly queries: boolean;
  };
  /** Non-fatal remarks for the start-up log (e.g. options that have no effect). */
  readonly warnings: readonly string[];
}

export interface Problem {
  /** Where the value came from, e.g. `--upstream-timeout`, `PROMGATE_LABEL`, `cfg.yaml: label`. */
  readonly key: string;
  /** The offending value (redacted for secret options), or undefined when it is missing. */
  readonly value?: string;
  readonly why: string;
}

/** Start-up refused: every problem found, each with key, value and why. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(
      `invalid configuration:\n` +
        problems
          .map(
            (p) =>
              `  ${p.key}${p.value === undefined ? '' : ` = ${JSON.stringify(p.value)}`}: ${p.why}`,
          )
          .join('\n'),
    );
    this.name = 'ConfigError';
  }
}

type Source = { kind: 'flag' | 'env' | 'file' | 'default'; key: string; raw: string[] };

const BY_NAME = new Map<string, OptionSpec<unknown>>();
for (const o of OPTION_LIST) {
  BY_NAME.set(o.name, o);
  BY_NAME.set(o.camel, o);
}

/** `--help` / `--version` short-circuit the normal start-up. */
export function wantsHelp(argv: readonly string[]): 'help' | 'version' | undefined {
  for (const a of argv) {
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--version') return 'version';
  }
  return undefined;
}

/**
 * Builds the configuration from command-line arguments (without `node` and the script) and an
 * environment. Reads the `--config` file if one is named. Throws {@link ConfigError}.
 */
export function buildConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): Config {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const flags = readFlags(argv, problems);
  const envs = readEnv(env, warnings);

  // The config file's own location comes from flags or environment only.
  const configSource = flags.get(OPTIONS.config) ?? envs.get(OPTIONS.config);
  const file = configSource
    ? readConfigFile(configSource, problems)
    : new Map<OptionSpec<unknown>, Source>();

  const values: Partial<Record<string, unknown>> = {};
  const sources = new Map<string, Source | undefined>();
  for (const [prop, o] of Object.entries(OPTIONS) as [string, OptionSpec<unknown>][]) {
    const source = flags.get(o) ?? envs.get(o) ?? file.get(o);
    sources.set(prop, source);
    try {
      values[prop] = o.read(source?.raw);
    } catch (e) {
      if (!(e instanceof ValueError)) throw e;
      const shown = source?.raw.find((r) => {
        try {
          o.type.parse(r);
          return false;
        } catch {
          return true;
        }
      });
      problems.push({
        key: source?.key ?? `${o.flag} (default)`,
        value: o.secret ? '<redacted>' : (shown ?? (source?.raw ?? [o.default ?? '']).join(',')),
        why: e.message,
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const v = values as OptionValues;
  const keyOf = (prop: keyof typeof OPTIONS): string =>
    sources.get(prop)?.key ?? OPTIONS[prop].flag;

  // --- cross-option checks ---------------------------------------------------------------
  if (v.upstream === undefined) {
    problems.push({
      key: OPTIONS.upstream.flag,
      why: `is required (or ${OPTIONS.upstream.env}, or "upstream:" in the --config file): the Prometheus-API URL to protect, e.g. http://prometheus:9090`,
    });
  }
  if (v.auth === 'static' && v.tokensFile === undefined) {
    problems.push({
      key: OPTIONS.tokensFile.flag,
      why: `is required with --auth static (or ${OPTIONS.tokensFile.env}): a YAML file listing tokens, see docs/configuration.md`,
    });
  }
  if (v.auth === 'kubernetes' && v.tokensFile !== undefined) {
    warnings.push(`${keyOf('tokensFile')} has no effect with --auth kubernetes`);
  }
  pair(
    problems,
    keyOf,
    'upstreamCertFile',
    'upstreamKeyFile',
    v.upstreamCertFile,
    v.upstreamKeyFile,
  );
  pair(problems, keyOf, 'tlsCertFile', 'tlsKeyFile', v.tlsCertFile, v.tlsKeyFile);
  if (v.upstream?.protocol === 'http:') {
    for (const prop of ['upstreamCaFile', 'upstreamCertFile', 'upstreamKeyFile'] as const) {
      if (v[prop] !== undefined)
        warnings.push(`${keyOf(prop)} has no effect on an http:// upstream`);
    }
  }
  if (v.upstreamBearerFile !== undefined) {
    for (const [name] of v.upstreamHeader) {
      if (name.toLowerCase() === 'authorization') {
        problems.push({
          key: keyOf('upstreamHeader'),
          value: `${name}=<redacted>`,
          why: `conflicts with ${keyOf('upstreamBearerFile')}: set the upstream Authorization one way`,
        });
      }
    }
  }
  const seen = new Set<string>();
  for (const [name] of v.upstreamHeader) {
    if (seen.has(name.toLowerCase())) {
      problems.push({
        key: keyOf('upstreamHeader'),
        value: `${name}=<redacted>`,
        why: 'header given twice',
      });
    }
    seen.add(name.toLowerCase());
  }
  if (
    v.listen.port !== 0 &&
    v.listen.port === v.metricsListen.port &&
    v.listen.host === v.metricsListen.host
  ) {
    problems.push({
      key: keyOf('metricsListen'),
      value: `${v.metricsListen.host}:${v.metricsListen.port}`,
      why: `must differ from ${keyOf('listen')}: operator endpoints never share the tenant listener`,
    });
  }
  for (const prop of [
    'upstreamTimeout',
    'upstreamProbeInterval',
    'filePollInterval',
    'kubernetesApiTimeout',
  ] as const) {
    if (v[prop] < 100) {
      problems.push({
        key: keyOf(prop),
        value: String(sources.get(prop)?.raw.at(-1) ?? OPTIONS[prop].default),
        why: 'must be at least 100ms',
      });
    }
  }
  if (v.promqlAllowInfo) {
    warnings.push(
      `${keyOf('promqlAllowInfo')}: scoped callers may use info(), whose implicit join on target_info no matcher confines`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const upstream = v.upstream as URL;
  const kubernetes: KubernetesOptions = {
    ...(v.kubeconfig === undefined ? {} : { kubeconfig: v.kubeconfig }),
    tenancy: v.tenancy,
    projectLabel: v.projectLabel,
    rbacResource: v.rbacResource,
    rbacVerb: v.rbacVerb,
    clusterWideGroups: v.clusterWideGroup,
    clusterWidePermission: v.clusterWidePermission,
    tokenAudiences: v.tokenAudience,
    jwks: v.jwks,
    tokenCacheSize: v.tokenCacheSize,
    tokenCacheTtlMs: v.tokenCacheTtl,
    tokenCacheNegativeTtlMs: v.tokenCacheNegativeTtl,
    staleIfErrorMs: v.tokenStaleIfError,
    sarCacheAllowedTtlMs: v.sarCacheAllowedTtl,
    sarCacheDeniedTtlMs: v.sarCacheDeniedTtl,
    maxConcurrentReviews: v.maxConcurrentReviews,
    apiTimeoutMs: v.kubernetesApiTimeout,
    sarCacheSize: v.sarCacheSize,
    maxPendingReviews: v.maxPendingReviews,
    informerStaleToleranceMs: v.informerStaleTolerance,
    namespacePageSize: v.namespacePageSize,
    jwksRefreshIntervalMs: v.jwksRefreshInterval,
    jwksClockToleranceSec: Math.round(v.jwksClockTolerance / 1000),
  };
  return {
    listen: v.listen,
    metricsListen: v.metricsListen,
    label: v.label,
    upstream: {
      url: upstream,
      ...(v.upstreamBearerFile === undefined ? {} : { bearerFile: v.upstreamBearerFile }),
      ...(v.upstreamCaFile === undefined ? {} : { caFile: v.upstreamCaFile }),
      ...(v.upstreamCertFile === undefined ? {} : { certFile: v.upstreamCertFile }),
      ...(v.upstreamKeyFile === undefined ? {} : { keyFile: v.upstreamKeyFile }),
      timeoutMs: v.upstreamTimeout,
      headers: v.upstreamHeader,
      maxConnections: v.upstreamMaxConnections,
      probeIntervalMs: v.upstreamProbeInterval,
    },
    auth:
      v.auth === 'static'
        ? { mode: 'static', tokensFile: v.tokensFile as string }
        : { mode: 'kubernetes', kubernetes },
    filePollIntervalMs: v.filePollInterval,
    promql: {
      maxQueryBytes: v.promqlMaxQueryBytes,
      maxDepth: v.promqlMaxDepth,
      maxSelectors: v.promqlMaxSelectors,
      maxRangeMs: v.promqlMaxRange,
      experimentalFunctions: v.promqlExperimentalFunctions,
      allowInfo: v.promqlAllowInfo,
      upstreamMajor: v.promqlUpstreamMajor === '2' ? 2 : 3,
      deniedFunctions: v.promqlDeniedFunction,
      strictScope: v.strictScope,
    },
    limits: {
      maxBodyBytes: v.maxBodyBytes,
      maxFilteredResponseBytes: v.maxFilteredResponseBytes,
      maxConcurrentPerIdentity: v.maxConcurrentPerIdentity,
      metadataCacheTtlMs: v.metadataCacheTtl,
    },
    server: {
      tls:
        v.tlsCertFile !== undefined && v.tlsKeyFile !== undefined
          ? { certFile: v.tlsCertFile, keyFile: v.tlsKeyFile }
          : null,
      headerTimeoutMs: v.serverHeaderTimeout,
      requestTimeoutMs: v.serverRequestTimeout,
      idleTimeoutMs: v.serverIdleTimeout,
      shutdownDelayMs: v.shutdownDelay,
      shutdownTimeoutMs: v.shutdownTimeout,
    },
    log: { level: v.logLevel, queries: v.logQueries },
    warnings,
  };
}

function pair(
  problems: Problem[],
  keyOf: (p: keyof typeof OPTIONS) => string,
  a: keyof typeof OPTIONS,
  b: keyof typeof OPTIONS,
  va: unknown,
  vb: unknown,
): void {
  if ((va === undefined) !== (vb === undefined)) {
    const [set, missing] = va === undefined ? [b, a] : [a, b];
    problems.push({ key: keyOf(set), why: `needs ${OPTIONS[missing].flag} as well` });
  }
}

function readFlags(argv: readonly string[], problems: Problem[]): Map<OptionSpec<unknown>, Source> {
  const out = new Map<OptionSpec<unknown>, Source>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--') || arg === '--') {
      problems.push({
        key: 'command line',
        value: arg,
        why: 'unexpected argument; every option is a --flag',
      });
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    let o = BY_NAME.get(name);
    if (
      !o &&
      name.startsWith('no-') &&
      BY_NAME.get(name.slice(3))?.isBoolean &&
      value === undefined
    ) {
      o = BY_NAME.get(name.slice(3));
      name = name.slice(3);
      value = 'false';
    }
    if (!o || o.name !== name) {
      problems.push({ key: `--${name}`, why: `unknown flag${suggest(name)}` });
      if (value === undefined && argv[i + 1] !== undefined && !argv[i + 1]?.startsWith('--')) i++;
      continue;
    }
    if (value === undefined) {
      const next = argv[i + 1];
      if (o.isBoolean) {
        if (next === 'true' || next === 'false') {
          value = next;
          i++;
        } else value = 'true';
      } else if (next === undefined) {
        problems.push({ key: o.flag, why: `needs a value (${o.type.hint})` });
        continue;
      } else {
        value = next;
        i++;
      }
    }
    const prior = out.get(o);
    if (prior && !o.repeatable) {
      problems.push({ key: o.flag, value, why: 'given more than once; give it once' });
      continue;
    }
    if (prior) prior.raw.push(value);
    else out.set(o, { kind: 'flag', key: o.flag, raw: [value] });
  }
  return out;
}

function readEnv(
  env: Readonly<Record<string, string | undefined>>,
  warnings: string[],
): Map<OptionSpec<unknown>, Source> {
  const out = new Map<OptionSpec<unknown>, Source>();
  const known = new Set(OPTION_LIST.map((o) => o.env));
  for (const o of OPTION_LIST) {
    const raw = env[o.env];
    if (raw === undefined || raw === '') continue;
    const values = o.repeatable
      ? raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : [raw];
    out.set(o, { kind: 'env', key: o.env, raw: values });
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith('PROMGATE_') && !known.has(name)) {
      warnings.push(`environment variable ${name} is not a promgate option and is ignored`);
    }
  }
  return out;
}

function readConfigFile(source: Source, problems: Problem[]): Map<OptionSpec<unknown>, Source> {
  const out = new Map<OptionSpec<unknown>, Source>();
  const path = source.raw.at(-1) as string;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    problems.push({
      key: source.key,
      value: path,
      why: `cannot read the file (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
    });
    return out;
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    // Only the position: the parser's excerpt of the line could show a secret.
    const where =
      e instanceof YAMLParseError && e.linePos
        ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}`
        : '';
    const code = e instanceof YAMLParseError ? ` (${e.code})` : '';
    problems.push({ key: source.key, value: path, why: `not valid YAML${where}${code}` });
    return out;
  }
  if (doc === null || doc === undefined) return out;
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    problems.push({
      key: source.key,
      value: path,
      why: 'must be a YAML mapping of option names to values',
    });
    return out;
  }
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const where = `${path}: ${key}`;
    const o = BY_NAME.get(key);
    if (!o || o.noYaml) {
      problems.push({
        key: where,
        why: o ? 'cannot be set inside the config file' : `unknown option${suggest(key)}`,
      });
      continue;
    }
    if (out.has(o)) {
      problems.push({ key: where, why: `set twice (as ${o.name} and ${o.camel}); keep one` });
      continue;
    }
    const raw = yamlValues(o, value);
    if (typeof raw === 'string') problems.push({ key: where, why: raw });
    else if (raw.length > 0) out.set(o, { kind: 'file', key: where, raw });
  }
  return out;
}

/** A YAML value as option texts, or a string saying why it cannot be one. */
function yamlValues(o: OptionSpec<unknown>, value: unknown): string[] | string {
  const scalar = (x: unknown): string | undefined =>
    typeof x === 'string'
      ? x
      : typeof x === 'number' || typeof x === 'boolean'
        ? String(x)
        : undefined;
  if (value === null) return [];
  const one = scalar(value);
  if (one !== undefined) return [one];
  if (o.repeatable && Array.isArray(value)) {
    const items = value.map(scalar);
    if (items.every((x): x is string => x !== undefined)) return items;
    return 'must be a list of plain values';
  }
  if (o === OPTIONS.upstreamHeader && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>).map(
      ([k, x]) => [k, scalar(x)] as const,
    );
    if (entries.every(([, x]) => x !== undefined))
      return entries.map(([k, x]) => `${k}=${x ?? ''}`);
    return 'must map header names to plain values';
  }
  return o.repeatable
    ? 'must be a value or a list of values'
    : 'must be a single value, not a list or mapping';
}

function suggest(name: string): string {
  let best: string | undefined;
  let bestDistance = 4;
  for (const o of OPTION_LIST) {
    const d = distance(name, o.name);
    if (d < bestDistance) {
      bestDistance = d;
      best = o.name;
    }
  }
  return best === undefined ? '; see --help' : `; did you mean ${best}?`;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min(
        (row[j] as number) + 1,
        (row[j - 1] as number) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return row[b.length] as number;
}

/** The text of `promgate --help`. */
export function helpText(): string {
  const lines = [
    'promgate: multi-tenant authorization proxy for Prometheus.',
    '',
    'Usage: promgate --upstream URL [--tokens-file PATH | --auth kubernetes] [options]',
    '',
    'Every option is also an environment variable PROMGATE_<NAME> and a key of the --config',
    'YAML file; flags win over the environment, which wins over the file.',
  ];
  for (const section of SECTIONS) {
    lines.push('', `${section}:`);
    for (const o of OPTION_LIST.filter((x) => x.section === section)) {
      const def = o.default === undefined ? '' : ` (default ${o.default})`;
      lines.push(
        `  ${o.flag} ${o.isBoolean ? '[=BOOL]' : o.type.hint}${o.repeatable ? ' …' : ''}${def}`,
      );
      for (const l of wrap(o.description.replaceAll('`', ''), 90)) lines.push(`      ${l}`);
    }
  }
  lines.push('', '  --help       this text', '  --version    print the version', '');
  return lines.join('\n');
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(line);
  return out;
}
