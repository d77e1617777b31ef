/**
 * Real Prometheus servers for end-to-end tests: start 2.x or 3.x on 127.0.0.1 with a free
 * port, a fresh temp dir, retention long enough for backfilled past data, and the 3.x
 * feature flags the query corpus needs; backfill OpenMetrics with promtool; or both at once
 * with the demo data.
 *
 * @example
 * ```ts
 * import { after, before, test } from 'node:test';
 * import { DEMO_EVAL_TIME } from '../../src/demo/data.js';
 * import { startDemoPrometheus, type PrometheusServer } from '../support/index.js';
 *
 * let full: PrometheusServer, tenant: PrometheusServer;
 * before(async () => {
 *   [full, tenant] = await Promise.all([
 *     startDemoPrometheus({ version: 3 }),                                  // every series
 *     startDemoPrometheus({ version: 3, namespaces: ['team-a-dev', 'team-a-prod'] }),
 *   ]);
 * });
 * after(() => Promise.all([full?.stop(), tenant?.stop()]));
 * test('…', async () => {
 *   const r = await tenant.api('/api/v1/query', { query: 'count(kube_pod_info)', time: DEMO_EVAL_TIME });
 * });
 * ```
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  DEMO_WINDOW,
  openMetricsChunks,
  type NamespaceSelection,
  type OpenMetricsOptions,
} from '../../src/demo/data.js';
import { prometheusBinaries, type PrometheusBinarySet } from './binaries.js';
import { prometheusApi, type ApiRequestOptions, type ApiResult, type Params } from './http.js';
import { freePort } from './net.js';
import { run, startProcess, type ManagedProcess } from './process.js';
import { makeTempDir, removeDir } from './tmp.js';

/**
 * Feature flags every 3.x test server gets: the corpus uses experimental functions
 * (`sort_by_label`, `limitk`, `mad_over_time`, `info`, …) and duration expressions
 * (`[5m+1m]`). 2.42 needs none (`@` and negative offsets are on by default since 2.33).
 */
export const PROMETHEUS3_FEATURES: readonly string[] = Object.freeze([
  'promql-experimental-functions',
  'promql-duration-expr',
]);

/** Retention for test servers: retention counts from the newest block, and ours are old. */
export const TEST_RETENTION = '3650d';

export interface StartPrometheusOptions {
  readonly version: 2 | 3;
  /**
   * prometheus.yml as YAML text or an object (serialised with `yaml`). Default: a global
   * section and no scrape jobs, so nothing but backfilled data is queried.
   */
  readonly config?: string | Readonly<Record<string, unknown>>;
  /** Extra files written next to prometheus.yml (rule files…); config paths may name them. */
  readonly files?: Readonly<Record<string, string>>;
  /** An existing TSDB directory (e.g. filled by {@link backfill}); default: a fresh one. */
  readonly dataDir?: string;
  /** Extra command-line flags, appended last. */
  readonly extraArgs?: readonly string[];
  /** 3.x feature flags (default {@link PROMETHEUS3_FEATURES}); ignored for 2.x. */
  readonly features?: readonly string[];
  /** Default 30 s. */
  readonly readyTimeoutMs?: number;
}

export interface PrometheusServer {
  readonly version: 2 | 3;
  /** The exact version, e.g. `2.42.0+ds`. */
  readonly versionString: string;
  readonly binaries: PrometheusBinarySet;
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Directory holding prometheus.yml and `files`. */
  readonly configDir: string;
  readonly process: ManagedProcess;
  /** Calls this server's HTTP API (see prometheusApi). */
  api<T = unknown>(path: string, params?: Params, opts?: ApiRequestOptions): Promise<ApiResult<T>>;
  /** Stops the server (SIGTERM, then SIGKILL) and removes the temp dirs it created. */
  stop(): Promise<void>;
}

const DEFAULT_CONFIG = { global: { scrape_interval: '15s', evaluation_interval: '15s' } };

/**
 * Starts Prometheus `version` on 127.0.0.1 and waits for `/-/ready`. Retries on a new port
 * if the chosen one was taken meanwhile. Flags: `--storage.tsdb.retention.time=3650d`, and
 * for 3.x `--enable-feature=<features>`.
 */
export async function startPrometheus(opts: StartPrometheusOptions): Promise<PrometheusServer> {
  const bins = prometheusBinaries()[opts.version === 2 ? 'v2' : 'v3'];
  const configDir = makeTempDir(`promgate-prom${opts.version}-`);
  const dataDir = opts.dataDir ?? join(configDir, 'data');
  await mkdir(dataDir, { recursive: true });
  const configFile = join(configDir, 'prometheus.yml');
  const config = opts.config ?? DEFAULT_CONFIG;
  await writeFile(configFile, typeof config === 'string' ? config : stringify(config));
  for (const [name, text] of Object.entries(opts.files ?? {})) {
    await writeFile(join(configDir, name), text);
  }
  const features = opts.version === 3 ? (opts.features ?? PROMETHEUS3_FEATURES) : [];

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const args = [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${dataDir}`,
      `--storage.tsdb.retention.time=${TEST_RETENTION}`,
      `--web.listen-address=127.0.0.1:${port}`,
      ...(features.length ? [`--enable-feature=${features.join(',')}`] : []),
      ...(opts.extraArgs ?? []),
    ];
    let proc: ManagedProcess;
    try {
      proc = await startProcess({
        name: `prometheus-${bins.version}`,
        command: bins.prometheus,
        args,
        cwd: configDir,
        readyUrl: `${url}/-/ready`,
        readyTimeoutMs: opts.readyTimeoutMs ?? 30_000,
      });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (attempt < 3 && /address already in use/.test(msg)) continue;
      removeDir(configDir);
      throw err;
    }
    let stopped: Promise<void> | undefined;
    return {
      version: opts.version,
      versionString: bins.version,
      binaries: bins,
      url,
      port,
      dataDir,
      configDir,
      process: proc,
      api: (path, params, reqOpts) => prometheusApi(url, path, params, reqOpts),
      stop: () =>
        (stopped ??= (async () => {
          await proc.stop();
          // An owned data dir lives inside configDir; a caller's dataDir stays theirs.
          removeDir(configDir);
        })()),
    };
  }
}

export interface BackfillOptions {
  /** Which promtool to use (blocks are readable by both; use the server's own). */
  readonly version: 2 | 3;
  /** The TSDB directory of a STOPPED (or not yet started) server. */
  readonly dataDir: string;
  /**
   * OpenMetrics text: timestamps in seconds, samples ascending per series, ending `# EOF`
   * (see src/demo/data.ts's openMetrics / openMetricsChunks).
   */
  readonly openMetrics: string | Iterable<string>;
}

/**
 * Writes blocks with `promtool tsdb create-blocks-from openmetrics` into `dataDir`. Only for
 * past windows and a stopped server (REFERENCE §8); returns promtool's block table.
 *
 * @example
 * ```ts
 * const dir = makeTempDir('promgate-tsdb-');
 * await backfill({ version: 2, dataDir: dir, openMetrics: openMetrics({ ...DEMO_WINDOW }) });
 * const prom = await startPrometheus({ version: 2, dataDir: dir });
 * ```
 */
export async function backfill(opts: BackfillOptions): Promise<string> {
  const bins = prometheusBinaries()[opts.version === 2 ? 'v2' : 'v3'];
  const work = makeTempDir('promgate-backfill-');
  try {
    const file = join(work, 'data.om');
    const out = createWriteStream(file);
    const chunks = typeof opts.openMetrics === 'string' ? [opts.openMetrics] : opts.openMetrics;
    for (const chunk of chunks) {
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    await mkdir(opts.dataDir, { recursive: true });
    const { stdout } = await run(bins.promtool, [
      'tsdb',
      'create-blocks-from',
      'openmetrics',
      file,
      opts.dataDir,
    ]);
    return stdout;
  } finally {
    removeDir(work);
  }
}

export interface StartDemoPrometheusOptions extends Omit<StartPrometheusOptions, 'dataDir'> {
  /** Which series to hold: 'all' (default) or exactly those whose `namespace` is in the set. */
  readonly namespaces?: NamespaceSelection;
  /** Backfilled window (default DEMO_WINDOW: 3 h of 2024-01-01, one sample a minute). */
  readonly window?: Omit<OpenMetricsOptions, 'namespaces'>;
}

/**
 * Backfills the demo data (src/demo/data.ts) for `namespaces` into a fresh TSDB and starts
 * Prometheus on it: one half of the differential oracle. Takes about a second.
 */
export async function startDemoPrometheus(
  opts: StartDemoPrometheusOptions,
): Promise<PrometheusServer> {
  const dataDir = makeTempDir(`promgate-tsdb${opts.version}-`);
  try {
    await backfill({
      version: opts.version,
      dataDir,
      openMetrics: openMetricsChunks({
        ...(opts.window ?? DEMO_WINDOW),
        namespaces: opts.namespaces ?? 'all',
      }),
    });
    const server = await startPrometheus({ ...opts, dataDir });
    return {
      ...server,
      stop: async () => {
        await server.stop();
        removeDir(dataDir);
      },
    };
  } catch (err) {
    removeDir(dataDir);
    throw err;
  }
}
