/**
 * The README's first command works: `node dist/demo/demo.js --check` (what `npm run demo`
 * runs, minus the install and build steps) starts a real Prometheus and promgate, shows two
 * tenants getting different answers, verifies what promgate enforces, stops everything and
 * exits 0. A second run without --check is stopped with SIGINT, as Ctrl-C would: it must exit
 * 0, close its ports and remove its temp dir. Plus the pure helpers that shape its output.
 *
 * Needs `npm run build` (dist/) and a Prometheus + promtool (`npm run testbed`).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  basicAuthUrl,
  commandLine,
  promtoolQuery,
  shellQuote,
  sideBySide,
  type DemoTenant,
} from '../../src/demo/commands.js';
import { prometheusBinaries, repoRoot } from '../support/index.js';

const DEMO = join(repoRoot(), 'dist', 'demo', 'demo.js');

interface DemoRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the demo; `onOutput` sees stdout as it grows and may return a signal to send. Killed
 * after `timeoutMs` (the demo itself waits at most 60 s for each server).
 */
function runDemo(
  args: readonly string[],
  onOutput?: (stdout: string) => NodeJS.Signals | undefined,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 80_000,
): Promise<DemoRun> {
  assert.ok(existsSync(DEMO), `${DEMO} is missing: run \`npm run build\` first (npm test does)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEMO, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      const sig = signalled ? undefined : onOutput?.(stdout);
      if (sig) {
        signalled = true;
        child.kill(sig);
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function field(stdout: string, label: string): string {
  const m = new RegExp(`^${label} {2,}(\\S+)`, 'm').exec(stdout);
  assert.ok(m?.[1], `no "${label}" line in the demo's output:\n${stdout}`);
  return m[1];
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch {
    return true;
  }
}

test('demo --check: tenants differ, the operator sees all, everything stops', async () => {
  const run = await runDemo(['--check']);
  const out = `${run.stdout}\n--- stderr ---\n${run.stderr}`;
  assert.equal(run.code, 0, `demo --check exited ${run.code} (${run.signal}):\n${out}`);

  // The side-by-side answers of the real promtool: team-a's namespaces left, team-b's right.
  const table = run.stdout.split('\n');
  const head = table.findIndex((l) =>
    /as team-a \(team-a-dev, team-a-prod\) +│ as team-b \(team-b\)/.test(l),
  );
  assert.ok(head >= 0, `no side-by-side header in:\n${out}`);
  const rows = table.slice(head + 2).filter((l) => l.includes('│'));
  const column = (i: number): string[] =>
    [
      ...new Set(
        rows.flatMap((r) =>
          [...(r.split('│')[i] ?? '').matchAll(/namespace="([^"]+)"/g)].map((m) => m[1] ?? ''),
        ),
      ),
    ].sort();
  assert.deepEqual(column(0), ['team-a-dev', 'team-a-prod'], out);
  assert.deepEqual(column(1), ['team-b'], out);
  assert.match(rows.join('\n'), /\{namespace="team-b"\} => \d+ @\[[\d.]+\]/);

  // Every check line, and none failed.
  for (const line of [
    'ok   team-a sees: team-a-dev, team-a-prod',
    'ok   team-b sees: team-b',
    'ok   team-a and team-b got different answers',
    'ok   ops (cluster-wide) sees: kube-system, monitoring, team-a-dev, team-a-prod, team-b',
    'ok   team-a asking for namespace="team-b" gets HTTP 403',
    'ok   an unknown token gets HTTP 401',
    "ok   team-a's /federate?match[]=kube_pod_info:",
  ]) {
    assert.ok(run.stdout.includes(line), `missing "${line}" in:\n${out}`);
  }
  assert.doesNotMatch(run.stdout, /FAIL/);
  assert.match(run.stdout, /demo check passed \(7 checks\)/);

  // Ready-to-paste commands with this run's port and tokens.
  const url = field(run.stdout, 'promgate');
  const tokenA = /^ {2}team-a +([0-9a-f]{32}) /m.exec(run.stdout)?.[1];
  assert.ok(tokenA, `no team-a token line in:\n${run.stdout}`);
  assert.ok(
    run.stdout.includes(
      `curl -s -H 'Authorization: Bearer ${tokenA}' ${url}/api/v1/query --data-urlencode 'query=count by (namespace) (kube_pod_info)'`,
    ),
    `no team-a curl command in:\n${run.stdout}`,
  );
  assert.match(
    run.stdout,
    /promtool query instant (--http\.config\.file=\S+ http:\/\/127\.0\.0\.1:\d+|'?http:\/\/team-a:[0-9a-f]{32}@127\.0\.0\.1:\d+)/,
  );

  // Stopped: its ports are closed and its files are gone.
  const dir = field(run.stdout, 'files');
  assert.equal(existsSync(dir), false, `${dir} was not removed`);
  assert.ok(await refused(url), `promgate still answers at ${url}`);
  assert.ok(await refused(field(run.stdout, 'Prometheus')), 'Prometheus still answers');
});

test('demo with Prometheus 2.42: Ctrl-C (SIGINT) stops everything and removes the temp dir', async () => {
  // The other path of the demo: what a machine with only Debian's 2.42 runs (promtool 2.x
  // authenticates with Basic auth).
  const { v2 } = prometheusBinaries();
  let ready = false;
  const run = await runDemo(
    [],
    (stdout) => {
      if (!stdout.includes('Press Ctrl-C to stop')) return undefined;
      ready = true;
      return 'SIGINT';
    },
    { PROMGATE_DEMO_PROMETHEUS: v2.prometheus, PROMGATE_DEMO_PROMTOOL: v2.promtool },
  );
  const out = `${run.stdout}\n--- stderr ---\n${run.stderr}`;
  assert.ok(ready, `the demo never said "Press Ctrl-C to stop":\n${out}`);
  assert.equal(run.code, 0, `exit ${run.code} (${run.signal}) after SIGINT:\n${out}`);
  assert.match(run.stdout, /^promgate demo — Prometheus 2\.42/m);
  assert.doesNotMatch(run.stdout, /FAIL/);
  assert.match(run.stdout, /ok {3}team-a sees: team-a-dev, team-a-prod/);
  assert.match(run.stdout, /ok {3}team-b sees: team-b/);
  assert.match(run.stdout, /promtool query instant http:\/\/team-a:[0-9a-f]{32}@127\.0\.0\.1:\d+ /);
  assert.match(run.stdout, /SIGINT: stopping promgate, Prometheus and the exporter/);
  const dir = field(run.stdout, 'files');
  assert.match(run.stdout, new RegExp(`removed ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.equal(existsSync(dir), false, `${dir} was not removed`);
  assert.ok(await refused(field(run.stdout, 'promgate')), 'promgate still answers');
  assert.ok(await refused(field(run.stdout, 'Prometheus')), 'Prometheus still answers');
});

test('demo output helpers', () => {
  assert.equal(shellQuote('http://127.0.0.1:8080'), 'http://127.0.0.1:8080');
  assert.equal(shellQuote('query=up'), 'query=up');
  assert.equal(shellQuote(`it's {a="b"}`), `'it'\\''s {a="b"}'`);
  assert.equal(
    commandLine(['curl', '-H', 'Authorization: Bearer x']),
    `curl -H 'Authorization: Bearer x'`,
  );

  const tenant: DemoTenant = {
    name: 'team-a',
    namespaces: ['ns-1'],
    token: 'tok',
    tokenFile: '/d/team-a.token',
    httpConfigFile: '/d/team-a.http.yml',
  };
  assert.equal(basicAuthUrl('http://127.0.0.1:8080', tenant), 'http://team-a:tok@127.0.0.1:8080');
  const ctx3 = { url: 'http://127.0.0.1:8080', promtool: '/p3/promtool', promtoolMajor: 3 };
  const ctx2 = { ...ctx3, promtool: '/usr/bin/promtool', promtoolMajor: 2 };
  assert.deepEqual(promtoolQuery(ctx3, tenant, 'labels', ['--match=up'], ['namespace']), [
    '/p3/promtool',
    'query',
    'labels',
    '--http.config.file=/d/team-a.http.yml',
    '--match=up',
    'http://127.0.0.1:8080',
    'namespace',
  ]);
  assert.deepEqual(promtoolQuery(ctx2, tenant, 'instant', [], ['up']), [
    '/usr/bin/promtool',
    'query',
    'instant',
    'http://team-a:tok@127.0.0.1:8080',
    'up',
  ]);

  assert.deepEqual(sideBySide([['a1', 'a2'], ['b1']], ['A', 'BB']), [
    'A  │ BB',
    '───┼───',
    'a1 │ b1',
    'a2 │',
  ]);
});
