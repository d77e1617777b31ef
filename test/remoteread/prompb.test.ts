import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import protobuf from 'protobufjs';

import {
  marshalReadRequest,
  ProtoError,
  SAMPLES,
  STREAMED_XOR_CHUNKS,
  unmarshalReadRequest,
  type ReadRequest,
} from '../../src/remoteread/index.js';
import { ReadRequestType, toPlain } from './reference-schema.js';

const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;

/** What a Prometheus 2.55+ reader sends for `rate(http_requests_total{…}[5m])` by (code). */
const FULL: ReadRequest = {
  queries: [
    {
      startTimestampMs: 1714557600000n,
      endTimestampMs: 1714561200000n,
      matchers: [
        { type: '=', name: '__name__', value: 'http_requests_total' },
        { type: '!=', name: 'code', value: '200' },
        { type: '=~', name: 'pod', value: 'shop-.*' },
        { type: '!~', name: 'path', value: '/healthz|/metrics' },
        { type: '=', name: 'namespace', value: 'ns-a' },
      ],
      hints: {
        stepMs: 15000n,
        func: 'rate',
        startMs: 1714557300001n,
        endMs: 1714561200000n,
        grouping: ['code', 'pod'],
        by: true,
        rangeMs: 300000n,
      },
    },
    {
      // Prometheus's "all time" bounds, unicode label values, no hints, EQ with empty value.
      startTimestampMs: MIN_INT64,
      endTimestampMs: MAX_INT64,
      matchers: [
        { type: '=', name: '__name__', value: 'kube_pod_info' },
        { type: '=', name: 'node', value: '' },
        { type: '=~', name: 'label_team', value: 'zürich|東京' },
      ],
    },
    { startTimestampMs: -5n, endTimestampMs: 0n, matchers: [] },
  ],
  acceptedResponseTypes: [STREAMED_XOR_CHUNKS, SAMPLES],
};

/** `FULL` as protobufjs's reflection sees it (int64 as strings, enums as numbers). */
const FULL_PLAIN = {
  queries: [
    {
      start_timestamp_ms: '1714557600000',
      end_timestamp_ms: '1714561200000',
      matchers: [
        { type: 0, name: '__name__', value: 'http_requests_total' },
        { type: 1, name: 'code', value: '200' },
        { type: 2, name: 'pod', value: 'shop-.*' },
        { type: 3, name: 'path', value: '/healthz|/metrics' },
        { type: 0, name: 'namespace', value: 'ns-a' },
      ],
      hints: {
        step_ms: '15000',
        func: 'rate',
        start_ms: '1714557300001',
        end_ms: '1714561200000',
        grouping: ['code', 'pod'],
        by: true,
        range_ms: '300000',
      },
    },
    {
      start_timestamp_ms: MIN_INT64.toString(),
      end_timestamp_ms: MAX_INT64.toString(),
      matchers: [
        { type: 0, name: '__name__', value: 'kube_pod_info' },
        { type: 0, name: 'node', value: '' },
        { type: 2, name: 'label_team', value: 'zürich|東京' },
      ],
      hints: null,
    },
    { start_timestamp_ms: '-5', end_timestamp_ms: '0', matchers: [], hints: null },
  ],
  accepted_response_types: [1, 0],
};

/** Raw protobuf bytes from (field, wire type, payload) triples. */
function wire(...parts: [number, number, number | Uint8Array | string][]): Uint8Array {
  const w = protobuf.Writer.create();
  for (const [field, wt, payload] of parts) {
    w.uint32((field << 3) | wt);
    if (wt === 0) w.uint64(payload as number);
    else if (typeof payload === 'string') w.string(payload);
    else w.bytes(payload as Uint8Array);
  }
  return w.finish();
}

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => unmarshalReadRequest(bytes),
    (err: unknown) => {
      assert.ok(err instanceof ProtoError, `not a ProtoError: ${String(err)}`);
      assert.match(err.message, pattern);
      return true;
    },
  );
}

describe('ReadRequest codec', () => {
  it('round-trips every field, int64 extremes and unicode', () => {
    assert.deepEqual(unmarshalReadRequest(marshalReadRequest(FULL)), FULL);
  });

  it('writes what an independent protobuf implementation reads', () => {
    assert.deepEqual(toPlain(ReadRequestType, marshalReadRequest(FULL)), FULL_PLAIN);
  });

  it('reads what an independent protobuf implementation writes', () => {
    const bytes = ReadRequestType.encode(ReadRequestType.fromObject(FULL_PLAIN)).finish();
    assert.deepEqual(unmarshalReadRequest(bytes), FULL);
  });

  it('reads response types packed and unpacked, and writes them packed', () => {
    const unpacked = wire([2, 0, 1], [2, 0, 0]);
    assert.deepEqual(unmarshalReadRequest(unpacked).acceptedResponseTypes, [1, 0]);
    const packed = wire([2, 2, Uint8Array.from([1, 0])]);
    assert.deepEqual(unmarshalReadRequest(packed).acceptedResponseTypes, [1, 0]);
    assert.deepEqual(marshalReadRequest({ queries: [], acceptedResponseTypes: [1, 0] }), packed);
  });

  it('keeps hints present but empty apart from absent hints', () => {
    const withEmpty: ReadRequest = {
      queries: [
        {
          startTimestampMs: 1n,
          endTimestampMs: 2n,
          matchers: [],
          hints: {
            stepMs: 0n,
            func: '',
            startMs: 0n,
            endMs: 0n,
            grouping: [],
            by: false,
            rangeMs: 0n,
          },
        },
      ],
      acceptedResponseTypes: [],
    };
    const bytes = marshalReadRequest(withEmpty);
    assert.deepEqual(unmarshalReadRequest(bytes), withEmpty);
    const plain = toPlain(ReadRequestType, bytes).queries as Record<string, unknown>[];
    assert.notEqual(plain[0]?.hints, null);
    const without = {
      ...withEmpty,
      queries: [{ startTimestampMs: 1n, endTimestampMs: 2n, matchers: [] }],
    };
    assert.ok(!('hints' in unmarshalReadRequest(marshalReadRequest(without)).queries[0]!));
  });

  it('reads an empty body as a request with no queries (SAMPLES by default)', () => {
    assert.deepEqual(unmarshalReadRequest(new Uint8Array()), {
      queries: [],
      acceptedResponseTypes: [],
    });
  });

  const matcher = (type: number): Uint8Array => wire([1, 0, type], [2, 2, 'a'], [3, 2, 'b']);
  const query = (...parts: [number, number, number | Uint8Array | string][]): Uint8Array =>
    wire([1, 2, wire(...parts)]);
  const invalidUtf8 = Uint8Array.from([0x6e, 0x73, 0xff, 0x61]);

  const MALFORMED: [string, Uint8Array, RegExp][] = [
    ['an unknown ReadRequest field', wire([3, 2, 'x']), /unknown field number 3 in ReadRequest/],
    ['an unknown Query field', query([5, 0, 1]), /unknown field number 5 in Query/],
    [
      'an unknown LabelMatcher field',
      query([3, 2, wire([4, 2, 'x'])]),
      /unknown field number 4 in LabelMatcher/,
    ],
    [
      'an unknown ReadHints field',
      query([4, 2, wire([8, 0, 1])]),
      /unknown field number 8 in ReadHints/,
    ],
    ['field number 0', Uint8Array.from([0x02, 0x00]), /unknown field number 0/],
    ['a varint where a message belongs', wire([1, 0, 5]), /queries has wire type varint/],
    [
      'a string where a varint belongs',
      query([1, 2, 'x']),
      /start_timestamp_ms has wire type length-delimited/,
    ],
    ['a fixed64 field', Uint8Array.from([0x09, 1, 2, 3, 4, 5, 6, 7, 8]), /wire type fixed64/],
    ['a group', Uint8Array.from([0x0b, 0x0c]), /wire type group start/],
    [
      'a repeated start time',
      query([1, 0, 1], [1, 0, 2]),
      /start_timestamp_ms occurs more than once/,
    ],
    [
      'two hints',
      query([4, 2, new Uint8Array()], [4, 2, new Uint8Array()]),
      /hints occurs more than once/,
    ],
    [
      'a repeated matcher name',
      query([3, 2, wire([2, 2, 'a'], [2, 2, 'b'])]),
      /name occurs more than once/,
    ],
    ['matcher type 4', query([3, 2, matcher(4)]), /LabelMatcher.type has unknown value 4/],
    [
      'a huge matcher type',
      query([3, 2, matcher(2 ** 32 + 1)]),
      /LabelMatcher.type has unknown value 4294967297/,
    ],
    ['response type 2', wire([2, 0, 2]), /accepted_response_types has unknown value 2/],
    ['a packed response type 7', wire([2, 2, Uint8Array.from([0, 7])]), /unknown value 7/],
    [
      'invalid UTF-8 in a label name',
      query([3, 2, wire([2, 2, invalidUtf8])]),
      /LabelMatcher.name is not valid UTF-8/,
    ],
    [
      'invalid UTF-8 in a value',
      query([3, 2, wire([3, 2, invalidUtf8])]),
      /LabelMatcher.value is not valid UTF-8/,
    ],
    [
      'invalid UTF-8 in grouping',
      query([4, 2, wire([5, 2, invalidUtf8])]),
      /ReadHints.grouping is not valid UTF-8/,
    ],
    ['a length past the end', Uint8Array.from([0x0a, 0x05, 0x08]), /malformed protobuf/],
    ['a truncated varint', Uint8Array.from([0x12, 0x01, 0x80]), /malformed protobuf/],
    ['a truncated tag', Uint8Array.from([0x80]), /malformed protobuf/],
    [
      'an over-long tag',
      Uint8Array.from([0x8a, 0x80, 0x80, 0x80, 0x80, 0x00, 0, 0, 0, 0, 0]),
      /over-long field tag/,
    ],
  ];
  for (const [name, bytes, pattern] of MALFORMED) {
    it(`rejects ${name}`, () => rejects(bytes, pattern));
  }

  it('rejects every truncation of a valid request, or reads it as a shorter valid one', () => {
    const bytes = marshalReadRequest(FULL);
    for (let n = 1; n < bytes.length; n++) {
      try {
        const partial = unmarshalReadRequest(bytes.subarray(0, n));
        // A cut exactly between top-level fields is itself a valid, smaller request.
        assert.ok(
          partial.queries.length < FULL.queries.length || partial.acceptedResponseTypes.length < 2,
        );
      } catch (err) {
        assert.ok(err instanceof ProtoError, `prefix ${n}: ${String(err)}`);
      }
    }
  });
});
