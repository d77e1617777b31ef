import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/errors.js';
import { encodeForm, Params, parseForm } from '../../src/http/params.js';

const bad = (f: () => unknown, pattern: RegExp): void => {
  assert.throws(
    f,
    (e: unknown) => e instanceof ApiError && e.status === 400 && pattern.test(e.message),
  );
};

describe('parseForm (Go url.ParseQuery semantics, ambiguity refused)', () => {
  it('splits pairs like Go', () => {
    assert.deepEqual(parseForm('a=1&b=2+3&c&&d=%2B%26', 'URL'), [
      ['a', '1'],
      ['b', '2 3'],
      ['c', ''],
      ['d', '+&'],
    ]);
    assert.deepEqual(parseForm('quer%79=up', 'URL'), [['query', 'up']], 'escaped names decode too');
    assert.deepEqual(parseForm('q=%E2%9C%93', 'URL'), [['q', '\u2713']]);
    assert.deepEqual(parseForm('', 'URL'), []);
  });
  it('treats raw non-ASCII bytes (latin1 string) as UTF-8', () => {
    assert.deepEqual(parseForm(Buffer.from('q=\u00e9', 'utf8').toString('latin1'), 'body'), [
      ['q', '\u00e9'],
    ]);
  });
  it('refuses a raw ";" (Go drops the pair, Node keeps it)', () => {
    bad(() => parseForm('query=up;x=1', 'URL'), /raw ";"/);
  });
  it('refuses malformed escapes and invalid UTF-8', () => {
    bad(() => parseForm('query=%zz', 'URL'), /malformed percent-escape/);
    bad(() => parseForm('query=%', 'URL'), /malformed percent-escape/);
    bad(() => parseForm('query=%ff', 'body'), /UTF-8/);
  });
});

describe('Params', () => {
  it('merges body first, then URL; repeatable values are a union', () => {
    const p = new Params(
      parseForm('match[]=a&match[]=b', 'URL'),
      parseForm('match[]=c&match[]=a', 'body'),
    );
    assert.deepEqual(p.all('match[]'), ['c', 'a', 'b']);
  });
  it('refuses a single-valued parameter given twice, in one place or both', () => {
    bad(
      () => new Params(parseForm('query=a', 'URL'), parseForm('query=b', 'body')).single('query'),
      /parameter "query" is given 2 times/,
    );
    bad(() => new Params(parseForm('query=a&query=a', 'URL')).single('query'), /"query"/);
    assert.equal(new Params(parseForm('query=a', 'URL')).single('query'), 'a');
    assert.equal(new Params([]).single('query'), undefined);
  });
  it('encodes canonically and round-trips through parseForm', () => {
    const pairs: [string, string][] = [
      ['query', 'sum(x{a=~"b|c"}) / 2 + 1 # c'],
      ['match[]', "{x!=''}"],
      ['e', '\u2713 ;&='],
    ];
    const text = encodeForm(pairs);
    assert.doesNotMatch(text, /[;'()!* ]/);
    assert.deepEqual(parseForm(text, 'body'), pairs);
  });
});
