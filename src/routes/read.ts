/**
 * `/api/v1/read` (remote read): the snappy-compressed protobuf ReadRequest is decoded, every
 * query's matchers enforced and the request re-encoded (`src/remoteread`); a cluster-wide
 * caller's request passes as sent (it is still size-limited). The answer — SAMPLES
 * (snappy protobuf) or STREAMED_XOR_CHUNKS frames — streams back untouched.
 */
import { ApiError, badData } from '../errors.js';
import { rawBody, mediaType } from '../http/body.js';
import { forwardedHeaders } from '../http/headers.js';
import { PromQLError } from '../promql/index.js';
import { enforceReadRequest } from '../remoteread/index.js';
import { fromPromQL, type Handler } from './context.js';

const VERSION = 'x-prometheus-remote-read-version';

export const readHandler: Handler = (ctx) => {
  const type = mediaType(ctx.request);
  if (type !== 'application/x-protobuf') {
    throw new ApiError(
      415,
      'bad_data',
      'remote read needs Content-Type: application/x-protobuf (a snappy-compressed prometheus.ReadRequest)',
    );
  }
  const encoding = ctx.request.headers['content-encoding']?.toLowerCase();
  if (encoding !== 'snappy') {
    throw badData('remote read needs Content-Encoding: snappy');
  }
  const body = rawBody(ctx.request);
  if (body.length === 0) throw badData('remote read request body is empty');
  let upstreamBody = body;
  if (ctx.target !== null) {
    const started = process.hrtime.bigint();
    try {
      upstreamBody = enforceReadRequest(body, ctx.target, ctx.policy);
    } catch (e) {
      if (e instanceof PromQLError) throw fromPromQL(ctx, e, 'read request');
      if (e instanceof ApiError && e.status === 403)
        ctx.metrics.authzDenials.inc({ reason: 'out_of_scope' });
      if (e instanceof ApiError)
        ctx.metrics.rewriteRejections.inc({
          reason: e.status === 403 ? 'out_of_scope' : 'read_request',
        });
      throw e;
    } finally {
      ctx.metrics.rewriteDuration.observe(
        { kind: 'read' },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    }
  }
  const version = ctx.request.headers[VERSION];
  ctx.upstream.forward(
    ctx.reply,
    {
      route: ctx.family,
      method: 'POST',
      path: ctx.route.path,
      body: upstreamBody,
      contentType: 'application/x-protobuf',
      headers: {
        ...forwardedHeaders(ctx.request.headers, ['accept-encoding']),
        'content-encoding': 'snappy',
        [VERSION]:
          typeof version === 'string' && /^\d+\.\d+\.\d+$/.test(version) ? version : '0.1.0',
      },
    },
    ctx.exchange,
  );
};
