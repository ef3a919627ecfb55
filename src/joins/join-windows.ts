/**
 * The windows of a stream–stream join: how far apart in event time two
 * records of one key may be to join, and how long records are waited for.
 */

/**
 * The windows of a stream–stream join (Kafka Streams' `JoinWindows`): a
 * left record at `l` joins a right record at `r` of its key when
 * `l − before <= r <= l + after` (`isJoinMatch`); records are waited for
 * `grace` ms of event time past their join window (default 0).
 *
 * @example
 * JoinWindows.ofTimeDifference(600_000);                 // payments within 10 minutes either side of an order
 * JoinWindows.ofTimeDifference(0).after(600_000).grace(5_000); // only payments after the order, 5 s late at most
 */
export class JoinWindows {
  /** How far before a left record a right record may be (the right side's `after`). */
  readonly beforeMs: number;
  /** How far after a left record a right record may be. */
  readonly afterMs: number;
  /** How long after its join window a record is still waited for: the lateness (the allowed lateness on the watermark). */
  readonly graceMs: number;

  private constructor(before: number, after: number, grace: number) {
    for (const [name, v] of [['before', before], ['after', after]] as const) {
      if (!Number.isSafeInteger(v)) throw new RangeError(`JoinWindows: ${name} must be an integer, got ${v}`);
    }
    if (!Number.isSafeInteger(grace) || grace < 0) throw new RangeError(`JoinWindows: grace must be a non-negative integer, got ${grace}`);
    this.beforeMs = before;
    this.afterMs = after;
    this.graceMs = grace;
  }

  /** Records at most `difference` ms apart, either way; no grace. */
  static ofTimeDifference(difference: number): JoinWindows {
    if (!Number.isSafeInteger(difference) || difference < 0) throw new RangeError(`JoinWindows: the time difference must be a non-negative integer, got ${difference}`);
    return new JoinWindows(difference, difference, 0);
  }

  /** The same windows, with right records up to `before` ms before the left one (negative: only after it). */
  before(before: number): JoinWindows {
    return new JoinWindows(before, this.afterMs, this.graceMs);
  }

  /** The same windows, with right records up to `after` ms after the left one (negative: only before it). */
  after(after: number): JoinWindows {
    return new JoinWindows(this.beforeMs, after, this.graceMs);
  }

  /** The same windows with a grace of `grace` ms. */
  grace(grace: number): JoinWindows {
    return new JoinWindows(this.beforeMs, this.afterMs, grace);
  }
}
