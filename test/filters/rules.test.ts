import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ApiError } from '../../src/errors.js';
import {
  allowedBy,
  filterRules,
  REDACTED_RULE_ERROR,
  UpstreamShapeError,
} from '../../src/filters/index.js';
import { rulesBody, VERSIONS } from './fixtures.js';

type Json = Record<string, unknown>;

interface Summary {
  /** `group/rule` of every visible rule, in order. */
  rules: string[];
  /** `rule: namespace,…` of every visible alert. */
  alerts: string[];
}

function groupsOf(out: unknown): Json[] {
  const body = out as Json;
  assert.equal(body.status, 'success');
  return (body.data as Json).groups as Json[];
}

function summarize(out: unknown): Summary {
  const rules: string[] = [];
  const alerts: string[] = [];
  for (const g of groupsOf(out)) {
    for (const r of g.rules as Json[]) {
      rules.push(`${String(g.name)}/${String(r.name)}`);
      const list = r.alerts as Json[] | null | undefined;
      if (list && list.length > 0) {
        const ns = list.map((a) => (a.labels as Json).namespace ?? '-');
        alerts.push(`${String(r.name)}: ${ns.join(',')}`);
      }
    }
  }
  return { rules, alerts };
}

function findRule(out: unknown, name: string): Json {
  for (const g of groupsOf(out)) {
    for (const r of g.rules as Json[]) if (r.name === name) return r;
  }
  assert.fail(`rule ${name} not in output`);
}

const CASES: { scope: string[]; rules: string[]; alerts: string[] }[] = [
  {
    scope: ['ns-a'],
    rules: [
      'kubernetes-apps/KubePodCrashLooping',
      'shop/ShopHighErrorRate',
      'shop/shop:http_requests:rate5m',
    ],
    alerts: ['KubePodCrashLooping: ns-a', 'ShopHighErrorRate: ns-a'],
  },
  {
    scope: ['ns-b'],
    rules: [
      'kubernetes-apps/KubePodCrashLooping',
      'kubernetes-apps/KubeContainerWaiting',
      'billing/BillingDependsOnShop',
      'billing/billing:invoices:rate5m',
    ],
    alerts: ['KubePodCrashLooping: ns-b,ns-b', 'KubeContainerWaiting: ns-b'],
  },
  {
    scope: ['ns-a', 'ns-b'],
    rules: [
      'kubernetes-apps/KubePodCrashLooping',
      'kubernetes-apps/KubeContainerWaiting',
      'shop/ShopHighErrorRate',
      'shop/shop:http_requests:rate5m',
      'billing/BillingDependsOnShop',
      'billing/billing:invoices:rate5m',
    ],
    alerts: [
      'KubePodCrashLooping: ns-a,ns-b,ns-b',
      'KubeContainerWaiting: ns-b',
      'ShopHighErrorRate: ns-a',
    ],
  },
  { scope: ['ns-c'], rules: [], alerts: [] },
];

describe('filterRules', () => {
  for (const v of VERSIONS) {
    for (const c of CASES) {
      it(`${v}: scope ${c.scope.join('|')} sees only its rules and alerts`, () => {
        const out = filterRules(rulesBody(v), allowedBy('namespace', c.scope));
        assert.deepEqual(summarize(out), { rules: c.rules, alerts: c.alerts });
        // No alert of another namespace anywhere in the answer.
        for (const g of groupsOf(out)) {
          assert.ok((g.rules as Json[]).length > 0, 'empty groups are dropped');
          for (const r of g.rules as Json[]) {
            for (const a of (r.alerts as Json[] | null) ?? []) {
              assert.ok(c.scope.includes(String((a.labels as Json).namespace)));
            }
          }
        }
      });
    }

    it(`${v}: ns-a learns nothing of ns-b's pods, errors or rules`, () => {
      const text = JSON.stringify(filterRules(rulesBody(v), allowedBy('namespace', ['ns-a'])));
      for (const secret of ['billing', 'ns-b', 'duplicate series', 'node-exporter']) {
        assert.ok(!text.includes(secret), `output mentions ${secret}`);
      }
    });

    it(`${v}: a shared rule shown for its alerts gets its state recomputed`, () => {
      // KubePodCrashLooping fires for ns-b; ns-a's own alert is only pending.
      const out = filterRules(rulesBody(v), allowedBy('namespace', ['ns-a']));
      assert.equal(findRule(out, 'KubePodCrashLooping').state, 'pending');
      const both = filterRules(rulesBody(v), allowedBy('namespace', ['ns-a', 'ns-b']));
      assert.equal(findRule(both, 'KubePodCrashLooping').state, 'firing');
    });

    it(`${v}: a shared rule's lastError is redacted, health kept`, () => {
      const out = filterRules(rulesBody(v), allowedBy('namespace', ['ns-b']));
      const rule = findRule(out, 'KubeContainerWaiting');
      assert.equal(rule.health, 'err');
      assert.equal(rule.lastError, REDACTED_RULE_ERROR);
    });

    it(`${v}: a tenant-owned rule passes whole (query, state, health, timings, keepFiringFor)`, () => {
      const input = rulesBody(v);
      const out = filterRules(input, allowedBy('namespace', ['ns-a']));
      const original = ((((input as Json).data as Json).groups as Json[])[1]!.rules as Json[])[0];
      assert.deepEqual(findRule(out, 'ShopHighErrorRate'), original);
      // The group around it keeps its own fields.
      const shop = groupsOf(out).find((g) => g.name === 'shop');
      assert.deepEqual(Object.keys(shop ?? {}), [
        'name',
        'file',
        'rules',
        'interval',
        'limit',
        'evaluationTime',
        'lastEvaluation',
      ]);
    });

    it(`${v}: the input is not modified`, () => {
      const input = rulesBody(v);
      const copy = structuredClone(input);
      filterRules(input, allowedBy('namespace', ['ns-a']));
      assert.deepEqual(input, copy);
    });

    it(`${v}: exclude_alerts (alerts: null) shows only tenant-owned rules`, () => {
      const out = filterRules(
        rulesBody(v, { excludeAlerts: true }),
        allowedBy('namespace', ['ns-a']),
      );
      assert.deepEqual(summarize(out), {
        rules: ['shop/ShopHighErrorRate', 'shop/shop:http_requests:rate5m'],
        alerts: [],
      });
      assert.equal(findRule(out, 'ShopHighErrorRate').alerts, null);
    });
  }

  for (const v of VERSIONS) {
    it(`${v}: excludeAlerts decides on the alerts, then drops them as exclude_alerts would`, () => {
      const out = filterRules(rulesBody(v), allowedBy('namespace', ['ns-a']), {
        excludeAlerts: true,
      });
      // The shared rule stays visible (it fired for ns-a), unlike with an upstream
      // exclude_alerts answer; no alert is left in the answer.
      assert.deepEqual(summarize(out).rules, [
        'kubernetes-apps/KubePodCrashLooping',
        'shop/ShopHighErrorRate',
        'shop/shop:http_requests:rate5m',
      ]);
      assert.equal(findRule(out, 'KubePodCrashLooping').alerts, null);
      assert.equal(findRule(out, 'KubePodCrashLooping').state, 'pending');
      assert.equal(findRule(out, 'ShopHighErrorRate').alerts, null);
      assert.ok(!('alerts' in findRule(out, 'shop:http_requests:rate5m')));
    });
  }

  it('decides a rule with a templated enforced label by its expanded alerts', () => {
    // Static labels may be templates: the rule shows the template text, its alerts the values.
    const body = {
      status: 'success',
      data: {
        groups: [
          {
            name: 'ingress',
            file: '/etc/prometheus/rules/ingress.yml',
            interval: 60,
            rules: [
              {
                state: 'firing',
                name: 'IngressErrors',
                query:
                  'sum by (exported_namespace) (rate(nginx_ingress_controller_requests{status=~"5.."}[5m])) > 1',
                duration: 0,
                labels: { namespace: '{{ $labels.exported_namespace }}' },
                annotations: {},
                alerts: [
                  {
                    labels: {
                      alertname: 'IngressErrors',
                      exported_namespace: 'ns-a',
                      namespace: 'ns-a',
                    },
                    annotations: {},
                    state: 'pending',
                    activeAt: '2024-05-01T10:00:00Z',
                    value: '2e+00',
                  },
                  {
                    labels: {
                      alertname: 'IngressErrors',
                      exported_namespace: 'ns-b',
                      namespace: 'ns-b',
                    },
                    annotations: {},
                    state: 'firing',
                    activeAt: '2024-05-01T10:00:00Z',
                    value: '7e+00',
                  },
                ],
                health: 'ok',
                type: 'alerting',
              },
            ],
          },
        ],
      },
    };
    const out = filterRules(body, allowedBy('namespace', ['ns-a']));
    assert.deepEqual(summarize(out), {
      rules: ['ingress/IngressErrors'],
      alerts: ['IngressErrors: ns-a'],
    });
    assert.equal(findRule(out, 'IngressErrors').state, 'pending');
    const none = filterRules(body, allowedBy('namespace', ['ns-c']));
    assert.deepEqual(summarize(none), { rules: [], alerts: [] });
  });

  it('does not let a label named like an Object member satisfy the scope', () => {
    const body = {
      status: 'success',
      data: {
        groups: [
          {
            name: 'g',
            rules: [
              { type: 'recording', name: 'r', query: 'x', labels: {} },
              { type: 'recording', name: 'r2', query: 'x', labels: { namespace: '' } },
            ],
          },
        ],
      },
    };
    assert.deepEqual(summarize(filterRules(body, allowedBy('constructor', ['ns-a']))).rules, []);
    assert.deepEqual(summarize(filterRules(body, allowedBy('namespace', ['', 'ns-a']))).rules, []);
  });

  it('passes a Prometheus error body, rebuilt', () => {
    const out = filterRules(
      { status: 'error', errorType: 'bad_data', error: 'invalid parameter "type"', data: { x: 1 } },
      allowedBy('namespace', ['ns-a']),
    );
    assert.deepEqual(out, {
      status: 'error',
      errorType: 'bad_data',
      error: 'invalid parameter "type"',
    });
  });

  it('drops keys of data it does not know (aggregates over every tenant)', () => {
    const out = filterRules(
      { status: 'success', data: { groups: [], totals: { firing: 12 } } },
      allowedBy('namespace', ['ns-a']),
    );
    assert.deepEqual(out, { status: 'success', data: { groups: [] } });
  });

  it('drops top-level warnings', () => {
    const out = filterRules(
      { status: 'success', data: { groups: [] }, warnings: ['store ns-b down'] },
      allowedBy('namespace', ['ns-a']),
    );
    assert.deepEqual(out, { status: 'success', data: { groups: [] } });
  });

  const MALFORMED: [string, unknown][] = [
    ['not an object', 'oops'],
    ['null', null],
    ['an array', []],
    ['unknown status', { status: 'partial', data: { groups: [] } }],
    ['no data', { status: 'success' }],
    ['groups not an array', { status: 'success', data: { groups: {} } }],
    ['groups missing', { status: 'success', data: {} }],
    ['group not an object', { status: 'success', data: { groups: [null] } }],
    ['rules missing', { status: 'success', data: { groups: [{ name: 'g' }] } }],
    [
      'unknown rule type',
      {
        status: 'success',
        data: { groups: [{ name: 'g', rules: [{ type: 'other', name: 'x' }] }] },
      },
    ],
    [
      'rule type missing',
      { status: 'success', data: { groups: [{ name: 'g', rules: [{ name: 'x' }] }] } },
    ],
    [
      'labels not an object',
      {
        status: 'success',
        data: { groups: [{ name: 'g', rules: [{ type: 'recording', labels: ['a'] }] }] },
      },
    ],
    [
      'label value not a string',
      {
        status: 'success',
        data: { groups: [{ name: 'g', rules: [{ type: 'recording', labels: { namespace: 1 } }] }] },
      },
    ],
    [
      'alerts not an array',
      {
        status: 'success',
        data: { groups: [{ name: 'g', rules: [{ type: 'alerting', labels: {}, alerts: {} }] }] },
      },
    ],
    [
      'alert without labels',
      {
        status: 'success',
        data: {
          groups: [
            { name: 'g', rules: [{ type: 'alerting', labels: {}, alerts: [{ state: 'firing' }] }] },
          ],
        },
      },
    ],
    [
      'alert with an unknown state',
      {
        status: 'success',
        data: {
          groups: [
            {
              name: 'g',
              rules: [
                {
                  type: 'alerting',
                  labels: {},
                  alerts: [{ labels: { namespace: 'ns-a' }, state: 'exploded' }],
                },
              ],
            },
          ],
        },
      },
    ],
    [
      'a paginated answer (groupNextToken)',
      { status: 'success', data: { groups: [], groupNextToken: 'billing' } },
    ],
    ['error body without message', { status: 'error', errorType: 'internal' }],
  ];
  for (const [name, body] of MALFORMED) {
    it(`throws a 502 on ${name}`, () => {
      assert.throws(
        () => filterRules(body, allowedBy('namespace', ['ns-a'])),
        (err: unknown) => {
          assert.ok(err instanceof UpstreamShapeError);
          assert.ok(err instanceof ApiError);
          assert.equal(err.status, 502);
          assert.match(err.message, /\/api\/v1\/rules/);
          return true;
        },
      );
    });
  }

  it('never quotes upstream values in its errors', () => {
    const body = {
      status: 'success',
      data: { groups: [{ name: 'g', rules: [{ type: 'secret-ns-b-type' }] }] },
    };
    assert.throws(
      () => filterRules(body, allowedBy('namespace', ['ns-a'])),
      (err: unknown) => err instanceof Error && !err.message.includes('secret'),
    );
  });
});
