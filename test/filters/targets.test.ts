import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { allowedBy, filterTargets, UpstreamShapeError } from '../../src/filters/index.js';
import { targetsBody, VERSIONS } from './fixtures.js';

type Json = Record<string, unknown>;

function pods(out: unknown): string[] {
  const body = out as Json;
  assert.equal(body.status, 'success');
  return ((body.data as Json).activeTargets as Json[]).map((t) =>
    String((t.labels as Json).pod ?? (t.labels as Json).instance),
  );
}

const CASES: { scope: string[]; expect: string[] }[] = [
  { scope: ['ns-a'], expect: ['shop-frontend-7d9f'] },
  { scope: ['ns-b'], expect: ['billing-api-0'] },
  { scope: ['ns-a', 'ns-c'], expect: ['shop-frontend-7d9f', 'batch-1'] },
  { scope: ['ns-z'], expect: [] },
];

describe('filterTargets', () => {
  for (const v of VERSIONS) {
    for (const c of CASES) {
      it(`${v}: scope ${c.scope.join('|')} sees its active targets, no dropped ones`, () => {
        const out = filterTargets(targetsBody(v), allowedBy('namespace', c.scope)) as Json;
        assert.deepEqual(pods(out), c.expect);
        const data = out.data as Json;
        assert.deepEqual(data.droppedTargets, []);
        if (v === '3.5') assert.deepEqual(data.droppedTargetCounts, {});
        else assert.ok(!('droppedTargetCounts' in data));
      });
    }

    it(`${v}: a kept target passes whole, its own discoveredLabels included`, () => {
      const input = targetsBody(v) as Json;
      const out = filterTargets(input, allowedBy('namespace', ['ns-a'])) as Json;
      const first = ((input.data as Json).activeTargets as Json[])[0];
      assert.deepEqual((out.data as Json).activeTargets, [first]);
    });

    it(`${v}: nothing of other namespaces' pods leaks (dropped targets included)`, () => {
      const text = JSON.stringify(filterTargets(targetsBody(v), allowedBy('namespace', ['ns-a'])));
      for (const secret of [
        'billing',
        'ns-b',
        'batch-1',
        'shop-redis',
        'node-exporter',
        '10.0.0.12',
      ]) {
        assert.ok(!text.includes(secret), `output mentions ${secret}`);
      }
    });
  }

  it('keeps a target only by its relabelled labels, not by discovered ones', () => {
    const body = {
      status: 'success',
      data: {
        activeTargets: [
          // Discovered in ns-a, but relabelled into ns-b (or the label dropped): not ns-a's.
          {
            discoveredLabels: { __meta_kubernetes_namespace: 'ns-a' },
            labels: { namespace: 'ns-b' },
          },
          { discoveredLabels: { __meta_kubernetes_namespace: 'ns-a' }, labels: { job: 'x' } },
        ],
        droppedTargets: [],
      },
    };
    assert.deepEqual(pods(filterTargets(body, allowedBy('namespace', ['ns-a']))), []);
  });

  it('drops keys of data it does not know', () => {
    const out = filterTargets(
      { status: 'success', data: { activeTargets: [], droppedTargets: [], totalTargets: 80 } },
      allowedBy('namespace', ['ns-a']),
    );
    assert.deepEqual(out, { status: 'success', data: { activeTargets: [], droppedTargets: [] } });
  });

  it('accepts state=active/dropped answers (null lists)', () => {
    const out = filterTargets(
      { status: 'success', data: { activeTargets: null, droppedTargets: null } },
      allowedBy('namespace', ['ns-a']),
    );
    assert.deepEqual(out, { status: 'success', data: { activeTargets: [], droppedTargets: [] } });
  });

  const MALFORMED: [string, unknown][] = [
    ['data an array', { status: 'success', data: [] }],
    [
      'activeTargets an object',
      { status: 'success', data: { activeTargets: {}, droppedTargets: [] } },
    ],
    [
      'droppedTargets a string',
      { status: 'success', data: { activeTargets: [], droppedTargets: 'x' } },
    ],
    [
      'a target without labels',
      { status: 'success', data: { activeTargets: [{ scrapePool: 'p' }] } },
    ],
    [
      'droppedTargetCounts an array',
      {
        status: 'success',
        data: { activeTargets: [], droppedTargets: [], droppedTargetCounts: [1] },
      },
    ],
  ];
  for (const [name, body] of MALFORMED) {
    it(`throws a 502 on ${name}`, () => {
      assert.throws(
        () => filterTargets(body, allowedBy('namespace', ['ns-a'])),
        (err: unknown) => err instanceof UpstreamShapeError && err.status === 502,
      );
    });
  }
});
