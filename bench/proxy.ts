/**
 * Benchmark of the proxy itself (issue 3). Prints figures; asserts nothing.
 *
 * 1. Added latency, one request at a time: direct to Prometheus and through promgate,
 *    alternating rounds on one keep-alive connection each (`wrk -c1`).
 * 2. Throughput and latency under load, direct and through promgate as a scoped tenant,
 *    same machine, same run, alternating rounds, reported as ratios:
 *    - trivial:   `vector(1)` (instant);
 *    - realistic: `count by (namespace) (kube_pod_info)` (instant), a few ms of Prometheus
 *                 work on the data set below;
 *    - range:     `sum by (namespace) (rate(container_cpu_usage_seconds_total[5m]))` over
 *                 30 min, step 60 s.
 *    Direct requests send the query promgate would send (already enforced), so Prometheus
 *    does the same work both ways and the difference is promgate's. Also printed: the CPU
 *    time promgate and Prometheus spend per request (from /proc), which is what the ratio
 *    is made of on a machine whose cores all three programs share.
 *    For the trivial query a bare reference proxy runs too (node:http in, one undici pool
 *    out, nothing else): the floor any Node proxy pays on this machine, so that promgate's
 *    own share of the gap can be told from the platform's.
 * 3. Peak RSS of the promgate process while streaming /federate and /api/v1/query_range
 *    answers of 1 MB to 200 MB from a synthetic upstream (flat = streaming works).
 *
 * Data: the demo data set (src/demo/data.ts) is too small for the realistic query (under a
 * millisecond in Prometheus), so this script generates its own: 8 namespaces of
 * BENCH_PODS pods each (kube_pod_info, and CPU and memory series of two containers per pod),
 * 1 h at one sample a minute, backfilled into a temporary TSDB for Prometheus 3.x.
 *
 * Load generator: wrk (one thread), not a Node client. All three programs share the
 * machine's two cores, and wrk spends a fraction of the CPU per request that an undici
 * client does, so more of the machine is left to what is measured (a Node generator made
 * direct `vector(1)` look half as fast as it is, flattering the ratio).
 *
 * promgate runs as its own process (`node dist/main.js`, default info logging to a
 * discarded stdout).
 *
 * Run: npm run bench:proxy   (builds, then node --expose-gc .build/bench/proxy.js)
 * Options (environment): BENCH_SECONDS (per round, default 5), BENCH_ROUNDS (default 3),
 * BENCH_CONCURRENCY (connections, default 8), BENCH_PODS (pods per namespace, default 300),
 * BENCH_PROMGATE (path of the promgate main.js to measure, default dist/main.js),
 * BENCH_REFERENCE=0 (skip the reference proxy), BENCH_RSS=0 (skip the RSS part).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_POLICY, enforceQuery } from '../src/promql/index.js';
import { freePort } from '../test/support/net.js';
import { backfill, startPrometheus, type PrometheusServer } from '../test/support/prometheus.js';
import { makeTempDir, removeDir } from '../test/support/tmp.js';
import { repoRoot } from '../test/support/binaries.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 8);
const PODS = Number(process.env['BENCH_PODS'] ?? 300);
const MAIN = process.env['BENCH_PROMGATE'] ?? join(repoRoot(), 'dist', 'main.js');
const TOKEN = 'bench-token-team-a-0123456789';
const NAMESPACES = ['team-a-dev', 'team-a-prod'];
const OTHER_NAMESPACES = ['team-b', 'kube-system', 'monitoring', 'team-c', 'team-d', 'team-e'];
const TARGET = { label: 'namespace', values: NAMESPACES };

/** The generated window: 1 h of 2024-01-01, one sample a minute. */
const START = 1_704_067_200;
const END = START + 3600;
const STEP = 60;
const EVAL_TIME = END - 30;

interface Scenario {
  readonly name: string;
  readonly path: string;
  readonly params: Record<string, string>;
}

const TRIVIAL: Scenario = {
  name: 'trivial    vector(1)',
  path: '/api/v1/query',
  params: { query: 'vector(1)', time: String(EVAL_TIME) },
};
const REALISTIC: Scenario = {
  name: 'realistic  count by (namespace) (kube_pod_info)',
  path: '/api/v1/query',
  params: { query: 'count by (namespace) (kube_pod_info)', time: String(EVAL_TIME) },
};
const RANGE: Scenario = {
  name: 'range      sum by (namespace) (rate(container_cpu_usage_seconds_total[5m])), 30 min, step 60 s',
  path: '/api/v1/query_range',
  params: {
    query: 'sum by (namespace) (rate(container_cpu_usage_seconds_total[5m]))',
    start: String(END - 1800),
    end: String(END),
    step: String(STEP),
  },
};
const SCENARIOS = [TRIVIAL, REALISTIC, RANGE];

// ---------------------------------------------------------------------------------------
// Data

/** OpenMetrics text (one chunk per series) for `promtool tsdb create-blocks-from openmetrics`. */
function* benchData(podsPerNamespace: number): Generator<string> {
  const pods: { ns: string; pod: string; node: string }[] = [];
  for (const ns of [...NAMESPACES, ...OTHER_NAMESPACES]) {
    for (let i = 0; i < podsPerNamespace; i++) {
      const hash = ((i + 1) * 2654435761) >>> 0;
      pods.push({ ns, pod: `app-${i % 40}-${hash.toString(36)}`, node: `node-${i % 20}` });
    }
  }
  const times: number[] = [];
  for (let t = START; t <= END; t += STEP) times.push(t);
  yield '# HELP kube_pod_info Information about pod.\n# TYPE kube_pod_info gauge\n';
  for (const p of pods) {
    const series =
      `kube_pod_info{namespace="${p.ns}",pod="${p.pod}",node="${p.node}",created_by_kind="ReplicaSet",` +
      `created_by_name="${p.pod.slice(0, 6)}",host_ip="10.0.0.1",pod_ip="10.1.0.1",uid="${p.pod}-uid"}`;
    yield times.map((t) => `${series} 1 ${t}\n`).join('');
  }
  yield '# HELP container_cpu_usage_seconds Cumulative CPU time.\n# TYPE container_cpu_usage_seconds counter\n';
  for (const p of pods) {
    for (const c of ['app', 'sidecar']) {
      const series = `container_cpu_usage_seconds_total{namespace="${p.ns}",pod="${p.pod}",container="${c}",node="${p.node}",image="registry.example/app:1.2.3"}`;
      let v = 0;
      yield times.map((t, i) => `${series} ${(v += 3 + (i % 7) / 10).toFixed(1)} ${t}\n`).join('');
    }
  }
  yield '# HELP container_memory_working_set_bytes Working set.\n# TYPE container_memory_working_set_bytes gauge\n';
  for (const p of pods) {
    for (const c of ['app', 'sidecar']) {
      const series = `container_memory_working_set_bytes{namespace="${p.ns}",pod="${p.pod}",container="${c}",node="${p.node}",image="registry.example/app:1.2.3"}`;
      yield times.map((t, i) => `${series} ${100_000_000 + i * 4096} ${t}\n`).join('');
    }
  }
  yield '# EOF\n';
}

async function startBenchPrometheus(dir: string): Promise<PrometheusServer> {
  const dataDir = join(dir, 'tsdb');
  await backfill({ version: 3, dataDir, openMetrics: benchData(PODS) });
  return startPrometheus({ version: 3, dataDir });
}

// ---------------------------------------------------------------------------------------
// Load generation (wrk)

const WRK_SCRIPT = `
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local token = os.getenv("BENCH_WRK_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
wrk.body = os.getenv("BENCH_WRK_BODY")
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
`;

interface RoundResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** CPU ms per request of promgate and Prometheus during the round. */
  readonly promgateCpu: number;
  readonly prometheusCpu: number;
}

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function wrk(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`wrk ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

interface Pids {
  readonly promgate: number;
  readonly prometheus: number;
}

async function round(
  script: string,
  url: string,
  body: string,
  token: string,
  connections: number,
  seconds: number,
  pids: Pids,
): Promise<RoundResult> {
  const before = [cpuMs(pids.promgate), cpuMs(pids.prometheus)];
  const out = await wrk(
    ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, url],
    { BENCH_WRK_BODY: body, BENCH_WRK_TOKEN: token },
  );
  const after = [cpuMs(pids.promgate), cpuMs(pids.prometheus)];
  const m = /^RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$/m.exec(out);
  if (!m) throw new Error(`unexpected wrk output:\n${out}`);
  const [requests, durationUs, p50, p99, status, socket] = m.slice(1).map(Number) as number[];
  const n = Math.max(1, requests as number);
  return {
    requests: requests as number,
    rps: (requests as number) / ((durationUs as number) / 1e6),
    p50: (p50 as number) / 1000,
    p99: (p99 as number) / 1000,
    errors: (status as number) + (socket as number),
    promgateCpu: ((after[0] as number) - (before[0] as number)) / n,
    prometheusCpu: ((after[1] as number) - (before[1] as number)) / n,
  };
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
  promgateCpu: number;
  prometheusCpu: number;
}

/** Medians over rounds (each round's own percentiles). */
function summarise(rounds: RoundResult[]): Summary {
  return {
    rps: median(rounds.map((r) => r.rps)),
    p50: median(rounds.map((r) => r.p50)),
    p99: median(rounds.map((r) => r.p99)),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    promgateCpu: median(rounds.map((r) => r.promgateCpu)),
    prometheusCpu: median(rounds.map((r) => r.prometheusCpu)),
  };
}

const fmt = (n: number, digits = 1): string => n.toFixed(digits);
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

interface Bodies {
  readonly direct: string;
  readonly proxied: string;
}

function bodies(s: Scenario): Bodies {
  const enforced = {
    ...s.params,
    query: enforceQuery(s.params['query'] as string, TARGET, DEFAULT_POLICY),
  };
  return {
    direct: new URLSearchParams(enforced).toString(),
    proxied: new URLSearchParams(s.params).toString(),
  };
}

/**
 * Direct and through promgate (and through the bare reference proxy, when given),
 * alternating, after one warm-up round each; returns [direct, promgate, reference?].
 */
async function alternate(
  script: string,
  prom: PrometheusServer,
  promgate: Proxy,
  reference: Proxy | undefined,
  s: Scenario,
  connections: number,
  seconds: number,
): Promise<[Summary, Summary, Summary | undefined]> {
  const b = bodies(s);
  const run = (url: string, body: string, token: string, pid: number): Promise<RoundResult> =>
    round(script, url + s.path, body, token, connections, seconds, {
      promgate: pid,
      prometheus: prom.process.pid,
    });
  const direct = (): Promise<RoundResult> => run(prom.url, b.direct, '', promgate.pid);
  const proxied = (): Promise<RoundResult> => run(promgate.url, b.proxied, TOKEN, promgate.pid);
  // The reference proxy enforces nothing: it is sent the enforced query, like Prometheus.
  const bare = (r: Proxy): Promise<RoundResult> => run(r.url, b.direct, '', r.pid);
  await direct();
  await proxied();
  if (reference) await bare(reference);
  const d: RoundResult[] = [];
  const p: RoundResult[] = [];
  const r: RoundResult[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    d.push(await direct());
    p.push(await proxied());
    if (reference) r.push(await bare(reference));
  }
  return [summarise(d), summarise(p), reference ? summarise(r) : undefined];
}

async function sequential(
  script: string,
  prom: PrometheusServer,
  promgate: Proxy,
  reference: Proxy | undefined,
) {
  console.log(
    `\n## Added latency, one request at a time (wrk -c1, ${ROUNDS} alternating rounds of ${SECONDS}s each way)\n`,
  );
  console.log('| scenario | direct p50 / p99 ms | proxied p50 / p99 ms | added p50 ms | errors |');
  console.log('|---|---|---|---|---|');
  for (const s of [TRIVIAL, REALISTIC]) {
    const ref = s === TRIVIAL ? reference : undefined;
    const [d, p, r] = await alternate(script, prom, promgate, ref, s, 1, SECONDS);
    console.log(
      `| ${s.name} | ${fmt(d.p50, 3)} / ${fmt(d.p99, 3)} | ${fmt(p.p50, 3)} / ${fmt(p.p99, 3)} | ${fmt(p.p50 - d.p50, 3)} | ${d.errors} / ${p.errors} |`,
    );
    if (r) {
      console.log(
        `| ${s.name} — bare reference proxy | | ${fmt(r.p50, 3)} / ${fmt(r.p99, 3)} | ${fmt(r.p50 - d.p50, 3)} | ${r.errors} |`,
      );
    }
  }
}

async function throughput(
  script: string,
  prom: PrometheusServer,
  promgate: Proxy,
  reference: Proxy | undefined,
) {
  console.log(
    `\n## Throughput and latency (${ROUNDS} alternating rounds of ${SECONDS}s each way, wrk -t1 -c${CONCURRENCY}; medians of rounds)\n`,
  );
  console.log(
    '| scenario | direct req/s | proxied req/s | ratio | direct p50 / p99 ms | proxied p50 / p99 ms | proxy CPU ms/req | Prometheus CPU ms/req (direct / proxied) | errors |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const s of SCENARIOS) {
    const ref = s === TRIVIAL ? reference : undefined;
    const [d, p, r] = await alternate(script, prom, promgate, ref, s, CONCURRENCY, SECONDS);
    console.log(
      `| ${s.name} | ${fmt(d.rps, 0)} | ${fmt(p.rps, 0)} | ${fmt((100 * p.rps) / d.rps, 0)} % | ` +
        `${fmt(d.p50, 2)} / ${fmt(d.p99, 2)} | ${fmt(p.p50, 2)} / ${fmt(p.p99, 2)} | ` +
        `${fmt(p.promgateCpu, 3)} | ${fmt(d.prometheusCpu, 2)} / ${fmt(p.prometheusCpu, 2)} | ${d.errors} / ${p.errors} |`,
    );
    if (r) {
      console.log(
        `| ${s.name} — bare reference proxy | | ${fmt(r.rps, 0)} | ${fmt((100 * r.rps) / d.rps, 0)} % | | ` +
          `${fmt(r.p50, 2)} / ${fmt(r.p99, 2)} | ${fmt(r.promgateCpu, 3)} | / ${fmt(r.prometheusCpu, 2)} | ${r.errors} |`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------
// promgate

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

type Promgate = Proxy;

async function startPromgate(upstream: string, dir: string): Promise<Promgate> {
  if (!existsSync(MAIN))
    throw new Error(`${MAIN} is missing: run npm run build first (npm run bench:proxy does)`);
  const tokens = join(dir, 'tokens.yaml');
  writeFileSync(
    tokens,
    `tokens:\n  - name: team-a\n    token: "${TOKEN}"\n    namespaces: [${NAMESPACES.join(', ')}]\n`,
  );
  const [port, metricsPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      MAIN,
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

/**
 * The floor for any Node proxy here: node:http in, one undici Pool out (dispatch, chunks
 * written straight to the response), no authentication, enforcement, logging or metrics.
 */
const REFERENCE_PROXY = `
import { createServer } from 'node:http';
import { Pool } from 'undici';
const pool = new Pool(process.env.REF_UPSTREAM, { connections: 128, pipelining: 1 });
createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const headers = {
      'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded',
      'content-length': String(body.length),
    };
    pool.dispatch({ path: req.url, method: req.method, headers, body }, {
      onRequestStart() {},
      onResponseStart(_c, status, h) {
        const out = { 'content-type': h['content-type'] };
        if (h['content-length'] !== undefined) out['content-length'] = h['content-length'];
        res.writeHead(status, out);
      },
      onResponseData(c, chunk) {
        if (!res.write(chunk)) { c.pause(); res.once('drain', () => c.resume()); }
      },
      onResponseEnd() { res.end(); },
      onResponseError() { if (!res.headersSent) res.writeHead(502); res.end(); },
    });
  });
}).listen(Number(process.env.REF_PORT), '127.0.0.1', () => process.stdout.write('ready'));
`;

interface Proxy {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

async function startReference(upstream: string): Promise<Proxy> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--input-type=module', '-e', REFERENCE_PROXY], {
    cwd: repoRoot(), // resolves undici from promgate's node_modules
    env: { ...process.env, REF_UPSTREAM: upstream, REF_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`reference proxy exited with ${code}`)));
  });
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

// ---------------------------------------------------------------------------------------
// Memory while streaming

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
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

// ---------------------------------------------------------------------------------------

async function wrkVersion(): Promise<string> {
  // `wrk -v` prints its version and exits non-zero.
  return new Promise((resolve, reject) => {
    execFile('wrk', ['-v'], (err, stdout, stderr) => {
      const text = `${stdout}${stderr}`;
      const m = /^wrk (\S+)/m.exec(text);
      if (m?.[1]) resolve(m[1]);
      else
        reject(
          new Error(
            `wrk is not installed or does not run (${err?.message ?? text.trim()}): run \`npm run testbed\` (as root: bash scripts/install-testbed.sh)`,
          ),
        );
    });
  });
}

async function main(): Promise<void> {
  const version = await wrkVersion();
  const dir = makeTempDir('promgate-bench-');
  let prom: PrometheusServer | undefined;
  let promgate: Promgate | undefined;
  let reference: Proxy | undefined;
  try {
    console.log(
      `# promgate proxy benchmark (node ${process.version}, ${new Date().toISOString()}, load average ${load()})`,
    );
    const script = join(dir, 'post.lua');
    writeFileSync(script, WRK_SCRIPT);
    const started = performance.now();
    prom = await startBenchPrometheus(dir);
    const series = (NAMESPACES.length + OTHER_NAMESPACES.length) * PODS * 5;
    console.log(
      `Prometheus ${prom.versionString} at ${prom.url}: ${series} generated series ` +
        `(${NAMESPACES.length + OTHER_NAMESPACES.length} namespaces × ${PODS} pods), 1 h at 1/min, ` +
        `backfilled in ${fmt((performance.now() - started) / 1000)} s; tenant scope ${NAMESPACES.join(', ')}`,
    );
    console.log(`promgate ${MAIN}; load generator wrk ${version} (one thread)`);
    promgate = await startPromgate(prom.url, dir);
    if (process.env['BENCH_REFERENCE'] !== '0') reference = await startReference(prom.url);
    await sequential(script, prom, promgate, reference);
    await throughput(script, prom, promgate, reference);
    await reference?.stop();
    reference = undefined;
    await promgate.stop();
    promgate = undefined;
    if (process.env['BENCH_RSS'] !== '0') await memory(dir);
    console.log(
      '\nTargets (issue 3): realistic ≥ 90 % of direct, trivial ≥ 50 %, added p50 ≤ 0.5 ms, peak RSS flat (±20 MiB).',
    );
    console.log(`Load average at the end: ${load()}`);
  } finally {
    await reference?.stop();
    await promgate?.stop();
    await prom?.stop();
    removeDir(dir);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
