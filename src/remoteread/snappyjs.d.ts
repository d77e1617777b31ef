/**
 * Types for `snappyjs` 0.7 (pure-JS Snappy block format; the package ships none).
 * Only the Node Buffer overloads promgate uses. `uncompress` throws when the declared
 * uncompressed length exceeds `maxLength` (checked before allocating).
 */
declare module 'snappyjs' {
  export function compress(uncompressed: Buffer): Buffer;
  export function compress(uncompressed: Uint8Array): Uint8Array;
  export function uncompress(compressed: Buffer, maxLength?: number): Buffer;
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
}
