/**
 * UTF-8 text to bytes and back, on every record's path (serdes, store keys,
 * operators' own encodings). `TextEncoder.encode` allocates a fresh
 * off-heap buffer per call, which profiles found to be 15–20 % of a
 * stateful pipeline: short ASCII text is written here into a small
 * on-heap array, longer text through Node's pooled `Buffer.from`. The
 * bytes are the same as `TextEncoder`'s for every string, a lone surrogate
 * included (both write U+FFFD); a test compares them on random strings.
 *
 * @module
 */
import { Buffer } from 'node:buffer';

/** Text up to this length is encoded by hand: V8 keeps typed arrays of up to 64 bytes on its own heap, where they cost little. */
const SHORT = 48;

// ignoreBOM keeps a leading U+FEFF: dropping it would change the value read back and written again.
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The UTF-8 bytes of `text`, as `TextEncoder.encode(text)` gives them (a
 * plain `Uint8Array`, which may be a view of a shared pool buffer: read it
 * with its `byteOffset`).
 */
export function utf8Bytes(text: string): Uint8Array {
  const n = text.length;
  if (n <= SHORT) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c > 127) return pooled(text);
      out[i] = c;
    }
    return out;
  }
  return pooled(text);
}

function pooled(text: string): Uint8Array {
  const b = Buffer.from(text, 'utf8');
  // A plain Uint8Array, not a Buffer: what callers compare and store is the same type TextEncoder gave.
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** The text of UTF-8 `bytes`; throws a `TypeError` when they are not valid UTF-8 (never replaces or drops a character: a leading byte-order mark stays). */
export function utf8Text(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n <= SHORT) {
    let s = '';
    for (let i = 0; i < n; i++) {
      const c = bytes[i]!;
      if (c > 127) return strictDecoder.decode(bytes);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return strictDecoder.decode(bytes);
}
