import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ApiError } from '../../src/errors.js';
import { readToken } from '../../src/http/credentials.js';

const basic = (s: string): string => `Basic ${Buffer.from(s).toString('base64')}`;

describe('readToken', () => {
  it('reads Bearer tokens (scheme case-insensitive)', () => {
    assert.deepEqual(readToken('Bearer abc.def-123'), { scheme: 'bearer', token: 'abc.def-123' });
    assert.deepEqual(readToken('bearer  xyz'), { scheme: 'bearer', token: 'xyz' });
  });
  it('reads the password of Basic credentials as the token', () => {
    assert.deepEqual(readToken(basic('promtool:s3cr3t')), { scheme: 'basic', token: 's3cr3t' });
    assert.deepEqual(readToken(basic(':s3cr3t:with:colons')), {
      scheme: 'basic',
      token: 's3cr3t:with:colons',
    });
  });
  const refused: [string | undefined, RegExp][] = [
    [undefined, /missing credentials/],
    ['', /missing credentials/],
    ['Bearer', /unsupported Authorization scheme/],
    ['Bearer a b', /malformed Authorization header/],
    ['Token abc', /unsupported Authorization scheme/],
    [basic('user-only'), /malformed Basic credentials/],
    [basic('user:'), /malformed Basic credentials/],
    ['Basic !!!', /malformed Basic credentials/],
  ];
  for (const [header, pattern] of refused) {
    it(`401 for ${JSON.stringify(header)}, with WWW-Authenticate and without the header's content`, () => {
      assert.throws(
        () => readToken(header),
        (e: unknown) =>
          e instanceof ApiError &&
          e.status === 401 &&
          pattern.test(e.message) &&
          e.headers['www-authenticate'] !== undefined &&
          (header === undefined || header.length < 8 || !e.message.includes(header.slice(7))),
      );
    });
  }
});
