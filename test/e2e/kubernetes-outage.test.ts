/**
 * The Kubernetes API server in trouble (issue 4, DESIGN invariant 7), through the real server in
 * `--tenancy project` mode, the API stand-in and real Prometheus 3.5:
 *
 * - API server down (every connection reset) after warm-up: cached callers keep being served
 *   within the configured bound (`--token-cache-ttl=2s` + `--token-stale-if-error=8s`,
 *   `--informer-stale-tolerance=8s`); unknown tokens get 503 JSON with Retry-After, never 401 or
 *   403; after the bound every caller gets 503 and /readyz is not ready; when the API server is
 *   back, everyone recovers without a restart.
 * - Faults on single endpoints: 5xx, 429 with Retry-After, dropped connections and a reply later
 *   than `--kubernetes-api-timeout` on TokenReview → 503 for new tokens, cached callers unharmed;
 *   a failing SubjectAccessReview → 503 (not 403), and it is not remembered as a denial.
 *
 * Every answer is checked: status 200 or 503 only, and a 200 never shows a namespace outside
 * the caller's scope. Time bounds are checked airtight: a response *completed* before the
 * earliest possible expiry must be 200, a request *sent* after the latest possible expiry must
 * be 503 (no assumption about how fast anything runs).
 *
 * Needs the test bed (`npm run testbed`); fails with that hint when it is missing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_EVAL_TIME } from '../../src/demo/data.js';
import { startKubeStandin, type KubeStandin } from '../k8s/standin.js';
import { startDemoPrometheus, waitFor, type PrometheusServer } from '../support/index.js';
import {
  assertNoTokens,
  assertWithin,
  demoClusterNamespaces,
  namespacesIn,
  rawCall,
  startKubeGate,
  type ExpectedScope,
  type KubeGate,
} from './k8s-support/kube-gate.js';

const TOKEN_TTL_MS = 2_000;
const STALE_MS = 8_000;
const INFORMER_TOLERANCE_MS = 8_000;
const API_TIMEOUT_MS = 1_500;
const PATH = `/api/v1/query?query=${encodeURIComponent('count by (namespace) (kube_pod_info)')}&time=${DEMO_EVAL_TIME}`;
const ALL_DEMO = ['kube-system', 'monitoring', 'team-a-dev', 'team-a-prod', 'team-b'];

interface Caller {
  readonly name: string;
  readonly token: string;
  readonly scope: ExpectedScope;
}

interface Sample {
  readonly who: string;
  readonly sentAt: number;
  readonly doneAt: number;
  readonly status: number;
}

describe('kubernetes mode: the API server down or failing', () => {
  let kube: KubeStandin;
  let prom: PrometheusServer;
  let gate: KubeGate;
  let callers: Caller[];
  const tokens: string[] = [];
  const problems: string[] = [];
  let checked = 0;

  before(
    async () => {
      kube = await startKubeStandin({ namespaces: demoClusterNamespaces() });
      prom = await startDemoPrometheus({ version: 3 });
      gate = await startKubeGate({
        kube,
        upstream: prom.url,
        version: 3,
        tenancy: 'project',
        args: [
          '--token-audience=promgate',
          '--cluster-wide-group=system:serviceaccounts:monitoring',
          `--token-cache-ttl=${TOKEN_TTL_MS}ms`,
          `--token-stale-if-error=${STALE_MS}ms`,
          `--informer-stale-tolerance=${INFORMER_TOLERANCE_MS}ms`,
          `--kubernetes-api-timeout=${API_TIMEOUT_MS}ms`,
          '--sar-cache-allowed-ttl=10m',
          '--sar-cache-denied-ttl=10m',
        ],
      });
      kube.grant({
        user: 'system:serviceaccount:kube-system:ops',
        verbs: ['get'],
        resources: ['namespaces'],
      });
      const issue = async (sa: string): Promise<string> => {
        const t = await kube.issueToken(sa, { audiences: ['promgate'] });
        tokens.push(t);
        return t;
      };
      callers = [
        {
          name: 'team-a-dev/grafana',
          token: await issue('team-a-dev/grafana'),
          scope: ['team-a-dev', 'team-a-prod'],
        },
        { name: 'team-b/grafana', token: await issue('team-b/grafana'), scope: ['team-b'] },
        {
          name: 'monitoring/grafana (group)',
          token: await issue('monitoring/grafana'),
          scope: 'all',
        },
        {
          name: 'kube-system/ops (permission)',
          token: await issue('kube-system/ops'),
          scope: 'all',
        },
      ];
    },
    { timeout: 60_000 },
  );
  after(async () => {
    console.log(`outage: ${checked} answers checked`);
    if (gate) assertNoTokens(gate.logText(), tokens, 'the log');
    await gate?.stop();
    await Promise.allSettled([prom?.stop(), kube?.stop()]);
  });

  /**
   * One request as `token`; checks the answer's shape (200 within `scope`, or 503 JSON with
   * Retry-After; anything else is a problem) and returns the status.
   */
  async function ask(who: string, token: string, scope: ExpectedScope): Promise<Sample> {
    const sentAt = Date.now();
    const r = await rawCall(gate.url, PATH, `Bearer ${token}`);
    const doneAt = Date.now();
    checked++;
    const body = r.json as { status?: string; errorType?: string; error?: string } | undefined;
    if (r.status === 200) {
      try {
        assertWithin(namespacesIn(r.json), scope, who);
      } catch (e) {
        problems.push((e as Error).message);
      }
    } else if (r.status === 503) {
      if (body?.status !== 'error' || body.errorType !== 'unavailable')
        problems.push(`${who}: 503 without Prometheus's error JSON: ${r.text.slice(0, 200)}`);
      if (!/^\d+$/.test(r.headers.get('retry-after') ?? ''))
        problems.push(`${who}: 503 without Retry-After`);
    } else {
      problems.push(
        `${who}: HTTP ${r.status} (only 200 or 503 are acceptable): ${r.text.slice(0, 200)}`,
      );
    }
    if (r.text.includes(token)) problems.push(`${who}: the answer contains the token`);
    return { who, sentAt, doneAt, status: r.status };
  }

  const noProblems = (): void =>
    assert.deepEqual(problems.splice(0), [], 'answers outside scope or with a wrong status');

  test('down after warm-up: cached callers served within the bound, new tokens 503, then 503 for all; back up: recovery', async () => {
    // Warm-up: every caller reviewed and its scope computed. Each review happens after
    // warmStart, so each token entry is fresh until ≥ warmStart + TTL and stale-servable until
    // ≥ warmStart + TTL + STALE; and ≤ warmDone + TTL + STALE.
    const warmStart = Date.now();
    for (const c of callers) {
      const s = await ask(c.name, c.token, c.scope);
      assert.equal(s.status, 200, `${c.name} during warm-up`);
    }
    const warmDone = Date.now();
    const unusedToken = await kube.issueToken('team-a-prod/grafana', { audiences: ['promgate'] });
    tokens.push(unusedToken);

    const downAt = Date.now();
    kube.setDown(true);
    // Earliest possible end of service: the token bound, or the informer's tolerance (project
    // scopes; the watch cannot be lost before the API server went down).
    const servedUntil = Math.min(
      warmStart + TOKEN_TTL_MS + STALE_MS,
      downAt + INFORMER_TOLERANCE_MS,
    );
    // Latest possible end: the token bound (the informer can only end it earlier).
    const refusedFrom = warmDone + TOKEN_TTL_MS + STALE_MS;

    const samples: Sample[] = [];
    // A token never seen and junk: 503 (the API server cannot tell), never 401/403.
    const fresh = await ask('an unseen valid token', unusedToken, ['team-a-dev', 'team-a-prod']);
    const junk = await ask('a junk token', 'junk-token-during-the-outage', 'none');
    assert.equal(fresh.status, 503, 'an unseen token during the outage');
    assert.equal(junk.status, 503, 'a junk token during the outage');

    // Poll every caller until well past the latest possible end of service (bounded).
    for (let round = 0; Date.now() < refusedFrom + 2_500 && round < 500; round++) {
      samples.push(...(await Promise.all(callers.map((c) => ask(c.name, c.token, c.scope)))));
      await sleep(200);
    }
    noProblems();
    for (const c of callers) {
      const mine = samples.filter((s) => s.who === c.name);
      const early = mine.filter((s) => s.doneAt < servedUntil);
      const late = mine.filter((s) => s.sentAt > refusedFrom);
      assert.ok(
        early.length > 0,
        `${c.name}: no answer completed within the bound (machine stalled?)`,
      );
      assert.deepEqual(
        early.map((s) => s.status).filter((st) => st !== 200),
        [],
        `${c.name}: refused while its cached identity was still within the bound`,
      );
      assert.ok(late.length > 0, `${c.name}: no request after the bound`);
      assert.deepEqual(
        late.map((s) => s.status).filter((st) => st !== 503),
        [],
        `${c.name}: still served after the stale bound`,
      );
      // Once refused, refused for good while down.
      const firstRefusal = mine.findIndex((s) => s.status === 503);
      assert.ok(
        mine.slice(firstRefusal).every((s) => s.status === 503),
        `${c.name}: flapped`,
      );
    }
    const ready = await fetch(`${gate.promgate.metricsUrl}/readyz`);
    assert.equal(ready.status, 503, '/readyz while the namespace list is stale');
    assert.match(await ready.text(), /auth backend not ready/);
    const servedFor = callers.map((c) => {
      const last = Math.max(
        ...samples.filter((x) => x.who === c.name && x.status === 200).map((x) => x.doneAt),
      );
      return `${c.name} ${((last - downAt) / 1000).toFixed(1)} s`;
    });
    console.log(
      `outage: last 200 after the API server went down: ${servedFor.join(', ')} ` +
        `(bound ${((servedUntil - downAt) / 1000).toFixed(1)}–${((refusedFrom - downAt) / 1000).toFixed(1)} s); ${samples.length} answers`,
    );

    // Back up: everyone recovers (the informer restarts with backoff), no restart of promgate.
    kube.setDown(false);
    const upAt = Date.now();
    await waitFor(
      'every caller and a new token to be served again',
      async () => {
        const all = await Promise.all([
          ...callers.map((c) => ask(c.name, c.token, c.scope)),
          ask('the unseen token', unusedToken, ['team-a-dev', 'team-a-prod']),
        ]);
        return all.every((s) => s.status === 200);
      },
      { timeoutMs: 45_000, intervalMs: 250 },
    );
    console.log(
      `outage: everyone served again ${((Date.now() - upAt) / 1000).toFixed(1)} s after the API server came back`,
    );
    noProblems();
    for (const c of callers) {
      const r = await rawCall(gate.url, PATH, `Bearer ${c.token}`);
      assert.deepEqual(namespacesIn(r.json), c.scope === 'all' ? ALL_DEMO : c.scope, c.name);
    }
    assert.equal((await fetch(`${gate.promgate.metricsUrl}/readyz`)).status, 200);
  });

  test('TokenReview faults (5xx, 429, dropped, too slow) are 503 for new tokens; cached callers unharmed', async () => {
    const cached = callers[0] as Caller;
    assert.equal((await ask(cached.name, cached.token, cached.scope)).status, 200);
    const faults: [string, Parameters<KubeStandin['fail']>[1]][] = [
      ['HTTP 500', { status: 500 }],
      ['HTTP 503', { status: 503, retryAfterSeconds: 2 }],
      ['HTTP 429 with Retry-After: 7', { status: 429, retryAfterSeconds: 7 }],
      ['dropped connection', { drop: true }],
      [`no answer within ${API_TIMEOUT_MS} ms`, { latencyMs: API_TIMEOUT_MS + 1_500 }],
    ];
    for (const [name, fault] of faults) {
      kube.fail('tokenreviews', fault);
      try {
        const token = await kube.issueToken('team-b/grafana', { audiences: ['promgate'] });
        tokens.push(token);
        const r = await rawCall(gate.url, PATH, `Bearer ${token}`);
        assert.equal(r.status, 503, `${name}: ${r.status} ${r.text}`);
        assert.equal((r.json as { errorType?: string }).errorType, 'unavailable', name);
        if (name.includes('429')) assert.equal(r.headers.get('retry-after'), '7', name);
        // A cached (or stale-servable) caller is not affected.
        assert.equal((await ask(cached.name, cached.token, cached.scope)).status, 200, name);
        // The error was not cached as "invalid": once the fault is gone, the token works.
        kube.fail('tokenreviews', null);
        const again = await ask('team-b/grafana (new token)', token, ['team-b']);
        assert.equal(again.status, 200, `${name}: after the fault cleared`);
      } finally {
        kube.fail('tokenreviews', null);
      }
    }
    noProblems();
  });

  test('a failing SubjectAccessReview is 503, not 403, and is not remembered as a denial', async () => {
    const token = await kube.issueToken('team-a-prod/reports', { audiences: ['promgate'] });
    tokens.push(token);
    kube.fail('subjectaccessreviews', { status: 500 });
    try {
      const r = await rawCall(gate.url, PATH, `Bearer ${token}`);
      assert.equal(r.status, 503, r.text);
      assert.equal((r.json as { errorType?: string }).errorType, 'unavailable');
    } finally {
      kube.fail('subjectaccessreviews', null);
    }
    const s = await ask('team-a-prod/reports', token, ['team-a-dev', 'team-a-prod']);
    assert.equal(s.status, 200, 'the failed cluster-wide check was cached as a denial');
    noProblems();
  });
});
