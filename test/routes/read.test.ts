/**
 * `/api/v1/read` wiring: the ReadRequest the upstream receives is enforced for a scoped
 * caller and byte-identical for a cluster-wide one; the answer (snappy SAMPLES or streamed
 * chunks) comes back untouched with its headers; malformed requests never reach upstream.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import {
  decodeReadRequest,
  encodeReadRequest,
  SAMPLES,
  STREAMED_XOR_CHUNKS,
  type ReadRequest,
} from '../../src/remoteread/index.js';
import { startHarness, TOKENS, type Harness } from '../server/fake-upstream.js';

const REQUEST: ReadRequest = {
  queries: [
    {
      startTimestampMs: 1000n,
      endTimestampMs: 2000n,
      matchers: [{ name: '__name__', type: '=', value: 'up' }],
    },
    {
      startTimestampMs: 1000n,
      endTimestampMs: 2000n,
      matchers: [{ name: 'job', type: '=~', value: 'a.*' }],
    },
  ],
  acceptedResponseTypes: [STREAMED_XOR_CHUNKS, SAMPLES],
};
const ANSWER = Buffer.from([0x12, 0x34, 0x00, 0xff, 0x56, 0x78]);
const HEADERS = {
  'content-encoding': 'snappy',
  'content-type': 'application/x-protobuf',
  'x-prometheus-remote-read-version': '0.1.0',
};

describe('remote read', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness([], {
      handler: (req, res) => {
        if (req.url !== '/api/v1/read') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"status":"success","data":{}}');
          return;
        }
        res.writeHead(200, {
          'content-type': 'application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse',
        });
        res.end(ANSWER);
      },
    });
  });
  after(() => h.close());

  async function read(
    body: Buffer,
    token: string = TOKENS.teamA,
    headers: Record<string, string> = HEADERS,
  ) {
    const from = h.upstream.requests.length;
    const res = await h.request('/api/v1/read', { method: 'POST', token, headers, body });
    const answer = Buffer.from(await res.arrayBuffer());
    return {
      res,
      answer,
      upstream: h.upstream.requests.slice(from).filter((r) => r.path === '/api/v1/read'),
    };
  }

  it('enforces every query for a scoped caller and streams the answer back untouched', async () => {
    const { res, answer, upstream } = await read(encodeReadRequest(REQUEST));
    assert.equal(res.status, 200);
    assert.equal(
      res.headers.get('content-type'),
      'application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse',
    );
    assert.deepEqual(answer, ANSWER);
    assert.equal(upstream.length, 1);
    const got = upstream[0];
    assert.equal(got?.method, 'POST');
    assert.equal(got?.headers['content-encoding'], 'snappy');
    assert.equal(got?.headers['content-type'], 'application/x-protobuf');
    assert.equal(got?.headers['x-prometheus-remote-read-version'], '0.1.0');
    assert.equal(got?.headers['authorization'], undefined);
    const sent = decodeReadRequest(got?.body ?? Buffer.alloc(0));
    assert.deepEqual(sent.acceptedResponseTypes, REQUEST.acceptedResponseTypes);
    for (const q of sent.queries) {
      assert.deepEqual(q.matchers.at(-1), { name: 'namespace', type: '=~', value: 'ns-a|ns-a2' });
    }
  });

  it('narrowing applies to remote read too', async () => {
    const from = h.upstream.requests.length;
    const res = await h.request('/api/v1/read?namespace=ns-a2', {
      method: 'POST',
      headers: HEADERS,
      body: encodeReadRequest(REQUEST),
    });
    assert.equal(res.status, 200);
    const got = h.upstream.requests.slice(from).find((r) => r.path === '/api/v1/read');
    assert.deepEqual(decodeReadRequest(got?.body ?? Buffer.alloc(0)).queries[0]?.matchers.at(-1), {
      name: 'namespace',
      type: '=',
      value: 'ns-a2',
    });
  });

  it("forwards a cluster-wide caller's request byte for byte", async () => {
    const body = encodeReadRequest(REQUEST);
    const { res, upstream } = await read(body, TOKENS.ops);
    assert.equal(res.status, 200);
    assert.deepEqual(upstream[0]?.body, body);
  });

  it('refuses what it cannot enforce, before any upstream call', async () => {
    const outside: ReadRequest = {
      queries: [
        {
          startTimestampMs: 1n,
          endTimestampMs: 2n,
          matchers: [{ name: 'namespace', type: '=', value: 'ns-b' }],
        },
      ],
      acceptedResponseTypes: [SAMPLES],
    };
    const cases: [Buffer, Record<string, string>, number][] = [
      [encodeReadRequest(outside), HEADERS, 403],
      [Buffer.from('not snappy at all'), HEADERS, 400],
      [Buffer.alloc(0), HEADERS, 400],
      [encodeReadRequest(REQUEST), { ...HEADERS, 'content-type': 'application/json' }, 415],
      [encodeReadRequest(REQUEST), { ...HEADERS, 'content-encoding': 'gzip' }, 400],
    ];
    for (const [body, headers, status] of cases) {
      const { res, upstream } = await read(body, TOKENS.teamA, headers);
      assert.equal(res.status, status, JSON.stringify(headers));
      assert.equal(upstream.length, 0);
    }
  });
});
