/**
 * Benchmark of the proxy itself (issue 3). Prints figures; asserts nothing.
 *
 * 1. Throughput and latency, directly against Prometheus 3.x (demo data) and through
 *    promgate as a scoped tenant, same machine, same run, alternating rounds:
 *    - trivial:   `vector(1)` (instant);
 *    - realistic: `count by (namespace) (kube_pod_info)`-class aggregations (instant);
 *    - range:     a `query_range` over the last 2 h of the demo data, step 60 s.
 *    Direct requests send the query promgate would send (already enforced), so Prometheus
 *    does the same work both ways and the difference is promgate's.
 *    Reported: requests/s (median of rounds), p50 and p99 latency, ratios, added median.
 * 2. Peak RSS of the promgate process while streaming /federate and /api/v1/query_range
 *    answers of 1 MB to 200 MB from a synthetic upstream (flat = streaming works).
 *
 * promgate runs as its own process (`node dist/main.js`, default info logging to a discarded
 * stdout); Prometheus, promgate and this load generator share the machine.
 *
 * Run: npm run bench:proxy   (builds, then node --expose-gc .build/bench/proxy.js)
 * Options (environment): BENCH_SECONDS (per round, default 4), BENCH_ROUNDS (default 3),
 * BENCH_CONCURRENCY (default 8).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Pool } from 'undici';
import { DEMO_EVAL_TIME, DEMO_RANGE } from '../src/demo/data.js';
import { DEFAULT_POLICY, enforceQuery } from '../src/promql/index.js';
import { freePort } from '../test/support/net.js';
import { startDemoPrometheus, type PrometheusServer } from '../test/support/prometheus.js';
import { makeTempDir, removeDir } from '../test/support/tmp.js';
import { repoRoot } from '../test/support/binaries.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 4);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 8);
const TOKEN = 'bench-token-team-a-0123456789';
const NAMESPACES = ['team-a-dev', 'team-a-prod'];
const TARGET = { label: 'namespace', values: NAMESPACES };

interface Scenario {
  readonly name: string;
  readonly path: string;
  readonly params: Record<string, string>;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'trivial   vector(1)',
    path: '/api/v1/query',
    params: { query: 'vector(1)', time: String(DEMO_EVAL_TIME) },
  },
  {
    name: 'realistic count by (namespace) (kube_pod_info) + rate aggregation',
    path: '/api/v1/query',
    params: {
      query:
        'count by (namespace) (kube_pod_info) * on (namespace) group_left sum by (namespace) (rate(container_cpu_usage_seconds_total[30m]))',
      time: String(DEMO_EVAL_TIME),
    },
  },
  {
    name: 'range     sum by (pod) (rate(container_cpu_usage_seconds_total[5m])), 2 h, step 60 s',
    path: '/api/v1/query_range',
    params: {
      query: 'sum by (pod) (rate(container_cpu_usage_seconds_total[5m]))',
      start: String(DEMO_RANGE.start),
      end: String(DEMO_RANGE.end),
      step: String(DEMO_RANGE.step),
    },
  },
];

interface RoundResult {
  readonly rps: number;
  readonly latenciesMs: number[];
  readonly errors: number;
}

async function round(
  origin: string,
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<RoundResult> {
  const pool = new Pool(origin, { connections: CONCURRENCY, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const started = performance.now();
      try {
        const res = await pool.request({
          path,
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body,
        });
        await res.body.arrayBuffer();
        if (res.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  return { rps: latencies.length / elapsed, latenciesMs: latencies, errors };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? (s[(s.length - 1) / 2] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}

interface Summary {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

function summarise(rounds: RoundResult[]): Summary {
  const all = rounds.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  return {
    rps: median(rounds.map((r) => r.rps)),
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
  };
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`promgate exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`promgate not ready at ${url}`);
}

interface Promgate {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

async function startPromgate(upstream: string, dir: string): Promise<Promgate> {
  const main = join(repoRoot(), 'dist', 'main.js');
  if (!existsSync(main))
    throw new Error(`${main} is missing: run npm run build first (npm run bench:proxy does)`);
  const tokens = join(dir, 'tokens.yaml');
  writeFileSync(
    tokens,
    `tokens:\n  - name: team-a\n    token: "${TOKEN}"\n    namespaces: [${NAMESPACES.join(', ')}]\n`,
  );
  const [port, metricsPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      main,
      '--upstream',
      upstream,
      '--tokens-file',
      tokens,
      '--listen',
      `127.0.0.1:${port}`,
      '--metrics-listen',
      `127.0.0.1:${metricsPort}`,
      '--max-concurrent-per-identity',
      '0',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitReady(`http://127.0.0.1:${metricsPort}/readyz`, child);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

const fmt = (n: number, digits = 1): string => n.toFixed(digits);

/** Added latency of one request at a time (no queueing): alternating direct and promgate. */
async function sequential(prom: PrometheusServer, promgate: Promgate): Promise<void> {
  const s = SCENARIOS[0] as Scenario;
  const enforced = {
    ...s.params,
    query: enforceQuery(s.params['query'] as string, TARGET, DEFAULT_POLICY),
  };
  const direct = new Pool(prom.url, { connections: 1 });
  const proxied = new Pool(promgate.url, { connections: 1 });
  const times: [number[], number[]] = [[], []];
  const once = async (
    pool: Pool,
    body: string,
    headers: Record<string, string>,
  ): Promise<number> => {
    const started = performance.now();
    const res = await pool.request({
      path: s.path,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    });
    await res.body.arrayBuffer();
    return performance.now() - started;
  };
  const directBody = new URLSearchParams(enforced).toString();
  const proxyBody = new URLSearchParams(s.params).toString();
  for (let i = 0; i < 2000; i++) {
    const d = await once(direct, directBody, {});
    const p = await once(proxied, proxyBody, { authorization: `Bearer ${TOKEN}` });
    if (i >= 200) {
      times[0].push(d);
      times[1].push(p);
    }
  }
  await Promise.all([direct.close(), proxied.close()]);
  const [d, p] = times.map((t) => [...t].sort((a, b) => a - b)) as [number[], number[]];
  console.log(
    `\n## Latency one request at a time (${s.name.trim()}, 1,800 each way, alternating)\n`,
  );
  console.log(`direct p50 ${fmt(percentile(d, 50), 3)} ms, p99 ${fmt(percentile(d, 99), 3)} ms`);
  console.log(`promgate p50 ${fmt(percentile(p, 50), 3)} ms, p99 ${fmt(percentile(p, 99), 3)} ms`);
  console.log(`added median latency: ${fmt(percentile(p, 50) - percentile(d, 50), 3)} ms`);
}

async function throughput(prom: PrometheusServer, promgate: Promgate): Promise<void> {
  console.log(
    `\n## Throughput and latency (${ROUNDS} alternating rounds of ${SECONDS}s each way, ${CONCURRENCY} concurrent clients)\n`,
  );
  console.log(
    '| scenario | direct req/s | promgate req/s | ratio | direct p50 / p99 ms | promgate p50 / p99 ms | added p50 ms | errors |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const s of SCENARIOS) {
    const enforced = {
      ...s.params,
      query: enforceQuery(s.params['query'] as string, TARGET, DEFAULT_POLICY),
    };
    const directBody = new URLSearchParams(enforced).toString();
    const proxyBody = new URLSearchParams(s.params).toString();
    // Warm both paths (connections, parse caches, Prometheus' page cache).
    await round(prom.url, s.path, directBody, {});
    await round(promgate.url, s.path, proxyBody, { authorization: `Bearer ${TOKEN}` });
    const direct: RoundResult[] = [];
    const proxied: RoundResult[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      direct.push(await round(prom.url, s.path, directBody, {}));
      proxied.push(
        await round(promgate.url, s.path, proxyBody, { authorization: `Bearer ${TOKEN}` }),
      );
    }
    const d = summarise(direct);
    const p = summarise(proxied);
    console.log(
      `| ${s.name} | ${fmt(d.rps, 0)} | ${fmt(p.rps, 0)} | ${fmt((100 * p.rps) / d.rps, 0)} % | ${fmt(d.p50, 2)} / ${fmt(d.p99, 2)} | ${fmt(p.p50, 2)} / ${fmt(p.p99, 2)} | ${fmt(p.p50 - d.p50, 2)} | ${d.errors} / ${p.errors} |`,
    );
  }
}

/** A synthetic upstream that answers federate and query_range with `size` bytes. */
async function syntheticUpstream(): Promise<{
  url: string;
  server: Server;
  setSize(n: number): void;
}> {
  let size = 0;
  const line = Buffer.from(
    'container_memory_working_set_bytes{namespace="team-a-dev",pod="api-0",container="app",instance="10.0.0.1:8080"} 1.2345e+08 1704076230000\n',
  );
  const server = createServer((req, res) => {
    if (!req.url?.startsWith('/federate') && !req.url?.startsWith('/api/v1/query_range')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"success","data":{}}');
      return;
    }
    req.resume();
    const json = req.url.startsWith('/api');
    res.writeHead(200, {
      'content-type': json ? 'application/json' : 'text/plain; version=0.0.4; charset=utf-8',
    });
    const chunk = Buffer.concat(Array.from({ length: 512 }, () => line));
    let sent = 0;
    const pump = (): void => {
      while (sent < size) {
        const piece = size - sent >= chunk.length ? chunk : chunk.subarray(0, size - sent);
        sent += piece.length;
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    setSize: (n) => (size = n),
  };
}

async function memory(dir: string): Promise<void> {
  const upstream = await syntheticUpstream();
  const promgate = await startPromgate(upstream.url, dir);
  try {
    const sizes = [1, 10, 50, 100, 200];
    console.log('\n## Peak RSS of promgate while streaming (synthetic upstream)\n');
    console.log(`idle RSS after start: ${fmt(rssMiB(promgate.pid))} MiB`);
    // One warm-up stream: buffers and compiled code reach their steady state first.
    upstream.setSize(20_000_000);
    const warm = await fetch(`${promgate.url}/federate?match[]=up`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    for await (const _ of warm.body as unknown as AsyncIterable<Uint8Array>) void _;
    console.log(`RSS after a 20 MB warm-up stream: ${fmt(rssMiB(promgate.pid))} MiB\n`);
    console.log('| endpoint | body MB | MB/s | peak RSS MiB |');
    console.log('|---|---|---|---|');
    const peaks: number[] = [];
    for (const [name, path] of [
      ['/federate', '/federate?match[]=container_memory_working_set_bytes'],
      [
        '/api/v1/query_range',
        `/api/v1/query_range?query=container_memory_working_set_bytes&start=1&end=2&step=1`,
      ],
    ] as const) {
      for (const mb of sizes) {
        upstream.setSize(mb * 1_000_000);
        let peak = rssMiB(promgate.pid);
        const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(promgate.pid))), 10);
        const started = performance.now();
        const res = await fetch(promgate.url + path, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        let received = 0;
        for await (const c of res.body as unknown as AsyncIterable<Uint8Array>)
          received += c.length;
        const seconds = (performance.now() - started) / 1000;
        clearInterval(sampler);
        peak = Math.max(peak, rssMiB(promgate.pid));
        peaks.push(peak);
        if (res.status !== 200 || received !== mb * 1_000_000)
          throw new Error(`${name} ${mb} MB: status ${res.status}, ${received} bytes`);
        console.log(`| ${name} | ${mb} | ${fmt(mb / seconds, 0)} | ${fmt(peak)} |`);
      }
    }
    const mid = median(peaks);
    const deviation = Math.max(...peaks.map((x) => Math.abs(x - mid)));
    console.log(
      `\npeak RSS across body sizes: median ${fmt(mid)} MiB, largest deviation ${fmt(deviation)} MiB ` +
        `(min ${fmt(Math.min(...peaks))}, max ${fmt(Math.max(...peaks))}); target: flat within ±20 MiB`,
    );
  } finally {
    await promgate.stop();
    upstream.server.closeAllConnections();
    upstream.server.close();
  }
}

async function main(): Promise<void> {
  const dir = makeTempDir('promgate-bench-');
  let prom: PrometheusServer | undefined;
  let promgate: Promgate | undefined;
  try {
    console.log(
      `# promgate proxy benchmark (node ${process.version}, ${new Date().toISOString()})`,
    );
    prom = await startDemoPrometheus({ version: 3 });
    console.log(
      `Prometheus ${prom.versionString} at ${prom.url} with the demo data; tenant scope ${NAMESPACES.join(', ')}`,
    );
    promgate = await startPromgate(prom.url, dir);
    await sequential(prom, promgate);
    await throughput(prom, promgate);
    await promgate.stop();
    promgate = undefined;
    await memory(dir);
    console.log(
      '\nTargets (issue 3): realistic ≥ 90 % of direct, trivial ≥ 50 %, added p50 ≤ 0.5 ms, peak RSS flat (±20 MiB).',
    );
  } finally {
    await promgate?.stop();
    await prom?.stop();
    removeDir(dir);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
