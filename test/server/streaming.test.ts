/**
 * Forwarding: bodies stream (a 128 MiB answer passes while promgate may only hold a bounded
 * window of it), compression passes through untouched, a caller that goes away cancels the
 * upstream request, and upstream failures keep or map their status.
 */
import { strict as assert } from 'node:assert';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { startHarness, TOKENS, type Harness } from './fake-upstream.js';

function get(
  h: Harness,
  path: string,
  headers: Record<string, string> = {},
): Promise<IncomingMessage> {
  const url = new URL(h.promgate.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path,
        agent: false,
        headers: { authorization: `Bearer ${TOKENS.teamA}`, ...headers },
      },
      resolve,
    );
    req.on('error', reject);
    req.end();
  });
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function until(what: string, f: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (f()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

describe('streaming', () => {
  it('streams a 128 MiB answer: the upstream never gets more than 16 MiB ahead of the caller', async () => {
    const TOTAL = 128 << 20;
    const WINDOW = 16 << 20;
    const chunk = Buffer.alloc(64 << 10, 'x');
    let received = 0;
    let progress: () => void = () => undefined;
    let stalled = '';
    const h = await startHarness([], {
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        let sent = 0;
        const pump = async (): Promise<void> => {
          while (sent < TOTAL) {
            if (sent - received > WINDOW) {
              // Wait for the caller; if promgate buffered the answer, the caller never gets it.
              const moved = await new Promise<boolean>((resolve) => {
                const timer = setTimeout(() => resolve(false), 20_000);
                progress = () => {
                  clearTimeout(timer);
                  resolve(true);
                };
              });
              if (!moved) {
                stalled = `caller received ${received} bytes while the upstream had sent ${sent}`;
                res.destroy();
                return;
              }
              continue;
            }
            sent += chunk.length;
            if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
          }
          res.end();
        };
        void pump();
      },
    });
    try {
      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      const res = await get(h, '/api/v1/query_range?query=up&start=1&end=2&step=1');
      assert.equal(res.statusCode, 200);
      for await (const c of res) {
        received += (c as Buffer).length;
        progress();
        if ((received & 0xfffff) < (c as Buffer).length)
          rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      }
      assert.equal(stalled, '', stalled);
      assert.equal(received, TOTAL);
      console.log(
        `# 128 MiB streamed; RSS growth of the test process ${((rssPeak - rssBefore) / 2 ** 20).toFixed(1)} MiB`,
      );
      const line = h.logs.find((l) => l['route'] === 'query_range');
      assert.equal(line?.['bytes'], TOTAL, 'response bytes are counted as they stream');
    } finally {
      await h.close();
    }
  });

  it('passes compression through untouched (Content-Encoding verbatim, not decompressed)', async () => {
    const text = `# TYPE up untyped\n${'up{namespace="ns-a",instance="x"} 1\n'.repeat(2000)}`;
    const gz = gzipSync(text);
    const h = await startHarness([], {
      handler: (req, res) => {
        const gzip = /gzip/.test(String(req.headers['accept-encoding']));
        res.writeHead(200, {
          'content-type': 'text/plain; version=0.0.4; charset=utf-8; escaping=underscores',
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        });
        res.end(gzip ? gz : text);
      },
    });
    try {
      const res = await get(h, '/federate?match[]=up', {
        'accept-encoding': 'gzip',
        accept: 'text/plain;version=0.0.4',
        'x-prometheus-scrape-timeout-seconds': '10',
      });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-encoding'], 'gzip');
      assert.equal(
        res.headers['content-type'],
        'text/plain; version=0.0.4; charset=utf-8; escaping=underscores',
      );
      const body = await readAll(res);
      assert.deepEqual(body, gz, 'the compressed bytes are the upstream bytes');
      assert.equal(gunzipSync(body).toString(), text);
      const up = h.upstream.requests.find((r) => r.path === '/federate');
      assert.equal(up?.headers['accept-encoding'], 'gzip');
      assert.equal(up?.headers['accept'], 'text/plain;version=0.0.4');
      assert.equal(up?.headers['x-prometheus-scrape-timeout-seconds'], '10');
    } finally {
      await h.close();
    }
  });

  it('reads gzip-compressed JSON on filtered routes', async () => {
    const h = await startHarness([], {
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(
          gzipSync(
            JSON.stringify({
              status: 'success',
              data: {
                alerts: [
                  {
                    labels: { alertname: 'A', namespace: 'ns-a' },
                    annotations: {},
                    state: 'firing',
                    activeAt: '2024-01-01T00:00:00Z',
                    value: '1e+00',
                  },
                  {
                    labels: { alertname: 'B', namespace: 'ns-b' },
                    annotations: {},
                    state: 'firing',
                    activeAt: '2024-01-01T00:00:00Z',
                    value: '1e+00',
                  },
                ],
              },
            }),
          ),
        );
      },
    });
    try {
      const res = await h.request('/api/v1/alerts', { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { data: { alerts: { labels: Record<string, string> }[] } };
      assert.deepEqual(
        body.data.alerts.map((a) => a.labels['alertname']),
        ['A'],
      );
    } finally {
      await h.close();
    }
  });
});

describe('cancellation', () => {
  it('a caller that disconnects before the answer cancels the upstream request', async () => {
    const h = await startHarness([], { handler: () => undefined /* never answers */ });
    try {
      const controller = new AbortController();
      const pending = h
        .request('/api/v1/query?query=up', { signal: controller.signal })
        .catch(() => 'aborted');
      await until('the upstream got the query', () =>
        h.upstream.requests.some((r) => r.path === '/api/v1/query'),
      );
      controller.abort();
      assert.equal(await pending, 'aborted');
      await until('the upstream saw its connection closed', () =>
        h.upstream.aborted.some((u) => u.startsWith('/api/v1/query')),
      );
      await until('the request is logged as 499', () =>
        h.logs.some((l) => l['route'] === 'query' && l['status'] === 499),
      );
    } finally {
      await h.close();
    }
  });

  it('a caller that disconnects mid-body cancels the upstream stream', async () => {
    const h = await startHarness([], {
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const timer = setInterval(() => res.write(Buffer.alloc(16 << 10, 'y')), 5);
        res.on('close', () => clearInterval(timer));
      },
    });
    try {
      const res = await get(h, '/federate?match[]=up');
      await new Promise<void>((resolve) => res.once('data', () => resolve()));
      res.destroy();
      await until('the upstream saw its connection closed', () =>
        h.upstream.aborted.some((u) => u.startsWith('/federate')),
      );
    } finally {
      await h.close();
    }
  });
});

describe('upstream failures', () => {
  it('keeps Prometheus error statuses and bodies, and does not retry a 503', async () => {
    const answers: [number, string][] = [
      [422, '{"status":"error","errorType":"execution","error":"invalid regular expression"}'],
      [
        400,
        '{"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries"}',
      ],
      [
        503,
        '{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}',
      ],
    ];
    let next = 0;
    const h = await startHarness([], {
      handler: (req, res) => {
        if (!req.url?.startsWith('/api/v1/query')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"status":"success","data":{}}');
          return;
        }
        const [status, body] = answers[next++ % answers.length] as [number, string];
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body);
      },
    });
    try {
      for (const [status, body] of answers) {
        const from = h.upstream.requests.filter((r) => r.path === '/api/v1/query').length;
        next = answers.findIndex(([s]) => s === status);
        const res = await h.request('/api/v1/query?query=up');
        assert.equal(res.status, status);
        assert.equal(await res.text(), body);
        assert.equal(
          h.upstream.requests.filter((r) => r.path === '/api/v1/query').length,
          from + 1,
          'exactly one upstream request',
        );
      }
    } finally {
      await h.close();
    }
  });

  it('502 in JSON when the upstream refuses connections', async () => {
    const h = await startHarness();
    await h.upstream.close();
    try {
      const res = await h.request('/api/v1/query?query=up');
      assert.equal(res.status, 502);
      const body = (await res.json()) as Record<string, string>;
      assert.equal(body['status'], 'error');
      assert.match(body['error'] ?? '', /unreachable/);
      const filtered = await h.request('/api/v1/alerts');
      assert.equal(filtered.status, 502);
    } finally {
      await h.promgate.close();
    }
  });

  it('504 in JSON when the upstream is too slow; federate is bounded by the scrape timeout', async () => {
    const h = await startHarness(['--upstream-timeout', '300ms'], { handler: () => undefined });
    try {
      const res = await h.request('/api/v1/query?query=up');
      assert.equal(res.status, 504);
      assert.equal(((await res.json()) as Record<string, string>)['errorType'], 'timeout');
    } finally {
      await h.close();
    }
    const h2 = await startHarness(['--upstream-timeout', '2m'], { handler: () => undefined });
    try {
      const res = await h2.request('/federate?match[]=up', {
        headers: { 'x-prometheus-scrape-timeout-seconds': '0.3' },
      });
      assert.equal(res.status, 504);
    } finally {
      await h2.close();
    }
  });

  it("an upstream refusing promgate's own credentials is a 502, not a 401 for the caller", async () => {
    const h = await startHarness([], {
      handler: (_req, res) => {
        res.writeHead(401, { 'www-authenticate': 'Bearer' });
        res.end('Unauthorized');
      },
    });
    try {
      const res = await h.request('/api/v1/query?query=up');
      assert.equal(res.status, 502);
      assert.equal(res.headers.get('www-authenticate'), null);
      assert.match(
        ((await res.json()) as Record<string, string>)['error'] ?? '',
        /upstream refused promgate's credentials/,
      );
    } finally {
      await h.close();
    }
  });
});
