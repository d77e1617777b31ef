import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { filterMetadata, UpstreamShapeError } from '../../src/filters/index.js';
import { metadataBody, VERSIONS } from './fixtures.js';

type Json = Record<string, unknown>;

function keys(out: unknown): string[] {
  const body = out as Json;
  assert.equal(body.status, 'success');
  return Object.keys(body.data as Json).sort();
}

describe('filterMetadata', () => {
  for (const v of VERSIONS) {
    const orders = v === '3.5' ? 'shop_orders' : 'shop_orders_total';
    const CASES: { name: string; series: string[]; expect: string[] }[] = [
      {
        name: 'histogram and summary families by their _bucket/_sum/_count series',
        series: ['http_request_duration_seconds_bucket', 'rpc_duration_seconds_count'],
        expect: ['http_request_duration_seconds', 'rpc_duration_seconds'],
      },
      {
        name: 'counters by their _total series (family named with or without _total)',
        series: ['shop_orders_total', 'invoices_created_total'],
        expect: ['invoices_created_total', orders].sort(),
      },
      { name: 'info family by its _info series', series: ['build_info'], expect: ['build'] },
      { name: 'exact names', series: ['go_goroutines', 'up'], expect: ['go_goroutines'] },
      { name: 'nothing for an empty set', series: [], expect: [] },
      {
        name: 'no prefix matches beyond the known suffixes',
        series: ['go_goroutines_extra', 'node_filesystem_avail', 'http_request_duration'],
        expect: [],
      },
    ];
    for (const c of CASES) {
      it(`${v}: ${c.name}`, () => {
        assert.deepEqual(keys(filterMetadata(metadataBody(v), new Set(c.series))), c.expect);
      });
    }
    it(`${v}: kept entries pass whole`, () => {
      const input = metadataBody(v) as Json;
      const out = filterMetadata(input, new Set(['go_goroutines'])) as Json;
      assert.deepEqual(out.data, { go_goroutines: (input.data as Json).go_goroutines });
    });
  }

  it('keeps a metric named __proto__ as a plain key', () => {
    const body = JSON.parse(
      '{"status":"success","data":{"__proto__":[{"type":"gauge","help":"","unit":""}]}}',
    );
    const out = filterMetadata(body, new Set(['__proto__'])) as Json;
    const data = out.data as Json;
    assert.ok(Object.hasOwn(data, '__proto__'));
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
    assert.equal(
      JSON.stringify(out),
      '{"status":"success","data":{"__proto__":[{"type":"gauge","help":"","unit":""}]}}',
    );
  });

  const MALFORMED: [string, unknown][] = [
    ['data null', { status: 'success', data: null }],
    ['data an array', { status: 'success', data: [] }],
    ['an entry not an array', { status: 'success', data: { up: { type: 'gauge' } } }],
    ['status missing', { data: {} }],
  ];
  for (const [name, body] of MALFORMED) {
    it(`throws a 502 on ${name}`, () => {
      assert.throws(
        () => filterMetadata(body, new Set(['up'])),
        (err: unknown) => err instanceof UpstreamShapeError && err.status === 502,
      );
    });
  }
});
