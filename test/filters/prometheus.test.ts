/**
 * End to end: the filters applied to what real Prometheus 2.42 and 3.5 answer on
 * `/api/v1/rules`, `/alerts`, `/targets` and `/metadata`, so that the fixtures' shapes are
 * checked against the real thing. Rules fire at once (`vector(1)`, no `for`), and the targets
 * are a tiny exporter served by this test on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import {
  allowedBy,
  filterAlerts,
  filterMetadata,
  filterRules,
  filterTargets,
} from '../../src/filters/index.js';
import { startPrometheus, waitFor, type PrometheusServer } from '../support/index.js';

type Json = Record<string, unknown>;

const EXPOSITIONS: Record<string, string> = {
  '/shop': [
    '# HELP shop_orders_total Orders placed.',
    '# TYPE shop_orders_total counter',
    'shop_orders_total{code="200"} 42',
    '# HELP shop_request_duration_seconds Request latency.',
    '# TYPE shop_request_duration_seconds histogram',
    'shop_request_duration_seconds_bucket{le="0.1"} 3',
    'shop_request_duration_seconds_bucket{le="+Inf"} 4',
    'shop_request_duration_seconds_sum 0.7',
    'shop_request_duration_seconds_count 4',
    '',
  ].join('\n'),
  '/billing': [
    '# HELP billing_invoices_total Invoices created.',
    '# TYPE billing_invoices_total counter',
    'billing_invoices_total 7',
    '',
  ].join('\n'),
};

const RULES = `
groups:
  - name: shop
    rules:
      - alert: ShopDown
        expr: vector(1)
        labels: { namespace: ns-a, severity: critical }
      - record: shop:orders:rate5m
        expr: vector(1)
        labels: { namespace: ns-a }
  - name: shared
    rules:
      - alert: PodProblem
        expr: label_replace(vector(1), "namespace", "ns-a", "", "") or label_replace(vector(2), "namespace", "ns-b", "", "")
        labels: { severity: warning }
      - alert: NodeProblem
        expr: vector(1)
      - record: cluster:things:sum
        expr: vector(3)
  - name: billing
    rules:
      - alert: BillingLate
        expr: vector(1)
        labels: { namespace: ns-b }
`;

function config(port: number): Json {
  const target = `127.0.0.1:${port}`;
  return {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: ['rules.yml'],
    scrape_configs: [
      {
        job_name: 'shop',
        metrics_path: '/shop',
        static_configs: [{ targets: [target], labels: { namespace: 'ns-a' } }],
      },
      {
        job_name: 'billing',
        metrics_path: '/billing',
        static_configs: [{ targets: [target], labels: { namespace: 'ns-b' } }],
      },
      {
        // Every target of this job is dropped by relabelling: it shows in droppedTargets.
        job_name: 'dropped',
        static_configs: [{ targets: [target], labels: { namespace: 'ns-b', secret: 'x' } }],
        relabel_configs: [{ action: 'drop', source_labels: ['secret'], regex: 'x' }],
      },
    ],
  };
}

async function getJson(server: PrometheusServer, path: string): Promise<Json> {
  const res = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200, `${path}: HTTP ${res.status}`);
  return (await res.json()) as Json;
}

const data = (body: unknown): Json => (body as Json).data as Json;

type Answers = Record<'rules' | 'alerts' | 'targets' | 'metadata', Json>;

/** Waits until every rule has fired and both targets were scraped, then collects answers. */
async function collect(p: PrometheusServer): Promise<Answers> {
  const rules = await waitFor('rules evaluated with alerts', async () => {
    const body = await getJson(p, '/api/v1/rules');
    const groups = data(body).groups as Json[];
    const alerts = groups.flatMap((g) =>
      (g.rules as Json[]).flatMap((r) => (r.alerts as Json[]) ?? []),
    );
    return alerts.filter((a) => a.state === 'firing').length === 5 ? body : undefined;
  });
  // Scrape targets appear after the scrape manager's first reload (about 5 s).
  const targets = await waitFor('targets scraped', async () => {
    const body = await getJson(p, '/api/v1/targets');
    const active = data(body).activeTargets as Json[];
    return active.length === 2 && active.every((t) => t.health === 'up') ? body : undefined;
  });
  const metadata = await waitFor('metadata collected', async () => {
    const body = await getJson(p, '/api/v1/metadata');
    return 'billing_invoices_total' in data(body) && 'shop_orders_total' in data(body)
      ? body
      : undefined;
  });
  return { rules, targets, metadata, alerts: await getJson(p, '/api/v1/alerts') };
}

let exporter: Server | undefined;
const servers: PrometheusServer[] = [];
const answers = new Map<2 | 3, Answers>();

// Both versions at once: each needs ~6 s of wall time, mostly waiting.
before(async () => {
  exporter = createServer((req, res) => {
    const body = EXPOSITIONS[req.url ?? ''];
    res.writeHead(body ? 200 : 404, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(body ?? 'not found');
  });
  await new Promise<void>((resolve) => exporter?.listen(0, '127.0.0.1', resolve));
  const port = (exporter.address() as AddressInfo).port;
  await Promise.all(
    ([2, 3] as const).map(async (version) => {
      const server = await startPrometheus({
        version,
        config: config(port),
        files: { 'rules.yml': RULES },
      });
      servers.push(server);
      answers.set(version, await collect(server));
    }),
  );
});

after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await new Promise((resolve) => exporter?.close(resolve));
});

for (const version of [2, 3] as const) {
  describe(`filters on real Prometheus ${version}.x answers`, () => {
    const upstream = (): Answers => {
      const a = answers.get(version);
      assert.ok(a, `Prometheus ${version}.x did not start`);
      return a;
    };

    it('rules: ns-a sees its own rules and the shared rule with only its alert', () => {
      const out = filterRules(upstream().rules, allowedBy('namespace', ['ns-a']));
      const groups = data(out).groups as Json[];
      const summary = groups.map((g) => ({
        group: g.name,
        rules: (g.rules as Json[]).map((r) => ({
          name: r.name,
          state: r.state,
          alerts: ((r.alerts as Json[] | undefined) ?? []).map((a) => (a.labels as Json).namespace),
        })),
      }));
      // Prometheus orders groups by its own key (2.42 and 3.5 differ): compare by name.
      summary.sort((a, b) => String(a.group).localeCompare(String(b.group)));
      assert.deepEqual(summary, [
        { group: 'shared', rules: [{ name: 'PodProblem', state: 'firing', alerts: ['ns-a'] }] },
        {
          group: 'shop',
          rules: [
            { name: 'ShopDown', state: 'firing', alerts: ['ns-a'] },
            { name: 'shop:orders:rate5m', state: undefined, alerts: [] },
          ],
        },
      ]);
      const nothing = filterRules(upstream().rules, allowedBy('namespace', ['ns-z']));
      assert.deepEqual(data(nothing).groups, []);
    });

    it('alerts: each tenant gets its own, the unlabelled one nobody', () => {
      const names = (scope: string[]): string[] =>
        (
          (data(filterAlerts(upstream().alerts, allowedBy('namespace', scope))).alerts as Json[]) ??
          []
        )
          .map(
            (a) =>
              `${String((a.labels as Json).alertname)}@${String((a.labels as Json).namespace)}`,
          )
          .sort();
      assert.equal((data(upstream().alerts).alerts as Json[]).length, 5);
      assert.deepEqual(names(['ns-a']), ['PodProblem@ns-a', 'ShopDown@ns-a']);
      assert.deepEqual(names(['ns-b']), ['BillingLate@ns-b', 'PodProblem@ns-b']);
    });

    it('targets: own active target only, dropped targets and counts emptied', () => {
      assert.equal((data(upstream().targets).droppedTargets as Json[]).length, 1, 'sanity');
      const out = data(filterTargets(upstream().targets, allowedBy('namespace', ['ns-a'])));
      const active = out.activeTargets as Json[];
      assert.deepEqual(
        active.map((t) => t.scrapePool),
        ['shop'],
      );
      assert.ok(active[0]?.discoveredLabels, 'kept target keeps its discoveredLabels');
      assert.deepEqual(out.droppedTargets, []);
      if ('droppedTargetCounts' in data(upstream().targets))
        assert.deepEqual(out.droppedTargetCounts, {});
      assert.ok(!JSON.stringify(out).includes('secret'));
    });

    it('metadata: families of the scope’s series, histogram and counter included', () => {
      // What label values of __name__ under {namespace="ns-a"} would give.
      const names = new Set([
        'shop_orders_total',
        'shop_request_duration_seconds_bucket',
        'shop_request_duration_seconds_sum',
        'shop_request_duration_seconds_count',
        'up',
        'scrape_duration_seconds',
      ]);
      const kept = Object.keys(data(filterMetadata(upstream().metadata, names))).sort();
      assert.deepEqual(kept, ['shop_orders_total', 'shop_request_duration_seconds']);
    });
  });
}
