/**
 * The Grafana dashboard deploy/dashboards/promgate.json: it is what generate.mjs produces,
 * its layout is sound, every query (panels and template variables, with Grafana's variables
 * substituted) passes promgate's own PromQL engine and reads only metrics promgate exports,
 * and every promgate metric family appears on it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { createMetrics } from '../../src/metrics.js';
import { at, isObj, objs, type Obj, repoRoot } from './support.js';
import { exportedMetricNames, metricNamesOf, SCRAPE_SERIES } from './metric-names.js';

const file = join(repoRoot, 'deploy/dashboards/promgate.json');
const text = readFileSync(file, 'utf8');

function dashboard(): Obj {
  const d: unknown = JSON.parse(text);
  assert.ok(isObj(d), 'the dashboard is a JSON object');
  return d;
}

/** Panels, rows' nested panels included. */
function panels(d: Obj): Obj[] {
  return objs(d.panels).flatMap((p) => [p, ...objs(p.panels)]);
}

const BUILTINS: Record<string, string> = {
  __rate_interval: '5m',
  __interval: '1m',
  __range: '1h',
};

/** Replaces Grafana's `$var`, `${var}` and `[[var]]` with test values; returns the names used. */
function substitute(expr: string, used: Set<string>): string {
  return expr.replace(
    /\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g,
    (_, a?: string, b?: string, c?: string) => {
      const name = a ?? b ?? c ?? '';
      used.add(name);
      return BUILTINS[name] ?? 'x';
    },
  );
}

/** The PromQL inside a template variable's query: `label_values(<selector>, label)` etc. */
function variableQuery(v: Obj): string | undefined {
  const q = isObj(v.query) ? String(v.query.query) : String(v.query);
  if (v.type !== 'query') return undefined;
  const m = /^label_values\((.+),\s*\w+\)$/.exec(q) ?? /^query_result\((.+)\)$/.exec(q);
  assert.ok(m?.[1], `variable ${String(v.name)}: query ${q} is not label_values(selector, label)`);
  return m[1];
}

test('promgate.json is the output of generate.mjs', async () => {
  const mod: unknown = await import(
    pathToFileURL(join(repoRoot, 'deploy/dashboards/generate.mjs')).href
  );
  assert.ok(
    isObj(mod) && typeof mod.renderDashboard === 'function',
    'generate.mjs exports renderDashboard',
  );
  const rendered: unknown = (mod.renderDashboard as () => unknown)();
  assert.equal(text, rendered, 'promgate.json is stale: run `node deploy/dashboards/generate.mjs`');
});

test('identity and layout: uid, unique ids, a 24-column grid without overlaps', () => {
  const d = dashboard();
  assert.equal(d.uid, 'promgate');
  assert.equal(d.title, 'promgate');
  assert.ok(Number(d.schemaVersion) >= 36, 'schemaVersion of Grafana 9+');
  const all = panels(d);
  const ids = all.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  const boxes = all.map((p) => {
    const g = p.gridPos;
    assert.ok(isObj(g), `panel ${String(p.title)} has a gridPos`);
    const [x, y, w, h] = [g.x, g.y, g.w, g.h].map(Number) as [number, number, number, number];
    assert.ok(
      x >= 0 && w > 0 && x + w <= 24 && h > 0 && y >= 0,
      `panel ${String(p.title)} fits the grid`,
    );
    return { title: String(p.title), x, y, w, h };
  });
  for (const [i, a] of boxes.entries()) {
    for (const b of boxes.slice(i + 1)) {
      const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
      assert.ok(!overlap, `panels "${a.title}" and "${b.title}" overlap`);
    }
  }
  for (const p of all.filter((x) => x.type !== 'row')) {
    assert.ok(String(p.description ?? '').length > 0, `panel ${String(p.title)} has a description`);
    assert.equal(
      at(p, 'datasource', 'uid'),
      '${datasource}',
      `panel ${String(p.title)} uses the datasource variable`,
    );
    assert.ok(objs(p.targets).length > 0, `panel ${String(p.title)} has queries`);
  }
});

test('every query passes promgate PromQL engine, reads exported metrics, uses defined variables', async () => {
  const d = dashboard();
  const exported = await exportedMetricNames();
  const variables = objs(at(d, 'templating', 'list'));
  const defined = new Set(variables.map((v) => String(v.name)));
  const used = new Set<string>();
  const queries: { where: string; expr: string }[] = [];
  for (const p of panels(d)) {
    for (const t of objs(p.targets))
      queries.push({
        where: `panel "${String(p.title)}" ${String(t.refId)}`,
        expr: String(t.expr),
      });
  }
  for (const v of variables) {
    const q = variableQuery(v);
    if (q !== undefined) queries.push({ where: `variable ${String(v.name)}`, expr: q });
  }
  assert.ok(queries.length > 30, 'the dashboard has queries');
  for (const { where, expr } of queries) {
    const names = metricNamesOf(substitute(expr, used), exported);
    for (const n of names) {
      assert.ok(
        exported.has(n) || SCRAPE_SERIES.has(n),
        `${where} reads ${n}, which promgate does not export`,
      );
    }
  }
  for (const name of used) {
    assert.ok(
      name in BUILTINS || defined.has(name),
      `$${name} is used but not a dashboard variable`,
    );
  }
});

test('every promgate metric family is on the dashboard', async () => {
  const exported = await exportedMetricNames();
  const onDashboard = new Set<string>();
  for (const p of panels(dashboard())) {
    for (const t of objs(p.targets)) {
      for (const n of metricNamesOf(substitute(String(t.expr), new Set()), exported))
        onDashboard.add(n);
    }
  }
  const metrics = createMetrics({ collectDefault: false });
  const families = (await metrics.registry.getMetricsAsJSON()).map((m) => ({
    name: m.name,
    type: String(m.type),
  }));
  for (const f of families.filter((x) => x.name.startsWith('promgate_'))) {
    const samples =
      f.type === 'histogram' ? [`${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`] : [f.name];
    assert.ok(
      samples.some((s) => onDashboard.has(s)),
      `${f.name} is exported but not shown on the dashboard`,
    );
  }
});
