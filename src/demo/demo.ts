#!/usr/bin/env node
/**
 * `npm run demo`: promgate in front of a real Prometheus, two tenants and an operator, in one
 * command. It
 *   1. finds a Prometheus + promtool (3.x from the test bed cache, else Debian's 2.x),
 *   2. backfills 3 hours of a demo cluster's history (data.ts) into a fresh TSDB and starts a
 *      live exporter of the same cluster, scraped with `honor_labels`, for "now" data,
 *   3. starts Prometheus, then promgate (`node dist/main.js`) with a static tokens file
 *      holding random tokens for `team-a`, `team-b` and the cluster-wide `ops`,
 *   4. runs the same promtool query as team-a and team-b and prints both answers side by
 *      side, checks what else promgate enforces (operator sees all, 403, 401, federation),
 *   5. prints ready-to-paste `curl` and `promtool` commands, and waits for Ctrl-C, which
 *      stops everything it started and removes its temp directory.
 *
 * Flags: `--check` (steps 1–4, then stop; exit 0 only if every check passed), `--port N`
 * (promgate's port; default 8080 if free, else any free port; with --check any free port).
 *
 * @example
 *   npm run demo                      # = install Prometheus if needed, build, run this
 *   node dist/demo/demo.js --check    # what test/demo/demo.test.ts runs
 */
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  commandLine,
  curl,
  httpConfig,
  promtoolQuery,
  sideBySide,
  type CommandContext,
  type DemoTenant,
} from './commands.js';
import { DEMO_NAMESPACES } from './data.js';
import { startLiveExporter } from './exporter.js';
import {
  killAllChildren,
  portTaken,
  runCommand,
  spawnChild,
  startChild,
  tail,
  type Child,
} from './processes.js';
import {
  backfillHistory,
  findPrometheus,
  HISTORY_SECONDS,
  prometheusArgs,
  prometheusConfig,
  repoRoot,
} from './prometheus.js';

const USAGE = `Usage: node dist/demo/demo.js [--check] [--port N]

Starts a real Prometheus with demo data and promgate in front of it (two tenants and an
operator, random tokens), shows that the tenants get different answers, prints commands
to try, and runs until Ctrl-C.

  --check    start everything, run the demo requests, verify them, stop; exit 0 or 1
  --port N   promgate's port (default 8080 if free, else any free port)
  --help     this text
`;

/** The tenants of the demo's tokens file. */
const TENANT_SPECS: readonly { name: string; namespaces?: readonly string[] }[] = [
  { name: 'team-a', namespaces: ['team-a-dev', 'team-a-prod'] },
  { name: 'team-b', namespaces: ['team-b'] },
  { name: 'ops' }, // cluster-wide
];

/** The query both tenants run side by side. */
const SIDE_BY_SIDE_QUERY = 'count by (namespace) (kube_pod_info)';

interface Options {
  readonly check: boolean;
  readonly port: number | undefined;
}

function parseOptions(argv: readonly string[]): Options | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      check: { type: 'boolean', default: false },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port < 1 || port > 65535) {
      throw new UsageError(`--port ${values.port}: expected a port number from 1 to 65535`);
    }
  }
  return { check: values.check, port };
}

class UsageError extends Error {}

/** A port that was free on 127.0.0.1 a moment ago (0 = let the OS choose). */
function freePort(preferred = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(preferred, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** promgate's tenant port: --port as given, else 8080 when free, else any free port. */
async function tenantPort(opts: Options): Promise<number> {
  if (opts.port !== undefined) return opts.port;
  if (!opts.check) {
    try {
      return await freePort(8080);
    } catch {
      // taken: any port will do
    }
  }
  return freePort();
}

interface QueryAnswer {
  readonly status: number;
  readonly body: unknown;
}

async function apiQuery(
  url: string,
  token: string | undefined,
  query: string,
): Promise<QueryAnswer> {
  const res = await fetch(`${url}/api/v1/query`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: new URLSearchParams({ query }).toString(),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // reported as text
  }
  return { status: res.status, body };
}

/** The `namespace` values of a vector answer (sorted, unique). */
function namespacesOfVector(body: unknown): string[] {
  const result = (body as { data?: { result?: unknown } } | undefined)?.data?.result;
  if (!Array.isArray(result)) return [];
  const set = new Set<string>();
  for (const s of result as { metric?: Record<string, unknown> }[]) {
    const ns = s.metric?.namespace;
    if (typeof ns === 'string') set.add(ns);
  }
  return [...set].sort();
}

/** The `namespace` values in promtool or text-format output (sorted, unique). */
function namespacesInText(text: string): string[] {
  const set = new Set<string>();
  for (const m of text.matchAll(/\bnamespace="([^"]*)"/g)) set.add(m[1] ?? '');
  return [...set].sort();
}

function errorText(body: unknown): string {
  const e = (body as { error?: unknown } | undefined)?.error;
  return typeof e === 'string' ? e : String(body).slice(0, 200);
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  [...a].sort().join('\n') === [...b].sort().join('\n');

/** Everything the demo started, stopped in reverse order. */
class Cleanup {
  private readonly steps: { what: string; run: () => Promise<unknown> }[] = [];
  private running: Promise<void> | undefined;
  dir: string | undefined;

  add(what: string, run: () => Promise<unknown>): void {
    this.steps.push({ what, run });
  }

  run(): Promise<void> {
    return (this.running ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step.run();
        } catch (err) {
          console.error(`  could not stop ${step.what}: ${(err as Error).message}`);
        }
      }
      if (this.dir) rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
    })());
  }

  /** Last resort (second Ctrl-C, crash): kill children, remove the dir, synchronously. */
  force(): void {
    killAllChildren();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

const cleanup = new Cleanup();

async function main(): Promise<number> {
  let opts: Options | 'help';
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`demo: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const options = opts;
  let stopping = false;
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // `npm run demo` forwards the terminal's Ctrl-C, so one press can arrive twice.
      if (Date.now() - firstSignalAt < 2000) return;
      console.error(`\n${signal} again: killing everything now`);
      cleanup.force();
      process.exit(1);
    }
    stopping = true;
    firstSignalAt = Date.now();
    console.log(`\n${signal}: stopping promgate, Prometheus and the exporter…`);
    void cleanup.run().then(() => {
      console.log(`Stopped everything the demo started and removed ${cleanup.dir ?? 'its files'}.`);
      process.exit(options.check ? 1 : 0);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.once('exit', () => cleanup.force());

  const root = repoRoot();
  const bins = findPrometheus(root);
  const mainJs = join(dirname(dirname(fileURLToPath(import.meta.url))), 'main.js');

  const dir = await mkdtemp(join(tmpdir(), 'promgate-demo-'));
  cleanup.dir = dir;
  const now = Math.floor(Date.now() / 1000);

  // --- tokens --------------------------------------------------------------------------
  const tenants: DemoTenant[] = [];
  const tokenEntries: string[] = ['tokens:'];
  for (const spec of TENANT_SPECS) {
    const token = randomBytes(16).toString('hex');
    const tokenFile = join(dir, `${spec.name}.token`);
    const httpConfigFile = join(dir, `${spec.name}.http.yml`);
    await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
    await writeFile(httpConfigFile, httpConfig(tokenFile), { mode: 0o600 });
    tenants.push({
      name: spec.name,
      namespaces: spec.namespaces,
      token,
      tokenFile,
      httpConfigFile,
    });
    // Only the digest goes into promgate's tokens file.
    tokenEntries.push(
      `  - name: ${spec.name}`,
      `    sha256: ${createHash('sha256').update(token).digest('hex')}`,
      spec.namespaces ? `    namespaces: [${spec.namespaces.join(', ')}]` : '    clusterWide: true',
    );
  }
  const tokensFile = join(dir, 'tokens.yaml');
  await writeFile(tokensFile, `${tokenEntries.join('\n')}\n`);
  await chmod(dir, 0o700);
  const [teamA, teamB, ops] = tenants as [DemoTenant, DemoTenant, DemoTenant];

  // --- promgate, Prometheus with history, a live exporter --------------------------------
  // promgate starts first (node takes a moment to load it) and becomes ready once its
  // upstream answers; meanwhile the history is backfilled and Prometheus starts.
  console.log(`promgate demo — Prometheus ${bins.version} (${bins.prometheus})`);
  const exporter = await startLiveExporter();
  cleanup.add('the exporter', () => exporter.close());
  let promPort = await freePort();
  let pgPort = await tenantPort(options);
  let metricsPort = await freePort();
  const spawnPromgate = (): Child =>
    spawnChild({
      name: 'promgate',
      command: process.execPath,
      args: [
        mainJs,
        '--upstream',
        `http://127.0.0.1:${promPort}`,
        '--listen',
        `127.0.0.1:${pgPort}`,
        '--metrics-listen',
        `127.0.0.1:${metricsPort}`,
        '--auth',
        'static',
        '--tokens-file',
        tokensFile,
        '--promql-upstream-major',
        bins.major >= 3 ? '3' : '2',
        '--log-queries',
        'true',
      ],
      cwd: dir,
      logFile: join(dir, 'promgate.log'),
    });
  let prometheus: Child | undefined;
  cleanup.add('Prometheus', async () => prometheus?.stop());
  let promgate = spawnPromgate();
  cleanup.add('promgate', () => promgate.stop()); // stopped first: it is in front

  const dataDir = join(dir, 'data');
  console.log(`  backfilling ${HISTORY_SECONDS / 3600} h of demo cluster history…`);
  await backfillHistory(bins, dataDir, dir, now);
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, prometheusConfig(exporter.target));
  console.log('  starting Prometheus and promgate…');
  for (let attempt = 1; !prometheus; attempt++) {
    try {
      prometheus = await startChild({
        name: 'Prometheus',
        command: bins.prometheus,
        args: prometheusArgs(configFile, dataDir, promPort),
        cwd: dir,
        logFile: join(dir, 'prometheus.log'),
        readyUrl: `http://127.0.0.1:${promPort}/-/ready`,
      });
    } catch (err) {
      // Someone took the port since we looked: move Prometheus, and promgate with it.
      if (!portTaken(err) || attempt >= 3) throw err;
      promPort = await freePort();
      await promgate.stop();
      promgate = spawnPromgate();
    }
  }
  const promUrl = `http://127.0.0.1:${promPort}`;
  const firstScrape = waitForFirstScrape(promUrl);
  firstScrape.catch(() => undefined); // awaited below
  for (let attempt = 1; ; attempt++) {
    try {
      await promgate.waitReady(`http://127.0.0.1:${metricsPort}/readyz`);
      break;
    } catch (err) {
      if (portTaken(err) && options.port !== undefined && /--listen/.test(String(err))) {
        throw new Error(
          `--port ${options.port}: the port is in use on 127.0.0.1; pick another or leave --port out`,
        );
      }
      if (!portTaken(err) || options.port !== undefined || attempt >= 3) throw err;
      pgPort = await freePort();
      metricsPort = await freePort();
      promgate = spawnPromgate();
    }
  }
  await firstScrape;
  const url = `http://127.0.0.1:${pgPort}`;
  const ctx: CommandContext = { url, promtool: bins.promtool, promtoolMajor: bins.major };

  console.log('');
  console.log(
    `Prometheus  ${promUrl}   (history: ${HISTORY_SECONDS / 3600} h backfilled; live exporter scraped every 5 s)`,
  );
  console.log(`promgate    ${url}   (node ${mainJs})`);
  console.log(`files       ${dir}   (tokens.yaml, prometheus.log, promgate.log; removed on exit)`);
  console.log('');
  console.log('Tokens of this run (random; promgate keeps only their SHA-256):');
  for (const t of tenants) {
    const scope = t.namespaces
      ? `namespaces ${t.namespaces.join(', ')}`
      : 'all namespaces (cluster-wide)';
    console.log(`  ${t.name.padEnd(7)} ${t.token}   ${scope}`);
  }

  // --- the same query as team-a and team-b, side by side ------------------------------
  const answers = await Promise.all(
    [teamA, teamB].map((t) =>
      runCommand(
        bins.promtool,
        promtoolQuery(ctx, t, 'instant', [], [SIDE_BY_SIDE_QUERY]).slice(1),
        {
          timeoutMs: 30_000,
        },
      ),
    ),
  );
  console.log('');
  console.log(
    `Same query, same promgate, two tenants (promtool query instant '${SIDE_BY_SIDE_QUERY}'):`,
  );
  console.log('');
  const columns = answers.map((a) =>
    a.code === 0
      ? a.stdout.trimEnd().split('\n')
      : [`promtool failed (exit ${a.code}):`, ...`${a.stdout}${a.stderr}`.trim().split('\n')],
  );
  for (const line of sideBySide(columns, [
    `as team-a (${teamA.namespaces?.join(', ')})`,
    `as team-b (${teamB.namespaces?.join(', ')})`,
  ])) {
    console.log(`  ${line}`);
  }

  // --- checks --------------------------------------------------------------------------
  const results: { ok: boolean; text: string }[] = [];
  const check = (ok: boolean, text: string): void => {
    results.push({ ok, text });
  };
  const [a, b] = answers as [(typeof answers)[0], (typeof answers)[0]];
  const nsA = a.code === 0 ? namespacesInText(a.stdout) : [];
  const nsB = b.code === 0 ? namespacesInText(b.stdout) : [];
  check(
    a.code === 0 && sameSet(nsA, teamA.namespaces ?? []),
    `team-a sees: ${nsA.join(', ') || '(nothing)'}`,
  );
  check(
    b.code === 0 && sameSet(nsB, teamB.namespaces ?? []),
    `team-b sees: ${nsB.join(', ') || '(nothing)'}`,
  );
  check(
    nsA.length > 0 && nsB.length > 0 && !nsA.some((n) => nsB.includes(n)),
    'team-a and team-b got different answers',
  );
  const opsAnswer = await apiQuery(url, ops.token, SIDE_BY_SIDE_QUERY);
  const nsOps = namespacesOfVector(opsAnswer.body);
  check(
    opsAnswer.status === 200 && sameSet(nsOps, DEMO_NAMESPACES),
    `ops (cluster-wide) sees: ${nsOps.join(', ') || `(nothing; HTTP ${opsAnswer.status})`}`,
  );
  const cross = await apiQuery(url, teamA.token, 'kube_pod_info{namespace="team-b"}');
  check(
    cross.status === 403,
    `team-a asking for namespace="team-b" gets HTTP ${cross.status}: ${errorText(cross.body)}`,
  );
  const unknown = await apiQuery(url, randomBytes(16).toString('hex'), 'up');
  check(
    unknown.status === 401,
    `an unknown token gets HTTP ${unknown.status}: ${errorText(unknown.body)}`,
  );
  const fed = await fetch(
    `${url}/federate?${new URLSearchParams({ 'match[]': 'kube_pod_info' })}`,
    {
      headers: { authorization: `Bearer ${teamA.token}` },
      signal: AbortSignal.timeout(20_000),
    },
  );
  const fedText = await fed.text();
  const fedSeries = fedText.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const nsFed = namespacesInText(fedText);
  check(
    fed.status === 200 && fedSeries.length > 0 && sameSet(nsFed, teamA.namespaces ?? []),
    `team-a's /federate?match[]=kube_pod_info: ${fedSeries.length} series, namespaces ${nsFed.join(', ') || '(none)'}`,
  );
  console.log('');
  console.log('What promgate enforced just now:');
  for (const r of results) console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.text}`);
  const failed = results.filter((r) => !r.ok).length;

  // --- commands to paste ----------------------------------------------------------------
  console.log('');
  console.log('Try it yourself (in another terminal, while the demo runs):');
  const show = (comment: string, words: readonly string[]): void => {
    console.log(`  # ${comment}`);
    console.log(`  ${commandLine(words)}`);
  };
  const q: [string, string][] = [['query', SIDE_BY_SIDE_QUERY]];
  show(
    'team-a: pods per namespace (a POST form, as Grafana sends it)',
    curl(ctx, teamA, '/api/v1/query', q),
  );
  show('team-b: the same query, a different answer', curl(ctx, teamB, '/api/v1/query', q));
  show('ops (cluster-wide): every namespace', curl(ctx, ops, '/api/v1/query', q));
  show(
    'team-a naming a namespace outside its scope: 403',
    curl(ctx, teamA, '/api/v1/query', [['query', 'kube_pod_info{namespace="team-b"}']]),
  );
  show('no token: 401', curl(ctx, undefined, '/api/v1/query', [['query', 'up']]));
  show(
    "federation as team-b: only team-b's series",
    curl(ctx, teamB, '/federate', [['match[]', '{__name__=~"kube_pod_info|up"}']], false),
  );
  const how =
    bins.major >= 3
      ? `bearer token from an HTTP config file (${teamA.httpConfigFile})`
      : 'promtool 2.x sends Basic auth: the token is the password';
  show(
    `promtool, the real Prometheus client — ${how}`,
    promtoolQuery(
      ctx,
      teamA,
      'instant',
      [],
      ['sum by (namespace) (rate(container_cpu_usage_seconds_total[5m]))'],
    ),
  );
  show("promtool: team-b's label values", promtoolQuery(ctx, teamB, 'labels', [], ['namespace']));
  show("promtool: team-b's series", promtoolQuery(ctx, teamB, 'series', ['--match=up'], []));
  console.log('');
  console.log(
    `promgate's request log (one JSON line per request): tail -f ${join(dir, 'promgate.log')}`,
  );

  if (options.check) {
    if (failed > 0) console.log(`\n--- promgate log (tail) ---\n${tail(promgate.logFile)}`);
    await cleanup.run();
    if (failed === 0) {
      console.log(
        `\ndemo check passed (${results.length} checks); stopped everything and removed ${dir}`,
      );
      return 0;
    }
    console.log(`\ndemo check FAILED: ${failed} of ${results.length} checks`);
    return 1;
  }

  console.log('');
  console.log(
    'Press Ctrl-C to stop (stops promgate, Prometheus and the exporter; removes the files).',
  );
  // Stay up until a signal, or until a child dies on its own.
  const died = await Promise.race([
    prometheus.exit.then((st) => ({ child: prometheus, st })),
    promgate.exit.then((st) => ({ child: promgate, st })),
  ]);
  if (stopping) return new Promise<number>(() => undefined); // the signal handler exits
  console.error(
    `\n${died.child.name} exited on its own (code ${died.st.code}, signal ${died.st.signal}):\n` +
      tail(died.child.logFile),
  );
  await cleanup.run();
  return 1;
}

/** Waits until Prometheus has scraped the live exporter once, so that "now" has data. */
async function waitForFirstScrape(promUrl: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const r = await apiQuery(promUrl, undefined, 'up{job="demo-exporter"} == 1');
      const result = (r.body as { data?: { result?: unknown[] } }).data?.result;
      if (r.status === 200 && Array.isArray(result) && result.length > 0) return;
      last = `HTTP ${r.status}, ${JSON.stringify(r.body).slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Prometheus did not scrape the demo exporter within 60 s (last: ${last})`);
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    await cleanup.run();
    process.exit(1);
  },
);
