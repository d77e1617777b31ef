import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ApiError } from '../../src/errors.js';
import type { EnforceTarget, LabelMatcher, PromQLPolicy } from '../../src/promql/index.js';
import {
  decodeReadRequest,
  encodeReadRequest,
  enforceReadRequest,
  SAMPLES,
  snappyEncode,
  STREAMED_XOR_CHUNKS,
  type ReadQuery,
  type ReadRequest,
  type ResponseType,
} from '../../src/remoteread/index.js';

const POLICY: PromQLPolicy = {
  maxQueryBytes: 64 * 1024,
  maxDepth: 64,
  maxSelectors: 64,
  maxRangeMs: 0,
  allowedFunctions: new Set(['rate', 'sum']),
  strictScope: true,
};
const NS_A: EnforceTarget = { label: 'namespace', values: ['ns-a'] };
const NS_AB: EnforceTarget = { label: 'namespace', values: ['ns-a', 'ns-b'] };

const m = (type: LabelMatcher['type'], name: string, value: string): LabelMatcher => ({
  type,
  name,
  value,
});
const query = (matchers: LabelMatcher[], extra: Partial<ReadQuery> = {}): ReadQuery => ({
  startTimestampMs: 1714557600000n,
  endTimestampMs: 1714561200000n,
  matchers,
  ...extra,
});
const request = (
  queries: ReadQuery[],
  types: ResponseType[] = [STREAMED_XOR_CHUNKS, SAMPLES],
): ReadRequest => ({
  queries,
  acceptedResponseTypes: types,
});

function enforce(req: ReadRequest, target = NS_A, policy = POLICY): ReadRequest {
  return decodeReadRequest(enforceReadRequest(encodeReadRequest(req), target, policy));
}

function assertApiError(fn: () => unknown, status: number, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ApiError, `not an ApiError: ${String(err)}`);
    assert.equal(err.status, status, err.message);
    assert.equal(err.errorType, status === 403 ? 'forbidden' : 'bad_data');
    assert.match(err.message, pattern);
    return true;
  });
}

describe('enforceReadRequest', () => {
  describe('with the PromQL engine', () => {
    const TYPES: LabelMatcher[] = [
      m('=', '__name__', 'http_requests_total'),
      m('!=', 'code', '200'),
      m('=~', 'pod', 'shop-.+'),
      m('!~', 'path', '/healthz|/metrics'),
    ];

    it('appends the enforced matcher and keeps every matcher type as written', () => {
      const out = enforce(request([query(TYPES)]));
      assert.deepEqual(out.queries[0]?.matchers, [...TYPES, m('=', 'namespace', 'ns-a')]);
    });

    it('uses one sorted regex for several namespaces', () => {
      const out = enforce(request([query(TYPES)]), {
        label: 'namespace',
        values: ['ns-a', 'ns-b'],
      });
      assert.deepEqual(out.queries[0]?.matchers, [...TYPES, m('=~', 'namespace', 'ns-a|ns-b')]);
    });

    it('escapes regex metacharacters of namespace values', () => {
      const out = enforce(request([query([m('=', '__name__', 'up')])]), {
        label: 'namespace',
        values: ['a.b', 'c'],
      });
      assert.deepEqual(out.queries[0]?.matchers.at(-1), m('=~', 'namespace', 'a\\.b|c'));
    });

    it('enforces every query, and keeps time ranges, hints and response types', () => {
      const hints = {
        stepMs: 15000n,
        func: 'rate',
        startMs: 1714557300001n,
        endMs: 1714561200000n,
        grouping: ['code'],
        by: true,
        rangeMs: 300000n,
      };
      const input = request([
        query([m('=', '__name__', 'http_requests_total')], { hints }),
        query([m('=', '__name__', 'kube_pod_info'), m('=', 'namespace', 'ns-b')], {
          startTimestampMs: -(2n ** 63n),
          endTimestampMs: 2n ** 63n - 1n,
        }),
        query([m('=~', '__name__', 'container_.*')]),
      ]);
      const out = enforce(input, NS_AB);
      assert.deepEqual(out, {
        acceptedResponseTypes: [STREAMED_XOR_CHUNKS, SAMPLES],
        queries: input.queries.map((q) => ({
          ...q,
          matchers: [...q.matchers, m('=~', 'namespace', 'ns-a|ns-b')],
        })),
      });
    });

    it('keeps a matcher on the label inside the scope, ANDed with the enforced one', () => {
      const own = [m('=', '__name__', 'up'), m('=', 'namespace', 'ns-b')];
      assert.deepEqual(enforce(request([query(own)]), NS_AB).queries[0]?.matchers, [
        ...own,
        m('=~', 'namespace', 'ns-a|ns-b'),
      ]);
      const wide = [m('=', '__name__', 'up'), m('=~', 'namespace', '.+')];
      assert.deepEqual(enforce(request([query(wide)])).queries[0]?.matchers, [
        ...wide,
        m('=', 'namespace', 'ns-a'),
      ]);
    });

    it('refuses an equality on a namespace outside the scope with a 403 naming it', () => {
      const req = request([
        query([m('=', '__name__', 'up')]),
        query([m('=', '__name__', 'up'), m('=', 'namespace', 'ns-b')]),
      ]);
      assertApiError(
        () => enforceReadRequest(encodeReadRequest(req), NS_A, POLICY),
        403,
        /query 1: .*ns-b/,
      );
    });

    it('without strictScope, lets the ANDed matcher empty the answer instead', () => {
      const matchers = [m('=', '__name__', 'up'), m('=', 'namespace', 'ns-b')];
      const out = enforce(request([query(matchers)]), NS_A, { ...POLICY, strictScope: false });
      assert.deepEqual(out.queries[0]?.matchers, [...matchers, m('=', 'namespace', 'ns-a')]);
    });

    const EMPTY: [string, LabelMatcher[]][] = [
      ['no matchers', []],
      ['only an empty equality', [m('=', 'job', '')]],
      ['only a regex matching ""', [m('=~', '__name__', '.*')]],
      ['only negative matchers', [m('!=', 'job', 'x'), m('!~', 'pod', 'y.*')]],
    ];
    for (const [name, matchers] of EMPTY) {
      it(`refuses a query with ${name} (it would select series lacking every label)`, () => {
        assertApiError(
          () =>
            enforceReadRequest(
              encodeReadRequest(request([query([m('=', '__name__', 'up')]), query(matchers)])),
              NS_A,
              POLICY,
            ),
          400,
          /query 1/,
        );
      });
    }
  });

  describe('without reaching the engine', () => {
    it('forwards a request with no queries, re-encoded, response types kept', () => {
      const out = enforce(request([], [STREAMED_XOR_CHUNKS]));
      assert.deepEqual(out, { queries: [], acceptedResponseTypes: [STREAMED_XOR_CHUNKS] });
    });

    it('refuses an empty scope with a 403 before decoding', () => {
      assertApiError(
        () =>
          enforceReadRequest(Buffer.from('garbage'), { label: 'namespace', values: [] }, POLICY),
        403,
        /no namespace/,
      );
    });

    const BAD: [string, Buffer, RegExp][] = [
      ['an empty body', Buffer.alloc(0), /not valid snappy/],
      [
        'plain protobuf (not compressed)',
        Buffer.from([0x0a, 0x02, 0x08, 0x01]),
        /not valid snappy/,
      ],
      ['JSON', Buffer.from('{"queries":[]}'), /not valid snappy/],
      [
        'a truncated body',
        encodeReadRequest(request([query([m('=', '__name__', 'up')])])).subarray(0, 10),
        /not valid snappy/,
      ],
      [
        'snappy around garbage protobuf',
        snappyEncode(Buffer.from([0xff, 0xff, 0xff])),
        /not a valid prometheus.ReadRequest/,
      ],
      [
        'snappy around an unknown field',
        snappyEncode(Buffer.from([0x1a, 0x00])),
        /not a valid prometheus.ReadRequest: unknown field number 3/,
      ],
      [
        'a body declaring 33 MiB',
        Buffer.from([0x80, 0x80, 0x80, 0x11, 0x00]),
        /too large: .*exceeds the limit of 33554432 bytes/,
      ],
    ];
    for (const [name, body, pattern] of BAD) {
      it(`answers 400 for ${name}`, () => {
        assertApiError(() => enforceReadRequest(body, NS_A, POLICY), 400, pattern);
      });
    }

    it('honours a smaller maxDecodedBytes', () => {
      const body = encodeReadRequest(request([query([m('=', '__name__', 'x'.repeat(2000))])]));
      assertApiError(
        () => enforceReadRequest(body, NS_A, POLICY, { maxDecodedBytes: 1024 }),
        400,
        /exceeds the limit of 1024 bytes/,
      );
    });
  });
});
