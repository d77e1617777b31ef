/**
 * Proves the end-to-end test bed works: both Prometheus versions start, backfilled demo data
 * is queryable with exactly the values src/demo/data.ts defines, a tenant-only server holds
 * exactly its namespaces' series (none without the label), and the live exporter is scraped
 * and federated identically.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DEMO_EVAL_TIME,
  DEMO_WINDOW,
  demoSeries,
  exposition,
  type DemoSeries,
} from '../../src/demo/data.js';
import {
  prometheusBinaries,
  prometheusData,
  startDemoExporter,
  startDemoPrometheus,
  startPrometheus,
  waitFor,
  type PrometheusServer,
  type QueryData,
  type VectorSample,
} from './index.js';
import { validFor } from '../corpus/queries.js';

const TENANT = ['team-a-dev', 'team-a-prod'] as const;
const { start, end, step } = DEMO_WINDOW;

/** Last grid sample time of a series at or before t, if any (backfill grid: start + k·step). */
function lastSampleAt(s: DemoSeries, t: number): number | undefined {
  const last = Math.min(t, end, s.to - 1);
  const first = start + Math.max(0, Math.ceil((s.from - start) / step)) * step;
  if (last < first) return undefined;
  return first + Math.floor((last - first) / step) * step;
}

/** What an instant query for `name` at t returns: series with a sample in the 5 m lookback. */
function expectedInstant(name: string, t: number, namespaces: 'all' | readonly string[]) {
  const out = new Map<string, number>();
  for (const s of demoSeries(start, end, namespaces)) {
    if (s.name !== name) continue;
    const at = lastSampleAt(s, t);
    // 2.x includes t−5m, 3.x excludes it: the chosen t must not depend on that edge.
    assert.notEqual(at, t - 300, 'pick an evaluation time off the lookback edge');
    if (at !== undefined && at > t - 300)
      out.set(key({ __name__: s.name, ...s.labels }), s.value(at));
  }
  return out;
}

function key(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function vectorMap(result: readonly VectorSample[]): Map<string, number> {
  return new Map(result.map((r) => [key(r.metric), Number(r.value[1])]));
}

test('prometheusBinaries finds Prometheus 2.42 and 3.x with their promtool', (t) => {
  const { v2, v3 } = prometheusBinaries();
  assert.match(v2.version, /^2\.42\./);
  assert.match(v3.version, /^3\./);
  assert.notEqual(v2.prometheus, v3.prometheus);
  t.diagnostic(`prometheus ${v2.version} (${v2.prometheus}), ${v3.version} (${v3.prometheus})`);
});

test('a Prometheus that cannot start fails with its own output in the error', async () => {
  await assert.rejects(
    startPrometheus({ version: 3, config: 'scrape_configs: [ {job_name: ' }),
    (err: Error) => /exited/.test(err.message) && /prometheus\.yml|yaml|parse/i.test(err.message),
  );
});

describe('backfilled demo data', () => {
  let full2: PrometheusServer;
  let full3: PrometheusServer;
  let tenant3: PrometheusServer;
  before(async () => {
    [full2, full3, tenant3] = await Promise.all([
      startDemoPrometheus({ version: 2 }),
      startDemoPrometheus({ version: 3 }),
      startDemoPrometheus({ version: 3, namespaces: TENANT }),
    ]);
  });
  after(() => Promise.all([full2?.stop(), full3?.stop(), tenant3?.stop()]));

  for (const v of [2, 3] as const) {
    test(`Prometheus ${v}.x answers with the generator's exact values`, async () => {
      const prom = v === 2 ? full2 : full3;
      for (const name of [
        'container_memory_working_set_bytes',
        'http_requests_total',
        'node_cpu_seconds_total',
      ]) {
        const data = await prometheusData<{ result: VectorSample[] }>(prom.url, '/api/v1/query', {
          query: name,
          time: DEMO_EVAL_TIME,
        });
        const expected = expectedInstant(name, DEMO_EVAL_TIME, 'all');
        assert.ok(expected.size > 0, `${name} has data at the evaluation time`);
        assert.deepEqual(mapDiff(vectorMap(data.result), expected), [], name);
      }
    });

    test(`Prometheus ${v}.x holds every generated series of the window`, async () => {
      const prom = v === 2 ? full2 : full3;
      const series = await prometheusData<unknown[]>(prom.url, '/api/v1/series', {
        'match[]': '{__name__=~".+"}',
        start,
        end,
      });
      assert.equal(series.length, demoSeries(start, end).length);
    });
  }

  test('every valid corpus query runs on the demo data and returns series unless marked empty', async (t) => {
    const failures: string[] = [];
    let checked = 0;
    for (const v of [2, 3] as const) {
      const prom = v === 2 ? full2 : full3;
      for (const q of validFor(v)) {
        const r = await prom.api<QueryData>('/api/v1/query', {
          query: q.query,
          time: DEMO_EVAL_TIME,
        });
        checked++;
        if (!r.ok) {
          failures.push(`${v}.x [${q.id}] ${r.error}`);
          continue;
        }
        const empty =
          (r.data.resultType === 'vector' || r.data.resultType === 'matrix') &&
          r.data.result.length === 0;
        if (empty !== (q.empty === true)) {
          failures.push(
            `${v}.x [${q.id}] ${empty ? 'returned no series' : 'returned series but is marked empty'}`,
          );
        }
      }
    }
    t.diagnostic(`${checked} query evaluations`);
    assert.deepEqual(failures, []);
  });

  test('range queries over the window work (rate of counters with resets)', async () => {
    const data = await prometheusData<{ resultType: string; result: { values: unknown[] }[] }>(
      full3.url,
      '/api/v1/query_range',
      {
        query: 'sum by (namespace) (rate(http_requests_total[5m]))',
        start: start + 600,
        end,
        step: 60,
      },
    );
    assert.equal(data.resultType, 'matrix');
    assert.deepEqual(data.result.length, 4); // team-a-dev, team-a-prod, team-b, monitoring
    for (const s of data.result) assert.ok(s.values.length > 100);
  });

  test('the tenant-only server holds exactly its namespaces, nothing without the label', async () => {
    const window = { start, end };
    const ns = await prometheusData<string[]>(
      tenant3.url,
      '/api/v1/label/namespace/values',
      window,
    );
    assert.deepEqual(ns, [...TENANT]);
    const all = await prometheusData<unknown[]>(tenant3.url, '/api/v1/series', {
      'match[]': '{__name__=~".+"}',
      ...window,
    });
    assert.equal(all.length, demoSeries(start, end, TENANT).length);
    // Series lacking `namespace` (node-level, pushgateway) exist in the full server only.
    const unlabelled = { 'match[]': '{__name__=~".+",namespace=""}', ...window };
    assert.deepEqual(await prometheusData(tenant3.url, '/api/v1/series', unlabelled), []);
    const fullUnlabelled = await prometheusData<{ __name__: string }[]>(
      full3.url,
      '/api/v1/series',
      unlabelled,
    );
    const names = new Set(fullUnlabelled.map((s) => s.__name__));
    for (const n of [
      'node_cpu_seconds_total',
      'node_memory_MemAvailable_bytes',
      'batch_job_last_success_timestamp_seconds',
    ]) {
      assert.ok(names.has(n), `${n} (no namespace label) is in the full server`);
    }
    const exported = await prometheusData<string[]>(
      tenant3.url,
      '/api/v1/label/exported_namespace/values',
      window,
    );
    assert.deepEqual(exported, []);
    const fullNs = await prometheusData<string[]>(
      full3.url,
      '/api/v1/label/namespace/values',
      window,
    );
    assert.deepEqual(fullNs, ['kube-system', 'monitoring', 'team-a-dev', 'team-a-prod', 'team-b']);
  });
});

describe('live exporter', () => {
  test('a tenant-filtered scrape federates exactly the exporter samples of that tenant', async (t) => {
    const exporter = await startDemoExporter();
    t.after(() => exporter.stop());
    const prom = await startPrometheus({
      version: 3,
      config: {
        global: { scrape_interval: '1s' },
        scrape_configs: [exporter.scrapeConfig({ jobName: 'demo', namespaces: ['team-b'] })],
      },
    });
    t.after(() => prom.stop());

    const expected = parseText(
      exposition(exporter.time, { namespaces: ['team-b'], timestamps: true }),
    );
    assert.ok(expected.size > 20);
    const federated = await waitFor('the first scrape to be federated', async () => {
      const res = await fetch(
        `${prom.url}/federate?match[]=${encodeURIComponent('{namespace!=""}')}`,
      );
      const got = parseText(await res.text());
      return got.size >= expected.size ? got : undefined;
    });
    assert.deepEqual(mapDiff(federated, expected), []);
    assert.ok(exporter.scrapes >= 1);
  });
});

/** Parses exposition text into "name{labels}" → "value timestamp" (comments dropped). */
function parseText(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+?(?:\{.*\})?) (\S+)(?: (\d+))?$/.exec(line);
    assert.ok(m, `unparsable line: ${line}`);
    out.set(m[1] ?? '', `${Number(m[2])} ${m[3] ?? ''}`);
  }
  return out;
}

/** Differences between two maps, as short lines (empty when equal). */
function mapDiff<V>(actual: Map<string, V>, expected: Map<string, V>): string[] {
  const out: string[] = [];
  for (const [k, v] of expected) {
    if (!actual.has(k)) out.push(`missing ${k} = ${String(v)}`);
    else if (actual.get(k) !== v) out.push(`${k}: got ${String(actual.get(k))}, want ${String(v)}`);
  }
  for (const [k, v] of actual) if (!expected.has(k)) out.push(`unexpected ${k} = ${String(v)}`);
  return out.slice(0, 20);
}
