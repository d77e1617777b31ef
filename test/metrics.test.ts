/**
 * promgate's metric families follow Prometheus's naming conventions
 * (https://prometheus.io/docs/practices/naming/) and each has HELP text; their labels are
 * bounded; `promgate_build_info` and `promgate_ready` say what they should. A new family that
 * breaks a rule fails here, before it reaches a dashboard or an alert.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type client from 'prom-client';
import { createMetrics, type Metrics } from '../src/metrics.js';
import { readinessProblems, startOpsServer, type Readiness } from '../src/routes/ops.js';

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly labelNames: readonly string[];
  readonly buckets?: readonly number[];
}

/** The registered families with what prom-client keeps of them (label names, buckets). */
function families(metrics: Metrics): Family[] {
  return metrics.registry.getMetricsAsArray().map((m) => {
    const raw = m as unknown as { labelNames?: unknown; upperBounds?: unknown };
    return {
      name: m.name,
      help: m.help,
      type: String(m.type),
      labelNames: Array.isArray(raw.labelNames) ? raw.labelNames.map(String) : [],
      ...(Array.isArray(raw.upperBounds) ? { buckets: raw.upperBounds.map(Number) } : {}),
    };
  });
}

function promgateFamilies(): Family[] {
  const metrics = createMetrics({ collectDefault: false });
  return families(metrics).filter((f) => f.name.startsWith('promgate_'));
}

/** Units that are not base units, as name components (`_ms`, `_milliseconds`, `_kilobytes`…). */
const NON_BASE_UNITS = new Set([
  'ms',
  'millis',
  'milliseconds',
  'us',
  'microseconds',
  'ns',
  'nanoseconds',
  'minutes',
  'hours',
  'days',
  'kb',
  'kib',
  'kilobytes',
  'mb',
  'mib',
  'megabytes',
  'gb',
  'gigabytes',
  'bits',
  'percent',
]);
const BASE_UNITS = new Set(['seconds', 'bytes', 'ratio']);
/** Words that say a family measures time or size: such a family must carry the base unit. */
const TIME_WORDS = new Set(['duration', 'latency', 'time', 'age', 'elapsed', 'timeout']);
/** Label names that would be unbounded (one series per path, caller, query or request). */
const UNBOUNDED_LABELS = new Set([
  'path',
  'url',
  'uri',
  'token',
  'user',
  'username',
  'identity',
  'name',
  'query',
  'request_id',
  'ip',
  'remote',
  'namespace',
]);

test('every family is registered, exported with HELP, and every Metrics field is one', async () => {
  const metrics = createMetrics({ collectDefault: true });
  const text = await metrics.registry.metrics();
  const helped = new Set([...text.matchAll(/^# HELP (\S+) \S.*$/gm)].map((m) => m[1]));
  const typed = new Set([...text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]));
  const all = families(metrics);
  assert.ok(all.length > 20);
  for (const f of all) {
    assert.ok(helped.has(f.name), `${f.name}: no HELP line in the exposition`);
    assert.ok(typed.has(f.name), `${f.name}: no TYPE line in the exposition`);
  }
  // Every field of the Metrics object (except the registry) is a registered family.
  const registered = new Set(all.map((f) => f.name));
  for (const [field, value] of Object.entries(metrics)) {
    if (field === 'registry') continue;
    const name = (value as { name?: unknown }).name;
    assert.equal(typeof name, 'string', `Metrics.${field} is not a metric`);
    assert.ok(registered.has(name as string), `Metrics.${field} (${String(name)}) not registered`);
  }
});

/** Every way `all` breaks the conventions, one line per problem. */
function conventionProblems(all: readonly Family[]): string[] {
  const problems: string[] = [];
  for (const f of all) {
    const say = (why: string): number => problems.push(`${f.name} (${f.type}): ${why}`);
    if (!/^promgate_[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(f.name))
      say('not snake_case under the promgate_ prefix (colons are for recording rules)');
    const words = f.name.split('_').slice(1);
    const last = words[words.length - 1] ?? '';
    if (f.type === 'counter' && last !== 'total') say('a counter must end in _total');
    if (f.type !== 'counter' && words.includes('total'))
      say('only counters end in _total (and no other name may contain it)');
    for (const reserved of ['count', 'sum', 'bucket'])
      if (last === reserved) say(`_${reserved} is reserved for histogram and summary series`);
    if (last === 'info' && f.type !== 'gauge') say('an _info family is a gauge');
    const unitWords = f.type === 'counter' ? words.slice(0, -1) : words;
    for (const [i, w] of unitWords.entries()) {
      if (NON_BASE_UNITS.has(w)) say(`"${w}" is not a base unit: use seconds or bytes`);
      if (BASE_UNITS.has(w) && i !== unitWords.length - 1)
        say(`the unit "${w}" must be the last word (before _total for a counter)`);
    }
    const unit = unitWords[unitWords.length - 1] ?? '';
    if (unitWords.some((w) => TIME_WORDS.has(w)) && unit !== 'seconds')
      say('measures time, so it must end in _seconds');
    if (f.type === 'histogram' && !['seconds', 'bytes', 'size'].includes(unit))
      say('a histogram names what it measures with a unit suffix (or _size for a count)');

    if (f.help.trim() === '' || f.help === f.name) say('HELP text is missing');
    else {
      if (!/^[A-Z0-9]/.test(f.help)) say('HELP starts with a capital letter');
      if (!f.help.endsWith('.')) say('HELP is a sentence ending in "."');
      if (f.help.length < 20) say('HELP is too short to explain anything');
    }

    for (const l of f.labelNames) {
      if (!/^[a-z][a-z0-9_]*$/.test(l)) say(`label "${l}" is not snake_case`);
      if (l.startsWith('__')) say(`label "${l}" is reserved`);
      if (f.type !== 'histogram' && l === 'le') say('label "le" is reserved for histograms');
      if (l === 'quantile') say('label "quantile" is reserved for summaries');
      if (UNBOUNDED_LABELS.has(l)) say(`label "${l}" would be unbounded (or name a caller)`);
    }
    if (f.buckets !== undefined) {
      if (f.buckets.length < 5) say('too few buckets to compute a quantile');
      for (let i = 1; i < f.buckets.length; i++) {
        if (!((f.buckets[i] ?? 0) > (f.buckets[i - 1] ?? 0))) say('buckets must increase');
      }
      if ((f.buckets[0] ?? 0) <= 0) say('buckets must be positive');
    }
  }
  return problems;
}

test('promgate families follow Prometheus naming conventions', () => {
  const all = promgateFamilies();
  assert.ok(all.length >= 20, `only ${all.length} promgate families`);
  assert.deepEqual(conventionProblems(all), []);
});

test('the convention check catches badly named families', async () => {
  const { default: prom } = await import('prom-client');
  const registry = new prom.Registry();
  const r = [registry];
  new prom.Counter({ name: 'promgate_requests', help: 'Requests served.', registers: r });
  new prom.Gauge({ name: 'promgate_queue_total', help: 'Queued requests now.', registers: r });
  new prom.Histogram({
    name: 'promgate_request_duration_ms',
    help: 'Request time in milliseconds.',
    registers: r,
  });
  new prom.Counter({
    name: 'promgate_hits_total',
    help: 'hits',
    labelNames: ['path'],
    registers: r,
  });
  new prom.Gauge({ name: 'promgate_seconds_lag', help: 'Lag behind the upstream.', registers: r });
  const problems = conventionProblems(families({ registry } as unknown as Metrics));
  const expect = [
    /promgate_requests .*must end in _total/,
    /promgate_queue_total .*only counters end in _total/,
    /promgate_request_duration_ms .*"ms" is not a base unit/,
    /promgate_request_duration_ms .*must end in _seconds/,
    /promgate_hits_total .*HELP starts with a capital/,
    /promgate_hits_total .*label "path" would be unbounded/,
    /promgate_seconds_lag .*unit "seconds" must be the last word/,
  ];
  for (const re of expect)
    assert.ok(
      problems.some((p) => re.test(p)),
      `expected a problem matching ${re}:\n${problems.join('\n')}`,
    );
});

test('the documented families of issue 5 exist with the documented types and labels', () => {
  const byName = new Map(promgateFamilies().map((f) => [f.name, f]));
  const expected: [string, string, string[]][] = [
    ['promgate_http_requests_total', 'counter', ['route', 'method', 'code']],
    ['promgate_http_request_duration_seconds', 'histogram', ['route']],
    ['promgate_http_requests_in_flight', 'gauge', ['route']],
    ['promgate_http_response_bytes_total', 'counter', ['route']],
    ['promgate_upstream_request_duration_seconds', 'histogram', ['route']],
    ['promgate_upstream_errors_total', 'counter', ['route', 'reason']],
    ['promgate_promql_rewrite_duration_seconds', 'histogram', ['kind']],
    ['promgate_promql_rejections_total', 'counter', ['reason']],
    ['promgate_authentication_total', 'counter', ['mode', 'outcome']],
    ['promgate_authorization_denials_total', 'counter', ['reason']],
    ['promgate_ready', 'gauge', []],
    ['promgate_build_info', 'gauge', ['version', 'node_version']],
  ];
  for (const [name, type, labels] of expected) {
    const f = byName.get(name);
    assert.ok(f, `${name} is not registered`);
    assert.equal(f.type, type, `${name}'s type`);
    assert.deepEqual([...f.labelNames].sort(), [...labels].sort(), `${name}'s labels`);
  }
});

test('promgate_build_info carries package.json version and the Node.js version', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const metrics = createMetrics({ collectDefault: false });
  const text = await metrics.registry.getSingleMetricAsString('promgate_build_info');
  assert.ok(
    text.includes(
      `promgate_build_info{version="${pkg.version}",node_version="${process.versions.node}"} 1`,
    ),
    text,
  );
  const pinned = createMetrics({ collectDefault: false, version: '9.9.9-test' });
  assert.match(
    await pinned.registry.getSingleMetricAsString('promgate_build_info'),
    /promgate_build_info\{version="9\.9\.9-test",node_version="[0-9.]+"\} 1/,
  );
});

test('readinessProblems names each missing condition', () => {
  const ok: Readiness = { shuttingDown: false, backend: true, upstream: true };
  assert.deepEqual(readinessProblems(ok), []);
  assert.deepEqual(readinessProblems({ ...ok, shuttingDown: true }), ['shutting down']);
  assert.deepEqual(readinessProblems({ ...ok, backend: false }), ['auth backend not ready']);
  assert.deepEqual(readinessProblems({ shuttingDown: true, backend: false, upstream: false }), [
    'shutting down',
    'auth backend not ready',
    'upstream has not answered recently',
  ]);
});

test('promgate_ready is 0 until checked, then follows /readyz at every scrape', async (t) => {
  const metrics = createMetrics({ collectDefault: false });
  const readyValue = async (m: client.Registry): Promise<string> =>
    /^promgate_ready (\S+)$/m.exec(await m.getSingleMetricAsString('promgate_ready'))?.[1] ?? '';
  assert.equal(await readyValue(metrics.registry), '0', 'not ready until proven');

  let state: Readiness = { shuttingDown: false, backend: true, upstream: false };
  const ops = await startOpsServer(
    { host: '127.0.0.1', port: 0 },
    { metrics, readiness: () => state },
  );
  t.after(() => ops.close());
  const scrape = async (): Promise<string> => {
    const res = await fetch(`${ops.url}/metrics`);
    assert.equal(res.status, 200);
    return /^promgate_ready (\S+)$/m.exec(await res.text())?.[1] ?? '';
  };
  const readyz = async (): Promise<number> => {
    const res = await fetch(`${ops.url}/readyz`);
    await res.arrayBuffer();
    return res.status;
  };

  assert.equal(await readyz(), 503);
  assert.equal(await scrape(), '0');
  state = { ...state, upstream: true };
  assert.equal(await scrape(), '1', 'a scrape alone re-evaluates readiness');
  assert.equal(await readyz(), 200);
  state = { ...state, shuttingDown: true };
  assert.equal(await readyz(), 503);
  assert.equal(await readyValue(metrics.registry), '0', '/readyz sets the gauge too');
  assert.equal(await scrape(), '0');
  assert.match(await (await fetch(`${ops.url}/metrics`)).text(), /^# HELP promgate_ready \S/m);
});
