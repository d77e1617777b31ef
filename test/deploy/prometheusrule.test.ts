/**
 * The PrometheusRule of deploy/components/prometheusrule: every expression passes promgate's
 * own PromQL engine and reads only metrics promgate exports; the alerts cover what the issue
 * asks for (upstream errors, auth backend unavailable, rejection spikes, not ready); and real
 * Prometheus 2.x and 3.x promtool accept the rules and pass the alert unit tests in
 * prometheusrule.promtool.yaml (every alert fires there at least once, and stays silent when
 * promgate is healthy).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { stringify } from 'yaml';
import { prometheusBinaries } from '../support/index.js';
import { at, objs, type Obj, parseYamlDocuments, repoRoot, strs } from './support.js';
import { validateObject } from './schemas.js';
import { exportedMetricNames, metricNamesOf, SCRAPE_SERIES } from './metric-names.js';

const ruleFile = join(repoRoot, 'deploy/components/prometheusrule/prometheusrule.yaml');
const unitTests = join(repoRoot, 'test/deploy/prometheusrule.promtool.yaml');
const docs = parseYamlDocuments(readFileSync(ruleFile, 'utf8'), ruleFile);
const rule = docs[0] as Obj;
const rules = objs(at(rule, 'spec', 'groups')).flatMap((g) => objs(g.rules));
const alerts = rules.filter((r) => typeof r.alert === 'string');

const work = mkdtempSync(join(tmpdir(), 'promgate-rules-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('one valid PrometheusRule', () => {
  assert.equal(docs.length, 1);
  assert.equal(rule.kind, 'PrometheusRule');
  validateObject(rule);
  assert.ok(alerts.length > 0);
  const names = alerts.map((a) => String(a.alert));
  assert.equal(new Set(names).size, names.length, 'alert names are unique');
});

test('every expression passes promgate PromQL engine and reads only exported metrics', async () => {
  const exported = await exportedMetricNames();
  for (const r of rules) {
    const expr = String(r.expr);
    for (const name of metricNamesOf(expr, exported)) {
      assert.ok(
        exported.has(name) || SCRAPE_SERIES.has(name),
        `${String(r.alert ?? r.record)} reads ${name}, which promgate does not export (src/metrics.ts)`,
      );
    }
  }
});

test('every alert has a severity, a summary, a description and a valid `for`', () => {
  for (const a of alerts) {
    const name = String(a.alert);
    assert.match(
      String(at(a, 'labels', 'severity')),
      /^(critical|warning|info)$/,
      `${name} severity`,
    );
    assert.ok(String(at(a, 'annotations', 'summary')).length > 10, `${name} summary`);
    assert.ok(String(at(a, 'annotations', 'description')).length > 30, `${name} description`);
    assert.match(String(a.for), /^\d+[smh]$/, `${name} for`);
  }
});

test('the alerts cover upstream errors, the auth backend, rejection spikes and readiness', async () => {
  const exported = await exportedMetricNames();
  const reads = (metric: string): boolean =>
    alerts.some((a) => metricNamesOf(String(a.expr), exported).has(metric));
  assert.ok(reads('promgate_upstream_errors_total'), 'an alert on upstream errors');
  assert.ok(
    reads('promgate_authentication_total'),
    'an alert on the auth backend (outcome="unavailable")',
  );
  assert.ok(reads('promgate_kubernetes_tokenreviews_total'), 'an alert on failing TokenReviews');
  assert.ok(reads('promgate_promql_rejections_total'), 'an alert on PromQL rejection spikes');
  assert.ok(
    reads('promgate_authorization_denials_total'),
    'an alert on authorization denial spikes',
  );
  assert.ok(reads('promgate_ready'), 'an alert on not ready (any /readyz failure)');
  assert.ok(reads('up'), 'an alert on promgate being down');
});

test('the promtool unit tests make every alert fire at least once', () => {
  const [cases] = parseYamlDocuments(readFileSync(unitTests, 'utf8'), unitTests);
  const fired = new Set<string>();
  const silent = new Set<string>();
  for (const t of objs(cases?.tests)) {
    for (const a of objs(t.alert_rule_test)) {
      (objs(a.exp_alerts).length > 0 ? fired : silent).add(String(a.alertname));
    }
  }
  const names = alerts.map((a) => String(a.alert));
  assert.deepEqual([...fired].sort(), [...names].sort(), 'alerts with a firing case');
  assert.deepEqual([...silent].sort(), [...names].sort(), 'alerts with a silent case');
  assert.deepEqual(strs(cases?.rule_files), ['rules.yaml']);
});

for (const major of [2, 3] as const) {
  test(`Prometheus ${major}.x promtool: check rules and the alert unit tests pass`, () => {
    const { promtool } = prometheusBinaries()[major === 2 ? 'v2' : 'v3'];
    const dir = mkdtempSync(join(work, `v${major}-`));
    writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: at(rule, 'spec', 'groups') }));
    copyFileSync(unitTests, join(dir, 'tests.yaml'));
    for (const args of [
      ['check', 'rules', 'rules.yaml'],
      ['test', 'rules', 'tests.yaml'],
    ]) {
      const r = spawnSync(promtool, args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      assert.equal(
        r.status,
        0,
        `promtool ${args.join(' ')} (${promtool}):\n${r.stdout}\n${r.stderr}`,
      );
    }
  });
}
