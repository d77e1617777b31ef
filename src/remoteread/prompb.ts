/**
 * Protobuf codec for Prometheus's remote read `ReadRequest` (`prompb/remote.proto`,
 * `prompb/types.proto`), strict by design:
 *
 * ```proto
 * message ReadRequest { repeated Query queries = 1; repeated ResponseType accepted_response_types = 2; }
 * message Query { int64 start_timestamp_ms = 1; int64 end_timestamp_ms = 2;
 *                 repeated LabelMatcher matchers = 3; ReadHints hints = 4; }
 * message LabelMatcher { Type type = 1; string name = 2; string value = 3; }   // EQ NEQ RE NRE
 * message ReadHints { int64 step_ms = 1; string func = 2; int64 start_ms = 3; int64 end_ms = 4;
 *                     repeated string grouping = 5; bool by = 6; int64 range_ms = 7; }
 * ```
 *
 * Decoding rejects ({@link ProtoError}) what promgate would otherwise have to guess about:
 * unknown field numbers, wrong wire types, a singular field given twice, groups, enum values
 * outside the schema (matcher types 0–3, response types 0–1) and strings that are not valid
 * UTF-8. Unknown fields are rejected rather than dropped: a field from a newer protocol could
 * change what a query selects, and promgate only forwards requests it fully understands (it
 * re-encodes from this model, so nothing unparsed can reach Prometheus either way).
 *
 * Encoding is canonical proto3: fields in number order, zero values omitted, response types
 * packed. `hints` keeps its presence (Prometheus passes `nil` hints differently from zero ones).
 * The protobuf wire primitives come from `protobufjs`'s Reader/Writer; the schema is this file.
 *
 * @example
 *   const req = unmarshalReadRequest(raw);
 *   req.queries[0]?.matchers; // [{ type: '=', name: '__name__', value: 'up' }]
 *   const again = marshalReadRequest(req);
 */
import protobuf from 'protobufjs/minimal.js';

import type { LabelMatcher } from '../promql/index.js';

const { Reader, Writer } = protobuf;
type Reader = protobuf.Reader;
type Writer = protobuf.Writer;

/** `ReadRequest.ResponseType`. */
export const SAMPLES = 0;
export const STREAMED_XOR_CHUNKS = 1;
export type ResponseType = typeof SAMPLES | typeof STREAMED_XOR_CHUNKS;

export interface ReadHints {
  stepMs: bigint;
  func: string;
  startMs: bigint;
  endMs: bigint;
  grouping: string[];
  by: boolean;
  rangeMs: bigint;
}

export interface ReadQuery {
  startTimestampMs: bigint;
  endTimestampMs: bigint;
  matchers: LabelMatcher[];
  /** Absent and all-zero hints differ to Prometheus (`nil` vs empty `SelectHints`). */
  hints?: ReadHints | undefined;
}

export interface ReadRequest {
  queries: ReadQuery[];
  acceptedResponseTypes: ResponseType[];
}

export class ProtoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtoError';
  }
}

/** prompb `LabelMatcher.Type` numbers, in order. */
const MATCHER_TYPES: readonly LabelMatcher['type'][] = ['=', '!=', '=~', '!~'];

const VARINT = 0;
const LEN = 2;
const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'group start', 'group end', 'fixed32'];

const utf8 = new TextDecoder('utf-8', { fatal: true });

interface FieldSpec {
  readonly name: string;
  /** Accepted wire types. */
  readonly wire: readonly number[];
  readonly repeated?: boolean;
}

/**
 * Walks the fields of one message, checking each against `spec` (number, wire type,
 * singular fields at most once) before handing it to `read`, which must consume it.
 */
function readMessage(
  bytes: Uint8Array,
  message: string,
  spec: Readonly<Record<number, FieldSpec>>,
  read: (field: number, wireType: number, r: Reader) => void,
): void {
  const r = Reader.create(bytes);
  const seen = new Set<number>();
  while (r.pos < r.len) {
    const before = r.pos;
    const tag = r.uint32();
    // protobufjs skips the bytes of an over-long varint unread; refuse instead.
    if (r.pos - before > 5) throw new ProtoError(`over-long field tag in ${message}`);
    const field = tag >>> 3;
    const wireType = tag & 7;
    const fs = spec[field];
    if (field === 0 || fs === undefined) {
      throw new ProtoError(
        `unknown field number ${field} in ${message} (promgate accepts only the fields of prompb's ${message})`,
      );
    }
    if (!fs.wire.includes(wireType)) {
      throw new ProtoError(
        `field ${message}.${fs.name} has wire type ${WIRE_NAMES[wireType] ?? wireType}, expected ${fs.wire
          .map((w) => WIRE_NAMES[w])
          .join(' or ')}`,
      );
    }
    if (!fs.repeated) {
      if (seen.has(field))
        throw new ProtoError(`field ${message}.${fs.name} occurs more than once`);
      seen.add(field);
    }
    read(field, wireType, r);
  }
}

/** A 64-bit varint as a signed bigint, without losing precision. */
function readInt64(r: Reader): bigint {
  const v: unknown = r.int64();
  if (typeof v === 'number') return BigInt(v);
  const { low, high } = v as protobuf.Long;
  return BigInt.asIntN(64, (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0));
}

/** A varint as an unsigned bigint (enums and bools are checked against their range). */
function readUint64(r: Reader): bigint {
  return BigInt.asUintN(64, readInt64(r));
}

/** A length-delimited field's bytes. */
function readBytes(r: Reader, what: string): Uint8Array {
  const before = r.pos;
  const bytes = r.bytes();
  if (r.pos - before - bytes.length > 5) throw new ProtoError(`over-long length of ${what}`);
  return bytes;
}

function readString(r: Reader, what: string): string {
  try {
    return utf8.decode(readBytes(r, what));
  } catch (err) {
    if (err instanceof TypeError) throw new ProtoError(`${what} is not valid UTF-8`);
    throw err;
  }
}

function readEnum(r: Reader, what: string, max: number): number {
  const v = readUint64(r);
  if (v > BigInt(max)) throw new ProtoError(`${what} has unknown value ${v} (expected 0–${max})`);
  return Number(v);
}

function decodeMatcher(bytes: Uint8Array): LabelMatcher {
  let type: LabelMatcher['type'] = '=';
  let name = '';
  let value = '';
  readMessage(
    bytes,
    'LabelMatcher',
    {
      1: { name: 'type', wire: [VARINT] },
      2: { name: 'name', wire: [LEN] },
      3: { name: 'value', wire: [LEN] },
    },
    (field, _wt, r) => {
      if (field === 1) type = MATCHER_TYPES[readEnum(r, 'LabelMatcher.type', 3)] ?? '=';
      else if (field === 2) name = readString(r, 'LabelMatcher.name');
      else value = readString(r, 'LabelMatcher.value');
    },
  );
  return { type, name, value };
}

function decodeHints(bytes: Uint8Array): ReadHints {
  const h: ReadHints = {
    stepMs: 0n,
    func: '',
    startMs: 0n,
    endMs: 0n,
    grouping: [],
    by: false,
    rangeMs: 0n,
  };
  readMessage(
    bytes,
    'ReadHints',
    {
      1: { name: 'step_ms', wire: [VARINT] },
      2: { name: 'func', wire: [LEN] },
      3: { name: 'start_ms', wire: [VARINT] },
      4: { name: 'end_ms', wire: [VARINT] },
      5: { name: 'grouping', wire: [LEN], repeated: true },
      6: { name: 'by', wire: [VARINT] },
      7: { name: 'range_ms', wire: [VARINT] },
    },
    (field, _wt, r) => {
      switch (field) {
        case 1:
          h.stepMs = readInt64(r);
          break;
        case 2:
          h.func = readString(r, 'ReadHints.func');
          break;
        case 3:
          h.startMs = readInt64(r);
          break;
        case 4:
          h.endMs = readInt64(r);
          break;
        case 5:
          h.grouping.push(readString(r, 'ReadHints.grouping'));
          break;
        case 6:
          // Go reads any non-zero varint as true.
          h.by = readUint64(r) !== 0n;
          break;
        default:
          h.rangeMs = readInt64(r);
      }
    },
  );
  return h;
}

function decodeQuery(bytes: Uint8Array): ReadQuery {
  const q: ReadQuery = { startTimestampMs: 0n, endTimestampMs: 0n, matchers: [] };
  readMessage(
    bytes,
    'Query',
    {
      1: { name: 'start_timestamp_ms', wire: [VARINT] },
      2: { name: 'end_timestamp_ms', wire: [VARINT] },
      3: { name: 'matchers', wire: [LEN], repeated: true },
      4: { name: 'hints', wire: [LEN] },
    },
    (field, _wt, r) => {
      if (field === 1) q.startTimestampMs = readInt64(r);
      else if (field === 2) q.endTimestampMs = readInt64(r);
      else if (field === 3) q.matchers.push(decodeMatcher(readBytes(r, 'Query.matchers')));
      else q.hints = decodeHints(readBytes(r, 'Query.hints'));
    },
  );
  return q;
}

/** Decodes an uncompressed ReadRequest; throws {@link ProtoError} on anything malformed. */
export function unmarshalReadRequest(bytes: Uint8Array): ReadRequest {
  const req: ReadRequest = { queries: [], acceptedResponseTypes: [] };
  const responseType = (r: Reader): ResponseType =>
    readEnum(r, 'ReadRequest.accepted_response_types', STREAMED_XOR_CHUNKS) as ResponseType;
  try {
    readMessage(
      bytes,
      'ReadRequest',
      {
        1: { name: 'queries', wire: [LEN], repeated: true },
        // Packed (proto3's default) or one varint per value: parsers must accept both.
        2: { name: 'accepted_response_types', wire: [VARINT, LEN], repeated: true },
      },
      (field, wireType, r) => {
        if (field === 1) {
          req.queries.push(decodeQuery(readBytes(r, 'ReadRequest.queries')));
        } else if (wireType === VARINT) {
          req.acceptedResponseTypes.push(responseType(r));
        } else {
          const packed = Reader.create(readBytes(r, 'ReadRequest.accepted_response_types'));
          while (packed.pos < packed.len) req.acceptedResponseTypes.push(responseType(packed));
        }
      },
    );
  } catch (err) {
    if (err instanceof ProtoError) throw err;
    // protobufjs's own errors: truncated varints and lengths past the end.
    const detail = err instanceof Error ? err.message : 'malformed input';
    throw new ProtoError(`malformed protobuf (${detail})`);
  }
  return req;
}

/** Writes a signed 64-bit varint from a bigint, without going through a float. */
function writeInt64(w: Writer, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  w.int64({ low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned: false });
}

function encodeHints(w: Writer, h: ReadHints): void {
  if (h.stepMs !== 0n) writeInt64(w.uint32((1 << 3) | VARINT), h.stepMs);
  if (h.func !== '') w.uint32((2 << 3) | LEN).string(h.func);
  if (h.startMs !== 0n) writeInt64(w.uint32((3 << 3) | VARINT), h.startMs);
  if (h.endMs !== 0n) writeInt64(w.uint32((4 << 3) | VARINT), h.endMs);
  for (const g of h.grouping) w.uint32((5 << 3) | LEN).string(g);
  if (h.by) w.uint32((6 << 3) | VARINT).bool(true);
  if (h.rangeMs !== 0n) writeInt64(w.uint32((7 << 3) | VARINT), h.rangeMs);
}

function encodeMatcher(w: Writer, m: LabelMatcher): void {
  const type = MATCHER_TYPES.indexOf(m.type);
  if (type < 0) throw new ProtoError(`unknown matcher type ${JSON.stringify(m.type)}`);
  if (type !== 0) w.uint32((1 << 3) | VARINT).int32(type);
  if (m.name !== '') w.uint32((2 << 3) | LEN).string(m.name);
  if (m.value !== '') w.uint32((3 << 3) | LEN).string(m.value);
}

function encodeQuery(w: Writer, q: ReadQuery): void {
  if (q.startTimestampMs !== 0n) writeInt64(w.uint32((1 << 3) | VARINT), q.startTimestampMs);
  if (q.endTimestampMs !== 0n) writeInt64(w.uint32((2 << 3) | VARINT), q.endTimestampMs);
  for (const m of q.matchers) {
    w.uint32((3 << 3) | LEN).fork();
    encodeMatcher(w, m);
    w.ldelim();
  }
  if (q.hints !== undefined) {
    w.uint32((4 << 3) | LEN).fork();
    encodeHints(w, q.hints);
    w.ldelim();
  }
}

/** Encodes a ReadRequest (uncompressed protobuf). */
export function marshalReadRequest(req: ReadRequest): Uint8Array {
  const w = Writer.create();
  for (const q of req.queries) {
    w.uint32((1 << 3) | LEN).fork();
    encodeQuery(w, q);
    w.ldelim();
  }
  if (req.acceptedResponseTypes.length > 0) {
    w.uint32((2 << 3) | LEN).fork();
    for (const t of req.acceptedResponseTypes) w.int32(t);
    w.ldelim();
  }
  return w.finish();
}
