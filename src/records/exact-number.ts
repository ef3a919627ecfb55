/**
 * Whether a number's decimal text survives JSON's trip through a double:
 * `JSON.parse` rounds `9007199254740993` to `…992` and reads `1e400` as
 * Infinity without a word, so what reads JSON and must not change a value
 * silently checks each number's source text with {@link keptExactly}.
 *
 * @module
 */

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * Whether the double `v` is what the decimal `source` says: the same digits
 * and exponent as the shortest text of `v` (so `0.1` and `1e2` are exact,
 * `9007199254740993` and `1e400` are not). A zero's sign is not counted:
 * JSON writes -0 as 0.
 */
export function keptExactly(source: string, v: number): boolean {
  if (!Number.isFinite(v)) return false;
  if (/^-?\d{1,15}$/.test(source)) return true; // the common case: fewer digits than a double holds
  const a = normalized(source);
  const b = normalized(String(v));
  return a !== undefined && a === b;
}

/** A decimal as `sign digits e exponent` with no leading or trailing zeros; `0` for any zero. */
function normalized(text: string): string | undefined {
  const m = DECIMAL.exec(text);
  if (m === null) return undefined;
  const [, sign, int, frac = '', exp = '0'] = m as unknown as [string, string, string, string | undefined, string | undefined];
  let digits = (int + frac).replace(/^0+/, '');
  if (digits === '') return '0';
  let exponent = Number(exp) - frac.length;
  const trailing = /0+$/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(0, digits.length - trailing);
  exponent += trailing;
  return `${sign}${digits}e${exponent}`;
}

