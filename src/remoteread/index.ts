/**
 * Remote read enforcement (`POST /api/v1/read`): decode the caller's snappy-compressed
 * protobuf `ReadRequest`, confine every query to the caller's scope, re-encode.
 *
 * Each query's matchers go through the PromQL engine's {@link enforceMatchers}, the same
 * rule as for PromQL selectors: the enforced matcher (`namespace="a"` or `=~"a|b"`) is
 * appended, a matcher naming a namespace outside the scope is a 403, and a matcher list
 * that could match series without the label is refused. Prometheus ANDs a query's matchers
 * and anchors its regexes, exactly as in PromQL, so the rule carries over unchanged.
 *
 * What goes upstream is always re-encoded from promgate's own model (see `prompb.ts`), never
 * the caller's bytes: time range, hints and accepted response types are preserved; anything
 * the model does not know (unknown fields, enum values) is refused with a 400. A request
 * with no queries is forwarded (re-encoded, still empty): it selects nothing, and Prometheus
 * answers it with an empty result as it would directly.
 *
 * All errors are {@link ApiError}s: 400 `bad_data` for corrupt, truncated or oversized
 * bodies and invalid matchers, 403 `forbidden` for an out-of-scope namespace or empty scope.
 * The route sends them as plain text, as Prometheus does for this endpoint.
 *
 * @example
 *   const upstreamBody = enforceReadRequest(req.body, { label: 'namespace', values: ['ns-a'] }, policy);
 *   // POST upstreamBody to <upstream>/api/v1/read with Content-Encoding: snappy, stream the answer back.
 */
import { ApiError, badData, forbidden } from '../errors.js';
import {
  enforceMatchers,
  PromQLError,
  type EnforceTarget,
  type PromQLPolicy,
} from '../promql/index.js';
import {
  marshalReadRequest,
  ProtoError,
  unmarshalReadRequest,
  type ReadRequest,
} from './prompb.js';
import { snappyDecode, snappyEncode, SnappyError } from './snappy.js';

export {
  marshalReadRequest,
  ProtoError,
  SAMPLES,
  STREAMED_XOR_CHUNKS,
  unmarshalReadRequest,
  type ReadHints,
  type ReadQuery,
  type ReadRequest,
  type ResponseType,
} from './prompb.js';
export { checkSnappyBlock, snappyDecode, snappyEncode, SnappyError } from './snappy.js';

/** The 32 MiB cap Prometheus applies to remote read requests (`storage/remote/codec.go`). */
export const DEFAULT_MAX_DECODED_BYTES = 32 * 1024 * 1024;

export interface DecodeOptions {
  /** Largest accepted decoded (uncompressed) request, in bytes. Default 32 MiB. */
  readonly maxDecodedBytes?: number;
}

/** Decodes a snappy-compressed ReadRequest body; malformed or oversized input is a 400. */
export function decodeReadRequest(body: Buffer, options: DecodeOptions = {}): ReadRequest {
  const max = options.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
  let raw: Buffer;
  try {
    raw = snappyDecode(body, max);
  } catch (err) {
    if (err instanceof SnappyError) {
      throw badData(
        err.tooLarge
          ? `remote read request too large: ${err.message}`
          : `remote read request is not valid snappy block-format data (${err.message}); ` +
              'send the protobuf ReadRequest snappy-compressed (block format, not framed)',
      );
    }
    throw err;
  }
  try {
    return unmarshalReadRequest(raw);
  } catch (err) {
    if (err instanceof ProtoError) {
      throw badData(`remote read request is not a valid prometheus.ReadRequest: ${err.message}`);
    }
    throw err;
  }
}

/** Encodes a ReadRequest as a snappy-compressed protobuf body. */
export function encodeReadRequest(req: ReadRequest): Buffer {
  return snappyEncode(marshalReadRequest(req));
}

/**
 * Returns the body to send upstream: `body` decoded, every query's matchers enforced for
 * `target`, re-encoded and snappy-compressed. Throws {@link ApiError} (400/403).
 */
export function enforceReadRequest(
  body: Buffer,
  target: EnforceTarget,
  policy: PromQLPolicy,
  options: DecodeOptions = {},
): Buffer {
  // Checked here too: an empty scope must never turn into a request (invariant 4).
  if (target.values.length === 0) {
    throw forbidden(`no ${target.label} is accessible to this caller`);
  }
  const req = decodeReadRequest(body, options);
  const queries = req.queries.map((q, i) => {
    try {
      return { ...q, matchers: enforceMatchers(q.matchers, target, policy) };
    } catch (err) {
      throw fromPromQL(err, i);
    }
  });
  return encodeReadRequest({ ...req, queries });
}

function fromPromQL(err: unknown, index: number): unknown {
  if (!(err instanceof PromQLError)) return err;
  const message = `remote read query ${index}: ${err.message}`;
  if (err.reason === 'out_of_scope') return forbidden(message);
  return new ApiError(400, 'bad_data', message);
}
