import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { allowedBy, filterAlerts, UpstreamShapeError } from '../../src/filters/index.js';
import { alertsBody, VERSIONS } from './fixtures.js';

type Json = Record<string, unknown>;

function names(out: unknown): string[] {
  const body = out as Json;
  assert.equal(body.status, 'success');
  return ((body.data as Json).alerts as Json[]).map((a) => {
    const l = a.labels as Json;
    return `${String(l.alertname)}@${String(l.namespace ?? '-')}`;
  });
}

const CASES: { scope: string[]; expect: string[] }[] = [
  { scope: ['ns-a'], expect: ['KubePodCrashLooping@ns-a', 'ShopHighErrorRate@ns-a'] },
  { scope: ['ns-b'], expect: ['KubePodCrashLooping@ns-b'] },
  {
    scope: ['ns-a', 'ns-b'],
    expect: ['KubePodCrashLooping@ns-a', 'KubePodCrashLooping@ns-b', 'ShopHighErrorRate@ns-a'],
  },
  // No alert of its own; exported_namespace is not the enforced label.
  { scope: ['ns-c'], expect: [] },
];

describe('filterAlerts', () => {
  for (const v of VERSIONS) {
    for (const c of CASES) {
      it(`${v}: scope ${c.scope.join('|')}`, () => {
        assert.deepEqual(
          names(filterAlerts(alertsBody(v), allowedBy('namespace', c.scope))),
          c.expect,
        );
      });
    }
    it(`${v}: kept alerts pass whole (annotations, activeAt, value, keepFiringSince)`, () => {
      const input = alertsBody(v) as Json;
      const out = filterAlerts(input, allowedBy('namespace', ['ns-a'])) as Json;
      const all = (input.data as Json).alerts as Json[];
      assert.deepEqual((out.data as Json).alerts, [all[0], all[2]]);
    });
  }

  it('enforces another label when configured', () => {
    const out = filterAlerts(alertsBody('3.5'), allowedBy('exported_namespace', ['ns-a']));
    assert.deepEqual(names(out), ['IngressErrors@-']);
  });

  it('drops keys of data it does not know', () => {
    const out = filterAlerts(
      { status: 'success', data: { alerts: [], totalFiring: 3 }, warnings: ['x'] },
      allowedBy('namespace', ['ns-a']),
    );
    assert.deepEqual(out, { status: 'success', data: { alerts: [] } });
  });

  it('passes an error body', () => {
    const err = { status: 'error', errorType: 'internal', error: 'boom' };
    assert.deepEqual(filterAlerts(err, allowedBy('namespace', ['ns-a'])), err);
  });

  const MALFORMED: [string, unknown][] = [
    ['a string', '{"status":"success"}'],
    ['alerts missing', { status: 'success', data: {} }],
    ['alerts null', { status: 'success', data: { alerts: null } }],
    ['an alert without labels', { status: 'success', data: { alerts: [{ state: 'firing' }] } }],
    [
      'labels an array',
      { status: 'success', data: { alerts: [{ labels: [['namespace', 'ns-a']] }] } },
    ],
    ['a numeric label', { status: 'success', data: { alerts: [{ labels: { namespace: 7 } }] } }],
  ];
  for (const [name, body] of MALFORMED) {
    it(`throws a 502 on ${name}`, () => {
      assert.throws(
        () => filterAlerts(body, allowedBy('namespace', ['ns-a'])),
        (err: unknown) => err instanceof UpstreamShapeError && err.status === 502,
      );
    });
  }
});
