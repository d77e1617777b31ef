/** The operator listener: /metrics, /healthz, /readyz, separate from the tenant port. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createMetrics } from '../../src/metrics.js';
import { startHarness } from './fake-upstream.js';

async function until(what: string, f: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

describe('operator listener', () => {
  it('serves health, readiness and every metric family; tenant paths are not there', async () => {
    const h = await startHarness();
    try {
      const ops = h.promgate.metricsUrl;
      assert.equal((await fetch(`${ops}/healthz`)).status, 200);
      await until('ready', async () => (await fetch(`${ops}/readyz`)).status === 200);
      assert.equal(h.promgate.ready(), true);
      assert.equal((await fetch(`${ops}/api/v1/query?query=up`)).status, 404);
      assert.equal((await fetch(`${ops}/metrics`, { method: 'POST' })).status, 405);
      assert.equal((await h.request('/healthz')).status, 404, 'not on the tenant port');

      assert.equal((await h.request('/api/v1/query?query=up')).status, 200);
      assert.equal((await h.request('/api/v1/query?query=up{namespace="x"}')).status, 403);
      const res = await fetch(`${ops}/metrics`);
      assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
      const text = await res.text();
      const families = Object.values(createMetrics({ collectDefault: false }))
        .map((m) => (m as { name?: string }).name)
        .filter((n): n is string => typeof n === 'string');
      for (const name of families) assert.ok(text.includes(`# HELP ${name} `), `${name} exported`);
      assert.match(
        text,
        /promgate_http_requests_total\{route="query",method="GET",code="200"\} 1\n/,
      );
      assert.match(
        text,
        /promgate_http_requests_total\{route="query",method="GET",code="403"\} 1\n/,
      );
      assert.match(text, /promgate_http_request_duration_seconds_count\{route="query"\} 2\n/);
      assert.match(text, /promgate_upstream_request_duration_seconds_count\{route="query"\} 1\n/);
      assert.match(text, /promgate_promql_rewrite_duration_seconds_count\{kind="query"\} 2\n/);
      assert.match(text, /promgate_http_requests_in_flight\{route="query"\} 0\n/);
      assert.match(text, /promgate_http_response_bytes_total\{route="query"\} [1-9]/);
      assert.match(text, /promgate_scope_size_count [1-9]/);
      assert.match(text, /process_cpu_seconds_total/);
      assert.doesNotMatch(text, /route="\/api/, 'route labels are families, never raw paths');
    } finally {
      await h.close();
    }
  });

  it('is not ready when the upstream stops answering', async () => {
    const h = await startHarness(['--upstream-probe-interval', '200ms']);
    try {
      const ops = h.promgate.metricsUrl;
      await until('ready', async () => (await fetch(`${ops}/readyz`)).status === 200);
      await h.upstream.close();
      await until('not ready', async () => (await fetch(`${ops}/readyz`)).status === 503);
      assert.match(
        await (await fetch(`${ops}/readyz`)).text(),
        /upstream has not answered recently/,
      );
      assert.equal((await fetch(`${ops}/healthz`)).status, 200, 'still alive');
    } finally {
      await h.promgate.close();
    }
  });
});
