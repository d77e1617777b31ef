/**
 * Shared helpers for promgate's end-to-end tests: real Prometheus 2.x/3.x servers with
 * backfilled demo data, a live demo exporter, child processes that never outlive the test
 * file, free ports, a Prometheus API client, bounded waits and parse_query AST tools.
 * Binaries come from `npm run testbed`; a missing one is a failing test, never a skip.
 *
 * @example
 * ```ts
 * import { after, before, test } from 'node:test';
 * import assert from 'node:assert/strict';
 * import { DEMO_EVAL_TIME } from '../../src/demo/data.js';
 * import { startDemoPrometheus, type PrometheusServer } from '../support/index.js';
 *
 * let prom: PrometheusServer;
 * before(async () => { prom = await startDemoPrometheus({ version: 2, namespaces: ['team-b'] }); });
 * after(() => prom?.stop());
 * test('team-b has pods', async () => {
 *   const r = await prom.api('/api/v1/query', { query: 'count(kube_pod_info)', time: DEMO_EVAL_TIME });
 *   assert.ok(r.ok, r.ok ? '' : r.error);
 * });
 * ```
 */
export * from './ast.js';
export * from './binaries.js';
export * from './exporter.js';
export * from './http.js';
export * from './net.js';
export * from './process.js';
export * from './prometheus.js';
export * from './tmp.js';
export * from './wait.js';
