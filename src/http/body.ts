/**
 * Request bodies. promgate reads every body itself, as bytes, with a size limit, and decides
 * from the route what it may be: a urlencoded form (parsed like Go does) on the Prometheus
 * API routes, a snappy protobuf on remote read. Multipart, JSON and anything else are
 * refused: Prometheus would evaluate a multipart `query` promgate never looked at.
 *
 * @example
 *   app.removeAllContentTypeParsers();
 *   app.addContentTypeParser('*', rawBodyParser(() => 4 << 20));
 *   const pairs = formBody(request); // [] when there is no body
 */
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import { parseForm, type Pairs } from './params.js';

/** Body too large: 413 in Prometheus's error shape. */
export function bodyTooLarge(limit: number): ApiError {
  return new ApiError(
    413,
    'bad_data',
    `request body larger than ${limit} bytes (--max-body-bytes); send fewer or shorter parameters`,
  );
}

type Done = (err: Error | null, body?: Buffer) => void;

/** A Fastify content-type parser that buffers any body up to `limit()` bytes. */
export function rawBodyParser(limit: () => number) {
  return (request: FastifyRequest, payload: NodeJS.ReadableStream, done: Done): void => {
    const max = limit();
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      done(bodyTooLarge(max));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const finish = (err: Error | null, body?: Buffer): void => {
      if (finished) return;
      finished = true;
      done(err, body);
    };
    payload.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        finish(bodyTooLarge(max));
        return;
      }
      if (!finished) chunks.push(chunk);
    });
    payload.on('end', () => finish(null, Buffer.concat(chunks)));
    payload.on('error', (err: Error) => finish(err));
  };
}

/** The body as a buffer ('' when there is none). */
export function rawBody(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

/** Media type without parameters, lower case; undefined when absent. */
export function mediaType(request: FastifyRequest): string | undefined {
  const ct = request.headers['content-type'];
  if (ct === undefined) return undefined;
  const semicolon = ct.indexOf(';');
  return (semicolon < 0 ? ct : ct.slice(0, semicolon)).trim().toLowerCase();
}

/**
 * The urlencoded form body's parameters. An empty body is fine whatever its type; a
 * non-empty body must be `application/x-www-form-urlencoded`, uncompressed.
 */
export function formBody(request: FastifyRequest): Pairs {
  const body = rawBody(request);
  if (body.length === 0) return [];
  const type = mediaType(request);
  if (type !== 'application/x-www-form-urlencoded') {
    throw new ApiError(
      415,
      'bad_data',
      `unsupported request body type ${type === undefined ? '(no Content-Type)' : JSON.stringify(type)}: ` +
        'send parameters in the query string or as an application/x-www-form-urlencoded body',
    );
  }
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    throw new ApiError(
      415,
      'bad_data',
      'compressed form bodies are not supported; send it uncompressed',
    );
  }
  return parseForm(body.toString('latin1'), 'body');
}
