/**
 * Store keys that hold a time (window starts, session bounds, timers) encode
 * it so that the stores' string order is numeric order: range scans then
 * find windows, sessions and due timers in time order. Every store access
 * of a windowed or versioned store reads or writes a time, so reading the
 * common case — a safe integer time at or after the epoch — and writing
 * 8-byte times are done on two 32-bit halves without a BigInt (a profile
 * found BigInt conversions at 6 % of a join; writing hex text through a
 * BigInt measured as fast as any other way, so it stays). A test compares
 * each fast path with the BigInt definition.
 */

const TWO_32 = 0x1_0000_0000;

/** Encodes a time so that string order is numeric order, negative times included: 16 hex digits of `t + 2^63`. */
export function encodeTime(t: number): string {
  return (BigInt(t) + 0x8000000000000000n).toString(16).padStart(16, '0');
}

/** The inverse of {@link encodeTime}. */
export function decodeTime(hex: string): number {
  if (hex.length === 16 && hex.charCodeAt(0) === 56 /* '8' */) {
    const high = Number.parseInt(hex.slice(1, 8), 16);
    const low = Number.parseInt(hex.slice(8), 16);
    const t = high * TWO_32 + low;
    if (Number.isSafeInteger(t)) return t;
  }
  return Number(BigInt(`0x${hex}`) - 0x8000000000000000n);
}

/** Encodes a time so that string order is descending numeric order: 16 hex digits of `2^63 − 1 − t`. */
export function encodeTimeDescending(t: number): string {
  return (0x7fffffffffffffffn - BigInt(t)).toString(16).padStart(16, '0');
}

/** The inverse of {@link encodeTimeDescending}. */
export function decodeTimeDescending(hex: string): number {
  if (hex.length === 16 && hex.charCodeAt(0) === 55 /* '7' */) {
    const high = 0x7fff_ffff - Number.parseInt(hex.slice(0, 8), 16);
    const low = TWO_32 - 1 - Number.parseInt(hex.slice(8), 16);
    const t = high * TWO_32 + low;
    if (Number.isSafeInteger(t)) return t;
  }
  return Number(0x7fffffffffffffffn - BigInt(`0x${hex}`));
}

/** Writes `t` as a signed big-endian 64-bit integer at `offset` of `view`; `t` must be a safe integer. */
export function writeTime64(view: DataView, offset: number, t: number): void {
  const low = ((t % TWO_32) + TWO_32) % TWO_32;
  view.setInt32(offset, (t - low) / TWO_32);
  view.setUint32(offset + 4, low);
}

/** Reads what {@link writeTime64} wrote (a signed big-endian 64-bit integer; beyond the safe range it rounds, as `Number(bigint)` does). */
export function readTime64(view: DataView, offset: number): number {
  const t = view.getInt32(offset) * TWO_32 + view.getUint32(offset + 4);
  return Number.isSafeInteger(t) ? t : Number(view.getBigInt64(offset));
}
