import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeLabelName, encodeLabelName } from '../src/labelnames.js';

describe('U__ label names (prometheus/common UnescapeName / EscapeName)', () => {
  const decoded: [string, string][] = [
    ['U__namespace', 'namespace'],
    ['U__http_2e_status__code', 'http.status_code'],
    ['U______name____', '__name__'],
    ['U__job', 'job'],
    ['U___1f600_', '\u{1f600}'],
    ['namespace', 'namespace'],
    ['U_namespace', 'U_namespace'],
    // Malformed: the whole name is taken literally.
    ['U__http_2e_status_code', 'U__http_2e_status_code'], // "_co" is not hex
    ['U__a_', 'U__a_'],
    ['U__a_2e', 'U__a_2e'],
    ['U__a_zz_', 'U__a_zz_'],
    ['U__a_10ffff_', 'U__a_10ffff_'], // six digits: more than Go accepts
    ['U__a_d800_', 'U__a_d800_'], // surrogate
  ];
  for (const [input, output] of decoded) {
    it(`decodes ${input}`, () => assert.equal(decodeLabelName(input), output));
  }

  it('encodes legacy names plain and everything else escaped', () => {
    assert.equal(encodeLabelName('namespace'), 'namespace');
    assert.equal(encodeLabelName('__name__'), '__name__');
    assert.equal(encodeLabelName('http.status_code'), 'U__http_2e_status__code');
    assert.equal(encodeLabelName('U__x'), 'U__U____x', 'a literal U__ name must survive decoding');
    assert.equal(encodeLabelName('a:b'), 'U__a_3a_b');
  });

  it("round-trips any name whose code points fit Go's five hex digits", () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), (name) => {
        fc.pre([...name].every((c) => (c.codePointAt(0) ?? 0) <= 0xfffff));
        assert.equal(decodeLabelName(encodeLabelName(name)), name);
      }),
    );
  });
});
