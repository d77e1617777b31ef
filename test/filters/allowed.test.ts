import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { allowedBy } from '../../src/filters/index.js';

describe('allowedBy', () => {
  const CASES: [string, string[], Record<string, string>, boolean][] = [
    ['namespace', ['ns-a'], { namespace: 'ns-a' }, true],
    ['namespace', ['ns-a', 'ns-b'], { namespace: 'ns-b', pod: 'x' }, true],
    ['namespace', ['ns-a'], { namespace: 'ns-b' }, false],
    ['namespace', ['ns-a'], {}, false],
    ['namespace', ['ns-a'], { exported_namespace: 'ns-a' }, false],
    ['namespace', ['ns-a'], { namespace: 'NS-A' }, false],
    ['namespace', ['ns-a'], { namespace: 'ns-a ' }, false],
    // An empty scope value would let "label empty" pass; it is ignored.
    ['namespace', [''], { namespace: '' }, false],
    ['namespace', [], { namespace: 'ns-a' }, false],
    // Inherited members are not labels.
    ['toString', ['ns-a'], {}, false],
    ['tenant', ['t1'], { tenant: 't1' }, true],
  ];
  for (const [label, values, labels, want] of CASES) {
    it(`${label} in [${values.join(',')}] for ${JSON.stringify(labels)} → ${want}`, () => {
      assert.equal(allowedBy(label, values)(labels), want);
    });
  }

  it('does not see later changes to the values array', () => {
    const values = ['ns-a'];
    const allowed = allowedBy('namespace', values);
    values.push('ns-b');
    assert.equal(allowed({ namespace: 'ns-b' }), false);
  });
});
