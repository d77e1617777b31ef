/**
 * End-to-end benchmark of the `kubernetes` auth mode through the real HTTP server: what a
 * warm-cache authenticated request costs compared with the `static` mode, and how the server
 * holds up with 10,000 distinct cached identities. Prints figures; asserts nothing.
 *
 * Setup on 127.0.0.1: a constant upstream (a tiny HTTP server answering a fixed query result,
 * so that upstream time is the same for every mode), the Kubernetes API stand-in (ES256 keys,
 * the demo namespaces with project labels) and the load generator run in this process; each
 * promgate is the built CLI in its own child process (so its memory is its own): static (one
 * token, scope team-a-dev) and kubernetes in serviceaccount / project / rbac mode (one
 * ServiceAccount token, scope team-a-dev — team-a-dev + team-a-prod in project mode), with the
 * default cluster-wide permission check on.
 *
 * 1. Latency: sequential `POST /api/v1/query` (the PromQL is rewritten in every mode), the
 *    targets alternating request by request (direct upstream, static, the kubernetes modes) so
 *    that machine noise hits all alike; p50 / p90 / p99 and the difference to static.
 * 2. Throughput at 32 requests in flight: one identity; 10,000 distinct cached identities in
 *    random order (after one cold request each), with the TokenReviews counted during the run;
 *    static mode with one and with 10,000 tokens for comparison.
 * 3. Memory: RSS and heap of the serviceaccount-mode process as identities are cached, and as
 *    another 30,000 go through its 10,000-entry token cache. Every promgate runs with
 *    `--max-old-space-size=128` (a container-like limit), so that V8 collects rather than grows
 *    and RSS reflects what is live; a process that kept every identity would run out.
 *
 * Run: npx tsc -p tsconfig.json && node .build/bench/auth-e2e.js   (takes a few minutes)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { DEMO_EVAL_TIME } from '../src/demo/data.js';
import type { Tenancy } from '../src/tenancy/resolver.js';
import { demoClusterNamespaces, kubeGateArgs } from '../test/e2e/k8s-support/kube-gate.js';
import { startKubeStandin, type KubeStandin } from '../test/k8s/standin.js';
import { freePort, startProcess, type ManagedProcess } from '../test/support/index.js';

const LATENCY_WARMUP = 300;
const LATENCY_SAMPLES = 3_000;
const IDENTITIES = 10_000;
const CYCLE_REQUESTS = 20_000;
const IN_FLIGHT = 32;
/**
 * V8 old-space limit of every promgate child (as a container memory limit would set it). Without
 * one, V8 grows the heap lazily on a roomy machine and RSS says little about what is live.
 */
const OLD_SPACE_MIB = 128;
/** Rounds of another IDENTITIES new identities after the cache is full. */
const MORE_ROUNDS = 3;
const BODY = new URLSearchParams({
  query: 'sum by (pod) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))',
  time: String(DEMO_EVAL_TIME),
}).toString();

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const agent = new Agent({ connections: 64, pipelining: 1, keepAliveTimeout: 30_000 });

/** A promgate child process. */
interface Gate {
  readonly name: string;
  readonly url: string;
  readonly metricsUrl: string;
  readonly process: ManagedProcess;
}

/** Resident set size of a process in MiB (Linux /proc), or NaN elsewhere. */
function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** RSS (from /proc) and V8 heap in use (promgate's own `nodejs_heap_size_used_bytes`). */
async function memoryOf(gate: Gate): Promise<string> {
  const text = await (await fetch(`${gate.metricsUrl}/metrics`)).text();
  const heap = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
  const heapText = heap ? `${(Number(heap[1]) / 2 ** 20).toFixed(0).padStart(4)} MiB` : '   ?';
  return `RSS ${rssMiB(gate.process.pid).toFixed(0).padStart(4)} MiB, heap used ${heapText}`;
}

/**
 * Starts promgate (the built CLI) as a child process with `args` on fresh loopback ports, so
 * that its memory is its own and its event loop is not shared with the load generator.
 */
async function startGate(name: string, args: readonly string[]): Promise<Gate> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const own = (a: string): boolean =>
    !a.startsWith('--listen=') &&
    !a.startsWith('--metrics-listen=') &&
    !a.startsWith('--log-level=');
  const proc = await startProcess({
    name: `promgate (${name})`,
    command: process.execPath,
    args: [
      `--max-old-space-size=${OLD_SPACE_MIB}`,
      MAIN,
      ...args.filter(own),
      `--listen=127.0.0.1:${port}`,
      `--metrics-listen=127.0.0.1:${metricsPort}`,
      '--log-level=warn',
    ],
    readyUrl: `http://127.0.0.1:${metricsPort}/readyz`,
  });
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
    process: proc,
  };
}

/** A constant upstream: a small vector for queries, buildinfo for promgate's readiness probe. */
async function startUpstream(): Promise<{ url: string; server: Server }> {
  const answer = JSON.stringify({
    status: 'success',
    data: {
      resultType: 'vector',
      result: [
        { metric: { pod: 'web-1' }, value: [DEMO_EVAL_TIME, '0.25'] },
        { metric: { pod: 'web-2' }, value: [DEMO_EVAL_TIME, '0.5'] },
      ],
    },
  });
  const buildinfo = JSON.stringify({ status: 'success', data: { version: '3.5.0' } });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = (req.url ?? '').startsWith('/api/v1/status/buildinfo') ? buildinfo : answer;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** One POST query; returns ms. Throws unless 200. */
async function query(url: string, token: string | undefined): Promise<number> {
  const start = process.hrtime.bigint();
  const res = await request(`${url}/api/v1/query`, {
    method: 'POST',
    dispatcher: agent,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: BODY,
  });
  await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function pool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (t: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item);
      }
    }),
  );
}

/** Requests/s for `requests` queries at IN_FLIGHT, each with the token `pick(i)` returns. */
async function throughput(
  url: string,
  requests: number,
  pick: (i: number) => string,
): Promise<number> {
  const order = Array.from({ length: requests }, (_, i) => i);
  const start = process.hrtime.bigint();
  await pool(order, IN_FLIGHT, async (i) => {
    await query(url, pick(i));
  });
  return requests / (Number(process.hrtime.bigint() - start) / 1e9);
}

const n = (x: number): string => x.toLocaleString('en');

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'promgate-bench-'));
  const upstream = await startUpstream();
  const kube: KubeStandin = await startKubeStandin({
    namespaces: demoClusterNamespaces(),
    algorithm: 'ES256',
  });
  const gates: Gate[] = [];
  try {
    const staticToken = 'bench-static-token-team-a-dev';
    const tokensFile = join(dir, 'tokens.yaml');
    const manyTokensFile = join(dir, 'many-tokens.yaml');
    writeFileSync(
      tokensFile,
      stringify({ tokens: [{ name: 'team-a', token: staticToken, namespaces: ['team-a-dev'] }] }),
    );
    writeFileSync(
      manyTokensFile,
      stringify({
        tokens: Array.from({ length: IDENTITIES }, (_, i) => ({
          name: `tenant-${i}`,
          token: `bench-static-token-${i}`,
          namespaces: ['team-a-dev'],
        })),
      }),
    );
    // The same PromQL policy as kubeGateArgs gives the kubernetes instances.
    const staticArgs = (file: string): string[] => [
      `--upstream=${upstream.url}`,
      '--auth=static',
      `--tokens-file=${file}`,
      '--promql-upstream-major=3',
      '--promql-experimental-functions=true',
    ];
    const staticGate = await startGate('static', staticArgs(tokensFile));
    gates.push(staticGate);
    const kubeGates = new Map<Tenancy, Gate>();
    for (const tenancy of ['serviceaccount', 'project', 'rbac'] as const) {
      const gate = await startGate(
        `kubernetes ${tenancy}`,
        kubeGateArgs({
          kube,
          upstream: upstream.url,
          version: 3,
          tenancy,
          args: ['--token-audience=promgate', '--token-cache-ttl=1h', '--sar-cache-denied-ttl=1h'],
        }),
      );
      gates.push(gate);
      kubeGates.set(tenancy, gate);
    }
    kube.grant({
      user: 'system:serviceaccount:team-a-dev:grafana',
      namespace: 'team-a-dev',
      verbs: ['get'],
      resources: ['pods'],
    });
    const saToken = await kube.issueToken('team-a-dev/grafana', { audiences: ['promgate'] });

    console.log(
      `node ${process.version}; each promgate a child process (node --max-old-space-size=${OLD_SPACE_MIB}); upstream, API stand-in and client ` +
        `in this process; all on 127.0.0.1`,
    );
    // --- 1. latency -----------------------------------------------------------------------
    const targets: { name: string; url: string; token: string | undefined }[] = [
      { name: 'direct upstream', url: upstream.url, token: undefined },
      { name: 'static', url: staticGate.url, token: staticToken },
      ...[...kubeGates].map(([tenancy, gate]) => ({
        name: `kubernetes ${tenancy}`,
        url: gate.url,
        token: saToken,
      })),
    ];
    const samples = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    for (let i = 0; i < LATENCY_WARMUP + LATENCY_SAMPLES; i++) {
      // Rotate the order too, so that no target always follows the same one.
      for (let k = 0; k < targets.length; k++) {
        const t = targets[(i + k) % targets.length] as (typeof targets)[number];
        const ms = await query(t.url, t.token);
        if (i >= LATENCY_WARMUP) samples.get(t.name)?.push(ms);
      }
    }
    console.log(
      `\nlatency of a warm-cache request (POST /api/v1/query, rewritten), sequential, ` +
        `${n(LATENCY_SAMPLES)} samples each, targets alternating:`,
    );
    const sorted = (name: string): number[] => [...(samples.get(name) ?? [])].sort((a, b) => a - b);
    for (const t of targets) {
      const s = sorted(t.name);
      console.log(
        `  ${t.name.padEnd(26)} p50 ${percentile(s, 50).toFixed(3)} ms  p90 ${percentile(s, 90).toFixed(3)} ms  p99 ${percentile(s, 99).toFixed(3)} ms`,
      );
    }
    const st = sorted('static');
    for (const t of targets.filter((x) => x.name.startsWith('kubernetes'))) {
      const s = sorted(t.name);
      const d = (p: number): string => {
        const v = percentile(s, p) - percentile(st, p);
        return `${v >= 0 ? '+' : ''}${v.toFixed(3)} ms`;
      };
      console.log(`  added by ${t.name} vs static: p50 ${d(50)}, p99 ${d(99)}`);
    }
    console.log(
      `  promgate (static) vs direct upstream: p50 +${(percentile(st, 50) - percentile(sorted('direct upstream'), 50)).toFixed(3)} ms`,
    );

    // --- 2. throughput ------------------------------------------------------------------------
    console.log(`\nthroughput at ${IN_FLIGHT} requests in flight:`);
    const sa = kubeGates.get('serviceaccount') as Gate;
    const staticOne = await throughput(staticGate.url, CYCLE_REQUESTS / 2, () => staticToken);
    const one = await throughput(sa.url, CYCLE_REQUESTS / 2, () => saToken);
    console.log(`  static, one token:                         ${staticOne.toFixed(0)} req/s`);
    console.log(`  kubernetes serviceaccount, one identity:   ${one.toFixed(0)} req/s`);

    const issue = async (prefix: string): Promise<string[]> => {
      const out: string[] = [];
      for (let i = 0; i < IDENTITIES; i++) {
        const ns = ['team-a-dev', 'team-a-prod', 'team-b', 'kube-system', 'monitoring'][i % 5];
        out.push(await kube.issueToken(`${ns}/${prefix}-${i}`, { audiences: ['promgate'] }));
      }
      return out;
    };
    const rss: [string, string][] = [['started, after the latency run', await memoryOf(sa)]];
    const tokens = await issue('sa');
    kube.resetCounters();
    let t0 = Date.now();
    await pool(tokens, 64, async (t) => {
      await query(sa.url, t);
    });
    console.log(
      `  cold: ${n(IDENTITIES)} new identities in ${((Date.now() - t0) / 1000).toFixed(1)} s ` +
        `(${n(kube.counters.tokenreviews)} TokenReviews, ${n(kube.counters.subjectaccessreviews)} SubjectAccessReviews)`,
    );
    rss.push([`${n(IDENTITIES)} identities cached`, await memoryOf(sa)]);
    kube.resetCounters();
    const random = Array.from({ length: CYCLE_REQUESTS }, () =>
      Math.floor(Math.random() * IDENTITIES),
    );
    const many = await throughput(sa.url, CYCLE_REQUESTS, (i) => tokens[random[i] ?? 0] ?? '');
    console.log(
      `  kubernetes serviceaccount, ${n(IDENTITIES)} cached identities, random order: ${many.toFixed(0)} req/s ` +
        `(${kube.counters.tokenreviews} TokenReviews, ${kube.counters.subjectaccessreviews} SubjectAccessReviews during the run)`,
    );
    rss.push([`after ${n(CYCLE_REQUESTS)} requests over them`, await memoryOf(sa)]);
    const manyStatic = await startGate('static, many tokens', staticArgs(manyTokensFile));
    gates.push(manyStatic);
    const staticMany = await throughput(
      manyStatic.url,
      CYCLE_REQUESTS / 4,
      (i) => `bench-static-token-${random[i] ?? 0}`,
    );
    console.log(
      `  static, ${n(IDENTITIES)} tokens in the file, random order:        ${staticMany.toFixed(0)} req/s`,
    );

    // --- 3. memory: more identities than the cache holds ---------------------------------------
    for (let round = 1; round <= MORE_ROUNDS; round++) {
      const more = await issue(`more${round}`);
      t0 = Date.now();
      await pool(more, 64, async (t) => {
        await query(sa.url, t);
      });
      rss.push([
        `+${n(round * IDENTITIES)} more identities through the ${n(IDENTITIES)}-entry token cache`,
        await memoryOf(sa),
      ]);
    }
    console.log(
      `\nmemory of the kubernetes serviceaccount promgate process (heap sampled as is, no forced GC):`,
    );
    for (const [what, mem] of rss) console.log(`  ${mem}  ${what}`);
    console.log(
      `  (node --max-old-space-size=${OLD_SPACE_MIB}; the token cache holds ${n(IDENTITIES)} identities, ` +
        'SubjectAccessReview decisions up to --sar-cache-size, 200,000 by default)',
    );
    const warnings = gates.flatMap((g) =>
      g.process
        .output()
        .split('\n')
        .filter((l) => /warn|Warning/.test(l))
        .map((l) => `  ${g.name}: ${l.slice(0, 240)}`),
    );
    if (warnings.length > 0)
      console.log(`\nwarnings from the promgate processes:\n${warnings.join('\n')}`);
  } finally {
    await Promise.allSettled(gates.map((g) => g.process.stop()));
    await kube.stop();
    await agent.close();
    const closed = new Promise<void>((resolve) => upstream.server.close(() => resolve()));
    upstream.server.closeAllConnections();
    await closed;
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
