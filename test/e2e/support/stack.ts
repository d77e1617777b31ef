/**
 * The end-to-end stack of promgate's differential oracle (DESIGN.md "Testing strategy"):
 * one Prometheus with the whole demo cluster, one per tenant with only that tenant's
 * namespaces (backfilled from src/demo/data.ts and, for `/federate`, scraping the same
 * frozen-clock demo exporter filtered to those namespaces), a recording proxy in front of the
 * full server, and promgate — in-process, static tokens — in front of the recorder.
 *
 * Callers: tenant A (two namespaces), tenant B (one) and a cluster-wide operator. For any
 * request R, `promgate(R as T)` must equal R sent directly to `stack.direct(T)`.
 *
 * @example
 * ```ts
 * let stack: OracleStack;
 * before(async () => { stack = await startOracleStack({ version: 3 }); });
 * after(() => stack?.stop());
 * test('…', async () => {
 *   const viaPromgate = await stack.call(TENANT_A, '/api/v1/query', { query: 'up', time: DEMO_EVAL_TIME });
 *   const direct = await stack.direct(TENANT_A).api('/api/v1/query', { query: 'up', time: DEMO_EVAL_TIME });
 * });
 * ```
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildConfig, startPromgate, type Promgate } from '../../../src/server.js';
import {
  makeTempDir,
  prometheusApi,
  removeDir,
  startDemoExporter,
  startDemoPrometheus,
  waitFor,
  type ApiRequestOptions,
  type ApiResult,
  type DemoExporter,
  type Params,
  type PrometheusServer,
} from '../../support/index.js';
import { startRecorder, type Recorder } from './recorder.js';

/** A caller of promgate: a static token with a namespace list, or cluster-wide. */
export interface Caller {
  readonly name: string;
  readonly token: string;
  /** Sorted; 'all' for a cluster-wide caller. */
  readonly namespaces: readonly string[] | 'all';
}

export const TENANT_A: Caller = Object.freeze({
  name: 'team-a',
  token: 'e2e-token-team-a',
  namespaces: Object.freeze(['team-a-dev', 'team-a-prod']),
});
export const TENANT_B: Caller = Object.freeze({
  name: 'team-b',
  token: 'e2e-token-team-b',
  namespaces: Object.freeze(['team-b']),
});
export const OPERATOR: Caller = Object.freeze({
  name: 'ops',
  token: 'e2e-token-ops',
  namespaces: 'all',
});
export const CALLERS: readonly Caller[] = Object.freeze([TENANT_A, TENANT_B, OPERATOR]);

/** The `authorization` header of a caller. */
export const bearer = (c: Caller): Record<string, string> => ({
  authorization: `Bearer ${c.token}`,
});

/** The tokens file (YAML) for these callers, as src/auth/static.ts reads it. */
export function tokensFileText(callers: readonly Caller[]): string {
  return stringify({
    tokens: callers.map((c) =>
      c.namespaces === 'all'
        ? { name: c.name, token: c.token, clusterWide: true }
        : { name: c.name, token: c.token, namespaces: [...c.namespaces] },
    ),
  });
}

export interface PromgateOptions {
  readonly upstream: string;
  /** The upstream's major: 3 enables experimental functions (the 3.x test servers run with them). */
  readonly version: 2 | 3;
  readonly callers?: readonly Caller[];
  /** More promgate flags, appended last. */
  readonly extraArgs?: readonly string[];
}

export interface PromgateUnderTest {
  readonly promgate: Promgate;
  /** Tenant listener, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts promgate in-process on 127.0.0.1:0 with `--auth static`. Policy: the defaults, plus
 * experimental functions in front of 3.x (whose test servers enable them) and
 * `--promql-upstream-major 2` in front of 2.x (so 2.x's `holt_winters` is accepted).
 */
export async function startPromgateFor(opts: PromgateOptions): Promise<PromgateUnderTest> {
  const dir = makeTempDir('promgate-e2e-tokens-');
  const tokensFile = join(dir, 'tokens.yaml');
  await writeFile(tokensFile, tokensFileText(opts.callers ?? CALLERS));
  const config = buildConfig([
    `--upstream=${opts.upstream}`,
    '--auth=static',
    `--tokens-file=${tokensFile}`,
    '--listen=127.0.0.1:0',
    '--metrics-listen=127.0.0.1:0',
    '--log-level=warn',
    `--promql-upstream-major=${opts.version}`,
    `--promql-experimental-functions=${opts.version === 3 ? 'true' : 'false'}`,
    ...(opts.extraArgs ?? []),
  ]);
  let promgate: Promgate;
  try {
    promgate = await startPromgate(config);
  } catch (e) {
    removeDir(dir);
    throw e;
  }
  let stopped: Promise<void> | undefined;
  return {
    promgate,
    url: promgate.url,
    stop: () =>
      (stopped ??= (async () => {
        await promgate.close();
        removeDir(dir);
      })()),
  };
}

export interface OracleStackOptions {
  readonly version: 2 | 3;
  /** Tenants with their own tenant-only server (default: A and B). */
  readonly tenants?: readonly Caller[];
  /** Rule files given to every server (file name → YAML); named in `rule_files`. */
  readonly ruleFiles?: Readonly<Record<string, string>>;
}

export interface OracleStack {
  readonly version: 2 | 3;
  readonly exporter: DemoExporter;
  /** The whole cluster; promgate's upstream (through the recorder). */
  readonly full: PrometheusServer;
  readonly recorder: Recorder;
  readonly gate: PromgateUnderTest;
  /** The server a direct request stands for `caller`: its tenant-only server, or the full one. */
  direct(caller: Caller): PrometheusServer;
  /** A Prometheus API call to promgate as `caller` (GET unless `opts.method`). */
  call<T = unknown>(
    caller: Caller,
    path: string,
    params?: Params,
    opts?: ApiRequestOptions,
  ): Promise<ApiResult<T>>;
  /**
   * Waits until every server has ingested the exporter's first scrape (its demo series are
   * federated in full), so that `/federate` comparisons see settled data.
   */
  waitLive(): Promise<void>;
  stop(): Promise<void>;
}

/** The name of the exporter's scrape job on every server of a stack. */
export const DEMO_JOB = 'demo-exporter';

function prometheusConfig(
  exporter: DemoExporter,
  namespaces: readonly string[] | 'all',
  ruleFiles: readonly string[],
): Record<string, unknown> {
  return {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    ...(ruleFiles.length ? { rule_files: [...ruleFiles] } : {}),
    scrape_configs: [
      exporter.scrapeConfig({
        jobName: DEMO_JOB,
        ...(namespaces === 'all' ? {} : { namespaces }),
      }),
    ],
  };
}

/**
 * Starts the exporter, the full and tenant-only servers (in parallel), the recorder and
 * promgate. Everything started is stopped again if any part fails to start.
 */
export async function startOracleStack(opts: OracleStackOptions): Promise<OracleStack> {
  const { version } = opts;
  const tenants = opts.tenants ?? [TENANT_A, TENANT_B];
  const files = opts.ruleFiles ?? {};
  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(stoppers.splice(0).map((s) => s()));
  };
  try {
    const exporter = await startDemoExporter();
    stoppers.push(() => exporter.stop());
    const start = (namespaces: readonly string[] | 'all'): Promise<PrometheusServer> =>
      startDemoPrometheus({
        version,
        namespaces,
        files,
        config: prometheusConfig(exporter, namespaces, Object.keys(files)),
      }).then((p) => {
        stoppers.push(() => p.stop());
        return p;
      });
    const started = await Promise.allSettled([
      start('all'),
      ...tenants.map((t) => start(t.namespaces)),
    ]);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const servers = started.map((s) => (s as PromiseFulfilledResult<PrometheusServer>).value);
    const full = servers[0] as PrometheusServer;
    const byTenant = new Map<string, PrometheusServer>(
      tenants.map((t, i) => [t.name, servers[i + 1] as PrometheusServer]),
    );
    const recorder = await startRecorder(full.url);
    stoppers.push(() => recorder.stop());
    const gate = await startPromgateFor({ upstream: recorder.url, version });
    // promgate first: it holds connections to the recorder.
    stoppers.unshift(() => gate.stop());

    const direct = (caller: Caller): PrometheusServer => {
      if (caller.namespaces === 'all') return full;
      const s = byTenant.get(caller.name);
      if (!s) throw new Error(`no tenant-only server for ${caller.name}`);
      return s;
    };
    const liveCount = (namespaces: readonly string[] | 'all'): number =>
      exporter
        .body(namespaces === 'all' ? undefined : namespaces)
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#')).length;
    return {
      version,
      exporter,
      full,
      recorder,
      gate,
      direct,
      call: (caller, path, params, reqOpts) =>
        prometheusApi(gate.url, path, params, {
          ...reqOpts,
          headers: { ...bearer(caller), ...reqOpts?.headers },
        }),
      waitLive: async () => {
        await Promise.all(
          [
            { namespaces: 'all' as const, server: full },
            ...tenants.map((t) => ({ namespaces: t.namespaces, server: direct(t) })),
          ].map(({ namespaces, server }) =>
            waitFor(
              `${server.versionString} on ${server.url} to ingest the demo exporter`,
              async () => {
                const res = await fetch(
                  `${server.url}/federate?match[]=${encodeURIComponent(`{job!="${DEMO_JOB}"}`)}`,
                  { signal: AbortSignal.timeout(10_000) },
                );
                const text = await res.text();
                const n = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
                return n >= liveCount(namespaces) ? true : undefined;
              },
              { timeoutMs: 30_000, intervalMs: 250 },
            ),
          ),
        );
      },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
