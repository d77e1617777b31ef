/**
 * A recording reverse proxy for end-to-end tests: it sits between promgate and a real
 * Prometheus on 127.0.0.1, forwards every request unchanged (bodies streamed back), and keeps
 * what promgate sent upstream — method, path, query string, form body and headers — so a test
 * can prove that a refused request never reached the upstream, or that the caller's
 * `Authorization` was not forwarded. Independent of promgate's own metrics.
 *
 * @example
 * ```ts
 * const rec = await startRecorder(prom.url);
 * after(() => rec.stop());
 * // start promgate with --upstream rec.url …
 * const before = rec.count((r) => r.path !== '/api/v1/status/buildinfo');
 * // … requests that promgate must refuse …
 * assert.equal(rec.count((r) => r.path !== '/api/v1/status/buildinfo'), before);
 * ```
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as promgate sent it upstream. */
export interface RecordedRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** The raw query string ('' when none). */
  readonly query: string;
  /** The request body as text (forms; '' when none). */
  readonly body: string;
  readonly headers: IncomingHttpHeaders;
  /** Form parameters from the query string and a urlencoded body, in that order. */
  readonly params: readonly (readonly [string, string])[];
}

export interface Recorder {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Every request so far, oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** How many recorded requests satisfy `filter` (all when omitted). */
  count(filter?: (r: RecordedRequest) => boolean): number;
  stop(): Promise<void>;
}

/** Requests promgate makes on its own (readiness probe), not on behalf of a caller. */
export const isProbe = (r: RecordedRequest): boolean => r.path === '/api/v1/status/buildinfo';

/** Starts the proxy in front of `target` (e.g. a Prometheus server's url). */
export async function startRecorder(target: string): Promise<Recorder> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const requests: RecordedRequest[] = [];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const raw = req.url ?? '/';
      const q = raw.indexOf('?');
      const path = q < 0 ? raw : raw.slice(0, q);
      const query = q < 0 ? '' : raw.slice(q + 1);
      const text = body.toString('utf8');
      const isForm = /^application\/x-www-form-urlencoded/i.test(
        String(req.headers['content-type'] ?? ''),
      );
      requests.push({
        method: req.method ?? 'GET',
        path,
        query,
        body: isForm ? text : body.length > 0 ? `<${body.length} bytes>` : '',
        headers: { ...req.headers },
        params: [...new URLSearchParams(query), ...(isForm ? new URLSearchParams(text) : [])],
      });
      const headers = { ...req.headers, host: upstream.host };
      const out = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: raw,
          headers,
          agent,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      out.on('error', (e) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`recorder: upstream error: ${e.message}\n`);
      });
      res.on('close', () => {
        if (!res.writableFinished) out.destroy();
      });
      out.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (filter) => (filter ? requests.filter(filter).length : requests.length),
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      })),
  };
}
