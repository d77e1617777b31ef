import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { snappyDecode, snappyEncode, SnappyError } from '../../src/remoteread/index.js';

const MiB = 1024 * 1024;

function rejects(input: number[] | Buffer, pattern: RegExp, max = MiB, tooLarge = false): void {
  assert.throws(
    () => snappyDecode(Buffer.from(input), max),
    (err: unknown) => {
      assert.ok(err instanceof SnappyError, `not a SnappyError: ${String(err)}`);
      assert.match(err.message, pattern);
      assert.equal(err.tooLarge, tooLarge);
      return true;
    },
  );
}

describe('snappy block codec', () => {
  const SAMPLES: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from([7])],
    ['text', Buffer.from('up{namespace="ns-a"} '.repeat(500))],
    ['random 100 KiB', randomBytes(100 * 1024)],
    ['zeros 1 MiB', Buffer.alloc(MiB)],
  ];
  for (const [name, data] of SAMPLES) {
    it(`round-trips ${name}`, () => {
      const packed = snappyEncode(data);
      assert.deepEqual(snappyDecode(packed, MiB), data);
    });
  }

  it('decodes hand-made blocks with literals and every copy kind', () => {
    // "abcd" literal, then copy-1 (len 8, offset 4): "abcdabcdabcd".
    assert.equal(
      snappyDecode(Buffer.from([12, 0x0c, 97, 98, 99, 100, 0x11, 4]), MiB).toString(),
      'abcdabcdabcd',
    );
    // copy-2 (len 4, offset 4) and copy-4 (len 2, offset 2).
    assert.equal(
      snappyDecode(
        Buffer.from([10, 0x0c, 97, 98, 99, 100, 0x0e, 4, 0, 0x07, 2, 0, 0, 0]),
        MiB,
      ).toString(),
      'abcdabcdcd',
    );
    // A literal whose length sits in one extra byte (tag 60): 61 bytes.
    const long = Buffer.concat([Buffer.from([61, 60 << 2, 60]), Buffer.alloc(61, 120)]);
    assert.equal(snappyDecode(long, MiB).toString(), 'x'.repeat(61));
  });

  it('refuses oversized input by its declared length, before decoding', () => {
    // Declares 33 MiB in five bytes: no allocation, no decoding.
    const preamble = [0x80, 0x80, 0x80, 0x11];
    rejects(preamble, /decoded size 35651584 bytes exceeds the limit of 33554432/, 32 * MiB, true);
    const big = snappyEncode(Buffer.alloc(2 * MiB, 1));
    rejects(big, /exceeds the limit of 1048576/, MiB, true);
    assert.equal(snappyDecode(big, 2 * MiB).length, 2 * MiB);
  });

  const CORRUPT: [string, number[], RegExp][] = [
    ['empty input', [], /truncated length preamble/],
    ['truncated preamble', [0x80], /truncated length preamble/],
    ['six-byte preamble', [0x80, 0x80, 0x80, 0x80, 0x80, 0x01], /longer than 5 bytes/],
    ['preamble over 32 bits', [0xff, 0xff, 0xff, 0xff, 0x7f], /exceeds 32 bits/],
    ['literal past the input', [5, 0x10, 104, 101], /literal runs past the input/],
    ['truncated literal length', [100, 61 << 2, 1], /truncated literal length/],
    ['copy before any data', [4, 0x01, 1], /copy offset out of range/],
    ['copy offset zero', [8, 0x0c, 1, 2, 3, 4, 0x01, 0], /copy offset out of range/],
    ['copy reaching before the start', [8, 0x0c, 1, 2, 3, 4, 0x01, 5], /copy offset out of range/],
    ['truncated copy', [8, 0x0c, 1, 2, 3, 4, 0x02, 4], /truncated copy/],
    ['data shorter than declared', [9, 0x0c, 1, 2, 3, 4], /shorter than the declared length/],
    ['data longer than declared', [3, 0x0c, 1, 2, 3, 4], /exceeds the declared length/],
    ['trailing bytes', [4, 0x0c, 1, 2, 3, 4, 0x00], /literal runs past the input|exceeds/],
  ];
  for (const [name, input, pattern] of CORRUPT) {
    it(`rejects ${name}`, () => rejects(input, pattern));
  }

  it('rejects every truncation of a valid block', () => {
    const packed = snappyEncode(Buffer.from('{__name__="up",namespace="ns-a"}'.repeat(20)));
    for (let n = 0; n < packed.length; n++) {
      assert.throws(() => snappyDecode(packed.subarray(0, n), MiB), SnappyError, `prefix ${n}`);
    }
  });
});
