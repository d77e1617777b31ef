/**
 * Forwarding to the upstream Prometheus-API server.
 *
 * Every upstream request is built here from a constant path (plus the upstream URL's path
 * prefix), promgate's canonical parameters and an explicit header list: nothing of the
 * caller's request is copied implicitly. Answers stream back through `@fastify/reply-from`
 * over one keep-alive undici pool; compression passes through untouched; a caller that goes
 * away cancels the upstream request; connection failures become 502 and timeouts 504, in
 * Prometheus's JSON error shape. Routes that must filter an answer use {@link Upstream.fetch},
 * which reads the whole (capped) body instead.
 *
 * @example
 *   const upstream = await createUpstream(config.upstream, { metrics, logger, pollIntervalMs });
 *   await app.register(replyFrom, upstream.replyFromOptions);
 *   upstream.forward(reply, { route: 'query', method: 'POST', path: '/api/v1/query',
 *     params: [['query', 'up{namespace="a"}']], headers: {} }, signal);
 */
import { readFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { FastifyReply } from 'fastify';
import type {} from '@fastify/reply-from';
import type { Logger } from 'pino';
import { Pool, type Dispatcher } from 'undici';
import type { UpstreamConfig } from './config/index.js';
import { ApiError, errorBody } from './errors.js';
import { encodeForm, type Pairs } from './http/params.js';
import type { Metrics } from './metrics.js';

export interface UpstreamRequest {
  /** Route family, for metrics. */
  readonly route: string;
  readonly method: 'GET' | 'POST';
  /** Endpoint path, e.g. `/api/v1/query`; the upstream URL's prefix is added here. */
  readonly path: string;
  /** Canonical parameters: the form body of a POST without `body`, else the query string. */
  readonly params?: Pairs;
  /** A raw body (remote read); `params` then go into the query string. */
  readonly body?: Buffer;
  readonly contentType?: string;
  /** Allow-listed headers derived from the caller's request (lower-case names). */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

export interface FetchedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Decoded (gunzipped) body. */
  readonly body: Buffer;
}

export interface Upstream {
  /** Options for `app.register(replyFrom, …)`. */
  readonly replyFromOptions: Record<string, unknown>;
  /** Streams the upstream answer as the reply (status, headers and body kept). */
  forward(reply: FastifyReply, request: UpstreamRequest, signal: AbortSignal): void;
  /** Reads a whole answer (at most `maxBytes` after decoding); for responses promgate filters. */
  fetch(request: UpstreamRequest, signal: AbortSignal, maxBytes: number): Promise<FetchedResponse>;
  /** True when the upstream answered (anything below 500) within the last three probe intervals. */
  reachable(): boolean;
  /** Starts the periodic reachability probe. */
  startProbe(): void;
  close(): Promise<void>;
}

/** Response headers never copied to the caller. */
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'proxy-connection',
  'proxy-authenticate',
  'upgrade',
  'set-cookie',
  'www-authenticate',
]);

export async function createUpstream(
  config: UpstreamConfig,
  deps: { readonly metrics: Metrics; readonly logger: Logger; readonly pollIntervalMs: number },
): Promise<Upstream> {
  const { metrics } = deps;
  const log = deps.logger.child({ component: 'upstream' });
  const origin = config.url.origin;
  const prefix = config.url.pathname === '/' ? '' : config.url.pathname;
  const host = config.url.host;

  const tls =
    config.url.protocol === 'https:'
      ? {
          rejectUnauthorized: true,
          ...(config.caFile ? { ca: await readFile(config.caFile) } : {}),
          ...(config.certFile ? { cert: await readFile(config.certFile) } : {}),
          ...(config.keyFile ? { key: await readFile(config.keyFile) } : {}),
        }
      : undefined;
  const pool = new Pool(origin, {
    connections: config.maxConnections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: config.timeoutMs,
    bodyTimeout: config.timeoutMs,
    ...(tls ? { connect: tls } : {}),
  });

  // The caller's AbortSignal reaches undici through this variable: reply-from calls the
  // dispatcher synchronously inside `reply.from()` (no retries are configured) and has no
  // signal option of its own. (AsyncLocalStorage would do the same at a cost on every
  // promise of the process.)
  let currentSignal: AbortSignal | undefined;
  const dispatcher = {
    request(
      opts: Dispatcher.RequestOptions,
      callback: (err: Error | null, data: Dispatcher.ResponseData) => void,
    ) {
      const signal = currentSignal;
      currentSignal = undefined;
      return pool.request(signal ? { ...opts, signal } : opts, callback);
    },
    close: () => pool.close(),
    destroy: () => pool.destroy(),
  };

  // The upstream bearer token is re-read when its file changes (projected tokens rotate).
  let bearer: string | undefined;
  const readBearer = async (): Promise<void> => {
    if (!config.bearerFile) return;
    try {
      const token = (await readFile(config.bearerFile, 'utf8')).trim();
      if (token === '') throw new Error('file is empty');
      bearer = token;
    } catch (e) {
      log.error(
        { file: config.bearerFile, err: (e as Error).message },
        'cannot read --upstream-bearer-file; keeping the previous token',
      );
    }
  };
  await readBearer();
  if (config.bearerFile && bearer === undefined) {
    throw new Error(
      `--upstream-bearer-file ${config.bearerFile}: cannot read a token from the file`,
    );
  }
  const bearerTimer = config.bearerFile
    ? setInterval(() => void readBearer(), deps.pollIntervalMs)
    : undefined;
  bearerTimer?.unref();

  const fixedHeaders: Record<string, string> = {};
  for (const [name, value] of config.headers) fixedHeaders[name.toLowerCase()] = value;

  function headersFor(
    request: UpstreamRequest,
    bodyLength: number | undefined,
  ): Record<string, string> {
    // The caller's headers are already an allow-list; promgate's own headers win over them.
    const headers: Record<string, string> = { ...request.headers, ...fixedHeaders, host };
    if (bearer !== undefined) headers['authorization'] = `Bearer ${bearer}`;
    if (bodyLength !== undefined) {
      headers['content-length'] = String(bodyLength);
      headers['content-type'] = request.contentType ?? 'application/x-www-form-urlencoded';
    }
    return headers;
  }

  function encode(request: UpstreamRequest): { query: string; body: string | Buffer | undefined } {
    const form = encodeForm(request.params ?? []);
    if (request.body !== undefined) return { query: form, body: request.body };
    if (request.method === 'POST') return { query: '', body: form };
    return { query: form, body: undefined };
  }

  let lastAnswer = 0;
  const answered = (status: number): void => {
    if (status < 500) lastAnswer = Date.now();
  };

  function classify(error: unknown): { status: number; reason: string; message: string } {
    const e = error as { code?: string; cause?: { code?: string }; name?: string };
    const code = e.cause?.code ?? e.code ?? '';
    if (code === 'UND_ERR_ABORTED' || e.name === 'AbortError') {
      return { status: 499, reason: 'canceled', message: 'request canceled by the client' };
    }
    if (
      /TIMEOUT/.test(code) ||
      e.name === 'TimeoutError' ||
      code === 'FST_REPLY_FROM_GATEWAY_TIMEOUT'
    ) {
      return {
        status: 504,
        reason: 'timeout',
        message: `upstream did not answer within ${Math.round(config.timeoutMs / 1000)}s (--upstream-timeout)`,
      };
    }
    return {
      status: 502,
      reason: 'connection',
      message: `upstream ${origin} is unreachable${code ? ` (${code})` : ''}`,
    };
  }

  function forward(reply: FastifyReply, request: UpstreamRequest, signal: AbortSignal): void {
    const { query, body } = encode(request);
    const started = process.hrtime.bigint();
    const headers = headersFor(request, body === undefined ? undefined : Buffer.byteLength(body));
    const route = request.route;
    const observe = (): number => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.upstreamDuration.observe({ route }, seconds);
      return seconds;
    };
    const timing = reply.request as { upstreamSeconds?: number };
    currentSignal = signal;
    try {
      reply.from(prefix + request.path, {
        method: request.method,
        queryString: () => query,
        body: body === undefined ? null : body,
        ...(body === undefined ? {} : { contentType: headers['content-type'] }),
        timeout: request.timeoutMs ?? config.timeoutMs,
        rewriteRequestHeaders: () => headers,
        rewriteHeaders: (upstreamHeaders: IncomingHttpHeaders) => {
          const out: IncomingHttpHeaders = {};
          for (const [k, v] of Object.entries(upstreamHeaders)) {
            if (!DROPPED_RESPONSE_HEADERS.has(k.toLowerCase())) out[k] = v;
          }
          return out;
        },
        onResponse: (_req, rep, res) => {
          timing.upstreamSeconds = observe();
          answered(res.statusCode);
          if (res.statusCode >= 500)
            metrics.upstreamErrors.inc({ route, reason: `status_${res.statusCode}` });
          if (res.statusCode === 401 || res.statusCode === 407) {
            // The upstream refused promgate's own credentials: not the caller's fault.
            res.stream.resume();
            metrics.upstreamErrors.inc({ route, reason: 'unauthorized' });
            sendError(
              rep,
              502,
              `upstream refused promgate's credentials (HTTP ${res.statusCode}); check --upstream-bearer-file / --upstream-header`,
            );
            return;
          }
          rep.send(res.stream);
        },
        onError: (rep, { error }) => {
          timing.upstreamSeconds = observe();
          const c = classify(error);
          metrics.upstreamErrors.inc({ route, reason: c.reason });
          if (c.status !== 499)
            log.warn(
              { route, reason: c.reason, err: (error as Error).message },
              'upstream request failed',
            );
          sendError(rep, c.status, c.message);
        },
      });
    } finally {
      currentSignal = undefined;
    }
  }

  async function fetch(
    request: UpstreamRequest,
    signal: AbortSignal,
    maxBytes: number,
  ): Promise<FetchedResponse> {
    const { query, body } = encode(request);
    const headers = headersFor(request, body === undefined ? undefined : Buffer.byteLength(body));
    const timeout = request.timeoutMs ?? config.timeoutMs;
    const started = process.hrtime.bigint();
    let res: Dispatcher.ResponseData;
    try {
      res = await pool.request({
        path: prefix + request.path + (query ? `?${query}` : ''),
        method: request.method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
    } catch (error) {
      metrics.upstreamDuration.observe(
        { route: request.route },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
      const c = classify(error);
      metrics.upstreamErrors.inc({ route: request.route, reason: c.reason });
      throw new ApiError(
        c.status,
        c.status === 504 ? 'timeout' : c.status === 499 ? 'canceled' : 'unavailable',
        c.message,
      );
    }
    metrics.upstreamDuration.observe(
      { route: request.route },
      Number(process.hrtime.bigint() - started) / 1e9,
    );
    answered(res.statusCode);
    if (res.statusCode >= 500)
      metrics.upstreamErrors.inc({ route: request.route, reason: `status_${res.statusCode}` });
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) {
      if (typeof v === 'string') out[k] = v;
      else if (Array.isArray(v)) out[k] = v.join(', ');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          res.body.destroy();
          throw tooLarge(maxBytes);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      if (error instanceof ApiError) throw error;
      const c = classify(error);
      metrics.upstreamErrors.inc({ route: request.route, reason: c.reason });
      throw new ApiError(c.status, c.status === 504 ? 'timeout' : 'unavailable', c.message);
    }
    let data: Buffer = Buffer.concat(chunks);
    const encoding = (out['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') {
      data = await decompress(encoding, data, maxBytes);
      delete out['content-encoding'];
    }
    delete out['content-length'];
    if (res.statusCode === 401 || res.statusCode === 407) {
      metrics.upstreamErrors.inc({ route: request.route, reason: 'unauthorized' });
      throw new ApiError(
        502,
        'unavailable',
        `upstream refused promgate's credentials (HTTP ${res.statusCode}); check --upstream-bearer-file / --upstream-header`,
      );
    }
    return { status: res.statusCode, headers: out, body: data };
  }

  let probeTimer: NodeJS.Timeout | undefined;
  const probes = new AbortController();
  async function probe(): Promise<void> {
    const controller = new AbortController();
    probes.signal.addEventListener('abort', () => controller.abort(), { once: true });
    const timer = setTimeout(() => controller.abort(), Math.min(config.probeIntervalMs, 5_000));
    try {
      await fetch(
        {
          route: 'probe',
          method: 'GET',
          path: '/api/v1/status/buildinfo',
          headers: { accept: 'application/json' },
          timeoutMs: Math.min(config.probeIntervalMs, 5_000),
        },
        controller.signal,
        1 << 20,
      );
    } catch {
      // reachable() reports it
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    replyFromOptions: {
      base: origin,
      undici: dispatcher,
      disableRequestLogging: true,
      // No retries: a 503 from Prometheus is a query timeout, and POSTs must not repeat.
      retryMethods: [],
      contentTypesToEncode: [],
    },
    forward,
    fetch,
    reachable: () => Date.now() - lastAnswer < 3 * config.probeIntervalMs,
    startProbe() {
      if (probeTimer) return;
      void probe();
      probeTimer = setInterval(() => void probe(), config.probeIntervalMs);
      probeTimer.unref();
    },
    async close() {
      clearInterval(probeTimer);
      clearInterval(bearerTimer);
      probes.abort();
      // Tenant requests have drained by now; whatever is left (probes) is cut.
      await pool.destroy();
    },
  };
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(
    502,
    'internal',
    `upstream answer larger than ${maxBytes} bytes, the limit for answers promgate filters (--max-filtered-response-bytes)`,
  );
}

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const brotli = promisify(zlib.brotliDecompress);

async function decompress(encoding: string, data: Buffer, maxBytes: number): Promise<Buffer> {
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip')
      return await gunzip(data, { maxOutputLength: maxBytes });
    if (encoding === 'deflate') return await inflate(data, { maxOutputLength: maxBytes });
    if (encoding === 'br') return await brotli(data, { maxOutputLength: maxBytes });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(maxBytes);
    throw new ApiError(502, 'internal', `upstream sent a corrupt ${encoding} body`);
  }
  throw new ApiError(502, 'internal', `upstream used an unsupported Content-Encoding: ${encoding}`);
}

interface ReplyLike {
  removeHeader(key: string): unknown;
  code(status: number): unknown;
  type(contentType: string): unknown;
  send(payload: string): unknown;
}

/** Sends a Prometheus-style JSON error as the reply (headers copied from upstream are reset). */
export function sendError(reply: ReplyLike, status: number, message: string): void {
  for (const h of [
    'content-encoding',
    'content-length',
    'content-type',
    'vary',
    'etag',
    'last-modified',
  ]) {
    reply.removeHeader(h);
  }
  const type = status === 504 ? 'timeout' : status === 499 ? 'canceled' : 'unavailable';
  reply.code(status);
  reply.type('application/json');
  reply.send(errorBody(type, message));
}
