/**
 * Store keys that hold a time (window starts, session bounds, timers) encode
 * it so that the stores' string order is numeric order: range scans then
 * find windows, sessions and due timers in time order.
 */
/** Encodes a time so that string order is numeric order, negative times included: 16 hex digits of `t + 2^63`. */
export function encodeTime(t: number): string {
  return (BigInt(t) + 0x8000000000000000n).toString(16).padStart(16, '0');
}

/** The inverse of {@link encodeTime}. */
export function decodeTime(hex: string): number {
  return Number(BigInt(`0x${hex}`) - 0x8000000000000000n);
}
