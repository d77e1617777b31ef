/**
 * What the demo prints: ready-to-paste `curl` and `promtool` commands with the run's real
 * address and tokens, and two answers side by side.
 *
 * promtool authenticates differently by version (REFERENCE.md §3): from 2.43 on it takes
 * `--http.config.file` (a bearer token from a credentials file); 2.42 can only send a bearer
 * header on `query range` and otherwise needs HTTP Basic auth with the token as the password,
 * which promgate accepts.
 *
 * @example
 * ```ts
 * shellQuote(`count by (namespace) (kube_pod_info)`); // "'count by (namespace) (kube_pod_info)'"
 * promtoolQuery(ctx, tenant, ['instant'], ['up']);      // ['/usr/bin/promtool', 'query', 'instant', …]
 * sideBySide([['a', 'x'], ['b']], ['team-a', 'team-b']);
 * ```
 */

export interface DemoTenant {
  /** Name in the tokens file, logs and metrics. */
  readonly name: string;
  /** The namespaces it may see; undefined for the cluster-wide operator. */
  readonly namespaces?: readonly string[];
  /** The random token of this run. */
  readonly token: string;
  /** A file holding just the token (for `credentials_file`). */
  readonly tokenFile: string;
  /** A promtool/Prometheus HTTP client config using tokenFile (`--http.config.file`). */
  readonly httpConfigFile: string;
}

export interface CommandContext {
  /** promgate's tenant listener, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly promtool: string;
  /** Major version of promtool: 2 uses Basic auth in the URL, ≥3 `--http.config.file`. */
  readonly promtoolMajor: number;
}

/** Quotes a word for a POSIX shell only when it needs it. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A command line from words. */
export function commandLine(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}

/** The HTTP client config (YAML) a promtool ≥ 2.43 or a scraping Prometheus uses. */
export function httpConfig(tokenFile: string): string {
  return `authorization:\n  type: Bearer\n  credentials_file: ${JSON.stringify(tokenFile)}\n`;
}

/** The server URL with the token as the Basic-auth password (promtool 2.42's only way). */
export function basicAuthUrl(url: string, tenant: DemoTenant): string {
  const u = new URL(url);
  u.username = tenant.name;
  u.password = tenant.token;
  return u.toString().replace(/\/$/, '');
}

/**
 * `promtool query <sub> …` as `tenant`: with `--http.config.file` on promtool ≥ 3, with
 * Basic auth in the URL on 2.x. `args` go between the server and the flags as promtool
 * expects (e.g. the expression, or the label name).
 */
export function promtoolQuery(
  ctx: CommandContext,
  tenant: DemoTenant,
  sub: 'instant' | 'range' | 'series' | 'labels',
  flags: readonly string[],
  args: readonly string[],
): string[] {
  if (ctx.promtoolMajor >= 3) {
    return [
      ctx.promtool,
      'query',
      sub,
      `--http.config.file=${tenant.httpConfigFile}`,
      ...flags,
      ctx.url,
      ...args,
    ];
  }
  return [ctx.promtool, 'query', sub, ...flags, basicAuthUrl(ctx.url, tenant), ...args];
}

/** `curl` of an API path as `tenant` (POST form when `post`, else GET with -G). */
export function curl(
  ctx: CommandContext,
  tenant: DemoTenant | undefined,
  path: string,
  params: readonly [string, string][],
  post = true,
): string[] {
  return [
    'curl',
    '-s',
    ...(post ? [] : ['-G']),
    ...(tenant ? ['-H', `Authorization: Bearer ${tenant.token}`] : []),
    `${ctx.url}${path}`,
    ...params.flatMap(([k, v]) => ['--data-urlencode', `${k}=${v}`]),
  ];
}

/** Text width as a terminal shows it (the output here is ASCII plus box-drawing characters). */
function width(s: string): number {
  return [...s].length;
}

/**
 * Two (or more) columns of lines, separated by `│`, each as wide as its longest line.
 *
 * @example
 * ```ts
 * sideBySide([['{namespace="a"} => 1'], ['{namespace="b"} => 2']], ['team-a', 'team-b']).join('\n');
 * // team-a               │ team-b
 * // ─────────────────────┼─────────────────────
 * // {namespace="a"} => 1 │ {namespace="b"} => 2
 * ```
 */
export function sideBySide(
  columns: readonly (readonly string[])[],
  headers: readonly string[],
): string[] {
  const widths = columns.map((col, i) =>
    Math.max(width(headers[i] ?? ''), ...col.map((l) => width(l))),
  );
  const pad = (s: string, w: number): string => s + ' '.repeat(Math.max(0, w - width(s)));
  const row = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i] ?? 0)))
      .join(' │ ')
      .trimEnd();
  const rows = Math.max(...columns.map((c) => c.length));
  const out = [row(headers), widths.map((w) => '─'.repeat(w)).join('─┼─')];
  for (let r = 0; r < rows; r++) out.push(row(columns.map((c) => c[r] ?? '')));
  return out;
}
