/**
 * End to end: enforced ReadRequests POSTed straight to real Prometheus 2.42 and 3.5
 * `/api/v1/read` (no promgate server in between), answers decoded — SAMPLES and
 * STREAMED_XOR_CHUNKS — to check that only the scope's namespaces come back.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';

import type { PromQLPolicy } from '../../src/promql/index.js';
import {
  encodeReadRequest,
  enforceReadRequest,
  SAMPLES,
  snappyDecode,
  STREAMED_XOR_CHUNKS,
  type ReadRequest,
  type ResponseType,
} from '../../src/remoteread/index.js';
import { backfill, makeTempDir, startPrometheus, type PrometheusServer } from '../support/index.js';
import { ChunkedReadResponseType, ReadResponseType, toPlain } from './reference-schema.js';

const POLICY: PromQLPolicy = {
  maxQueryBytes: 64 * 1024,
  maxDepth: 64,
  maxSelectors: 64,
  maxRangeMs: 0,
  allowedFunctions: new Set(),
  strictScope: true,
};

// One hour of 2024-01-01, a sample a minute.
const START = 1704067200;
const END = START + 3600;

/** Label sets of the data; `namespace` is the enforced label. */
const SERIES: Record<string, string>[] = [
  { namespace: 'ns-a', pod: 'shop-0' },
  { namespace: 'ns-a', pod: 'shop-1' },
  { namespace: 'ns-b', pod: 'billing-0' },
  { namespace: 'ns-c', pod: 'batch-0' },
  // No namespace: node-level, and a tenant only in exported_namespace.
  { node: 'node-1' },
  { exported_namespace: 'ns-a', pod: 'ingress-0' },
];

function openMetrics(): string {
  const lines: string[] = [];
  for (const metric of ['rr_temperature_celsius', 'rr_queue_length']) {
    lines.push(`# TYPE ${metric} gauge`);
    SERIES.forEach((labels, i) => {
      const ls = Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(',');
      for (let t = START; t <= END; t += 60)
        lines.push(`${metric}{${ls}} ${i + (t - START) / 60} ${t}`);
    });
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}

/** POSTs a remote read body; returns status, content type and raw body. */
function post(
  server: PrometheusServer,
  body: Buffer,
): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}/api/v1/read`,
      {
        method: 'POST',
        headers: {
          'Content-Encoding': 'snappy',
          'Content-Type': 'application/x-protobuf',
          'X-Prometheus-Remote-Read-Version': '0.1.0',
        },
        timeout: 20_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('remote read timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

type Labels = Record<string, string>;
const toLabels = (list: { name: string; value: string }[]): Labels =>
  Object.fromEntries(list.map((l) => [l.name, l.value]));

/** Label sets per query of a SAMPLES answer. */
function samplesSeries(body: Buffer): Labels[][] {
  const resp = toPlain(ReadResponseType, snappyDecode(body, 64 << 20)) as {
    results: { timeseries: { labels: { name: string; value: string }[]; samples: unknown[] }[] }[];
  };
  return resp.results.map((r) =>
    r.timeseries.map((ts) => {
      assert.ok(ts.samples.length > 0, 'a series came back without samples');
      return toLabels(ts.labels);
    }),
  );
}

/** Label sets per query of a streamed answer: frames of uvarint length, CRC32C, message. */
function streamedSeries(body: Buffer, queries: number): Labels[][] {
  const out: Labels[][] = Array.from({ length: queries }, () => []);
  let pos = 0;
  while (pos < body.length) {
    let len = 0;
    let shift = 0;
    for (;;) {
      const b = body[pos++];
      assert.ok(b !== undefined, 'truncated frame length');
      len += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) break;
    }
    pos += 4; // CRC32-Castagnoli, not checked here
    const msg = toPlain(ChunkedReadResponseType, body.subarray(pos, pos + len)) as {
      query_index: string;
      chunked_series: { labels: { name: string; value: string }[] }[];
    };
    pos += len;
    for (const s of msg.chunked_series) out[Number(msg.query_index)]?.push(toLabels(s.labels));
  }
  return out;
}

const namespacesOf = (series: Labels[]): string[] =>
  [...new Set(series.map((l) => l.namespace ?? '(none)'))].sort();

function readRequest(types: ResponseType[]): ReadRequest {
  const range = { startTimestampMs: BigInt(START * 1000), endTimestampMs: BigInt(END * 1000) };
  return {
    queries: [
      { ...range, matchers: [{ type: '=', name: '__name__', value: 'rr_temperature_celsius' }] },
      { ...range, matchers: [{ type: '=~', name: '__name__', value: 'rr_.+' }] },
      {
        ...range,
        matchers: [
          { type: '=', name: '__name__', value: 'rr_queue_length' },
          { type: '=', name: 'namespace', value: 'ns-c' },
        ],
        hints: {
          stepMs: 60000n,
          func: 'max_over_time',
          startMs: BigInt(START * 1000),
          endMs: BigInt(END * 1000),
          grouping: [],
          by: false,
          rangeMs: 300000n,
        },
      },
    ],
    acceptedResponseTypes: types,
  };
}

for (const version of [2, 3] as const) {
  describe(`remote read against Prometheus ${version}.x`, () => {
    let server: PrometheusServer | undefined;
    const prom = (): PrometheusServer => {
      assert.ok(server, 'Prometheus did not start');
      return server;
    };

    before(async () => {
      const dataDir = makeTempDir(`promgate-rr${version}-`);
      await backfill({ version, dataDir, openMetrics: openMetrics() });
      server = await startPrometheus({ version, dataDir });
    });
    after(() => server?.stop());

    it('unenforced, the data holds every namespace and unlabelled series (sanity)', async () => {
      const res = await post(prom(), encodeReadRequest(readRequest([SAMPLES])));
      assert.equal(res.status, 200, res.body.toString());
      const [first] = samplesSeries(res.body);
      assert.deepEqual(namespacesOf(first ?? []), ['(none)', 'ns-a', 'ns-b', 'ns-c']);
    });

    const MODES: [string, ResponseType[]][] = [
      ['SAMPLES (no types: the 2.x client default)', []],
      ['SAMPLES', [SAMPLES]],
      ['STREAMED_XOR_CHUNKS (the ≥2.55 client default)', [STREAMED_XOR_CHUNKS, SAMPLES]],
    ];
    for (const [mode, types] of MODES) {
      it(`enforced for ns-a|ns-c, ${mode}: only those namespaces come back`, async () => {
        const body = enforceReadRequest(
          encodeReadRequest(readRequest(types)),
          { label: 'namespace', values: ['ns-a', 'ns-c'] },
          POLICY,
        );
        const res = await post(prom(), body);
        assert.equal(res.status, 200, res.body.toString());
        const streamed = types[0] === STREAMED_XOR_CHUNKS;
        assert.match(res.type, streamed ? /x-streamed-protobuf/ : /^application\/x-protobuf/);
        const perQuery = streamed ? streamedSeries(res.body, 3) : samplesSeries(res.body);
        assert.deepEqual(perQuery.map(namespacesOf), [
          ['ns-a', 'ns-c'],
          ['ns-a', 'ns-c'],
          ['ns-c'],
        ]);
        // Query 1 (rr_.+) returns both metrics of ns-a's two pods and ns-c's one.
        assert.equal(perQuery[1]?.length, 6);
      });
    }

    it('enforced for ns-b: its single series per metric, nothing else', async () => {
      const req: ReadRequest = {
        ...readRequest([SAMPLES]),
        queries: readRequest([]).queries.slice(0, 2),
      };
      const body = enforceReadRequest(
        encodeReadRequest(req),
        { label: 'namespace', values: ['ns-b'] },
        POLICY,
      );
      const res = await post(prom(), body);
      assert.equal(res.status, 200, res.body.toString());
      assert.deepEqual(samplesSeries(res.body), [
        [{ __name__: 'rr_temperature_celsius', namespace: 'ns-b', pod: 'billing-0' }],
        [
          { __name__: 'rr_queue_length', namespace: 'ns-b', pod: 'billing-0' },
          { __name__: 'rr_temperature_celsius', namespace: 'ns-b', pod: 'billing-0' },
        ],
      ]);
    });
  });
}
