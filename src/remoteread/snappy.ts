/**
 * Snappy block format (not the framed/stream format), as Prometheus remote read uses it.
 *
 * `snappyjs` does the work, but its decoder is lenient: it does not check that the stream
 * produces exactly the length it declares, and silently drops writes past the end. So every
 * body is first walked here ({@link checkSnappyBlock}): the declared length must be within
 * the limit, every literal must be inside the input, every copy must point into the data
 * produced so far, and the elements must add up to exactly the declared length with no
 * trailing bytes. Only then is it decoded.
 *
 * @example
 *   const raw = snappyDecode(body, 32 << 20); // throws SnappyError on corrupt or oversized input
 *   const again = snappyEncode(raw);
 */
import { compress, uncompress } from 'snappyjs';

export class SnappyError extends Error {
  constructor(
    message: string,
    /** True when the input is well-formed so far but declares more than the limit. */
    readonly tooLarge = false,
  ) {
    super(message);
    this.name = 'SnappyError';
  }
}

/** Reads the uvarint length preamble; returns [length, bytes used]. */
function preamble(input: Uint8Array): [number, number] {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    const b = input[i];
    if (b === undefined) throw new SnappyError('snappy: truncated length preamble');
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      if (value > 0xffffffff) throw new SnappyError('snappy: length preamble exceeds 32 bits');
      return [value, i + 1];
    }
  }
  throw new SnappyError('snappy: length preamble longer than 5 bytes');
}

/** Little-endian unsigned integer of `n` (1–4) bytes at `pos`; undefined when out of input. */
function le(input: Uint8Array, pos: number, n: number): number | undefined {
  if (pos + n > input.length) return undefined;
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + (input[pos + i] ?? 0);
  return v;
}

/** Validates a snappy block; returns its decoded length. */
export function checkSnappyBlock(input: Uint8Array, maxDecodedBytes: number): number {
  const [length, start] = preamble(input);
  if (length > maxDecodedBytes) {
    throw new SnappyError(
      `snappy: decoded size ${length} bytes exceeds the limit of ${maxDecodedBytes} bytes`,
      true,
    );
  }
  let pos = start;
  let out = 0;
  while (pos < input.length) {
    const tag = input[pos] ?? 0;
    pos++;
    let len: number;
    switch (tag & 3) {
      case 0: {
        // Literal: length-1 in the tag, or in 1–4 following bytes for tags 60–63.
        let n = tag >>> 2;
        if (n >= 60) {
          const extra = n - 59;
          const v = le(input, pos, extra);
          if (v === undefined) throw new SnappyError('snappy: truncated literal length');
          pos += extra;
          n = v;
        }
        len = n + 1;
        if (pos + len > input.length) throw new SnappyError('snappy: literal runs past the input');
        pos += len;
        break;
      }
      case 1: {
        len = 4 + ((tag >>> 2) & 7);
        const lo = le(input, pos, 1);
        if (lo === undefined) throw new SnappyError('snappy: truncated copy');
        pos += 1;
        checkOffset(((tag >>> 5) << 8) | lo, out);
        break;
      }
      default: {
        // Copy with a 2-byte (tag&3 == 2) or 4-byte (3) offset.
        const size = (tag & 3) === 2 ? 2 : 4;
        len = (tag >>> 2) + 1;
        const offset = le(input, pos, size);
        if (offset === undefined) throw new SnappyError('snappy: truncated copy');
        pos += size;
        checkOffset(offset, out);
      }
    }
    out += len;
    if (out > length) throw new SnappyError('snappy: data exceeds the declared length');
  }
  if (out !== length) throw new SnappyError('snappy: data shorter than the declared length');
  return length;
}

function checkOffset(offset: number, produced: number): void {
  if (offset === 0 || offset > produced) throw new SnappyError('snappy: copy offset out of range');
}

/** Decodes a snappy block of at most `maxDecodedBytes`; throws {@link SnappyError}. */
export function snappyDecode(input: Buffer, maxDecodedBytes: number): Buffer {
  checkSnappyBlock(input, maxDecodedBytes);
  try {
    return uncompress(input, maxDecodedBytes);
  } catch (err) {
    // Unreachable after the check; kept so that a library surprise still fails closed.
    throw new SnappyError(`snappy: ${err instanceof Error ? err.message : 'corrupt input'}`);
  }
}

export function snappyEncode(input: Uint8Array): Buffer {
  return compress(Buffer.from(input.buffer, input.byteOffset, input.byteLength));
}
