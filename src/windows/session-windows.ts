import { isWindowClosed, lastClosedEnd } from './lateness.ts';
import type { TimeWindow } from './window.ts';

/**
 * Session windows: per key, bursts of activity separated by
 * more than `gap` of inactivity. A session's bounds are its first and last
 * record timestamps, inclusive, as in Kafka Streams.
 *
 * @example
 * SessionWindows.ofInactivityGap(30_000).grace(5_000)
 */
export class SessionWindows {
  /** Which kind of windows these are: `'session'`. */
  readonly kind = 'session';
  /** The inactivity gap, in ms: a record within it of a session joins the session. */
  readonly gap: number;
  /** How long after a session closes on its own (last record + gap + 1) it still takes records. */
  readonly graceMs: number;

  private constructor(gap: number, grace: number) {
    if (!Number.isSafeInteger(gap) || gap <= 0) throw new RangeError(`SessionWindows: gap must be a positive integer, got ${gap}`);
    if (!Number.isSafeInteger(grace) || grace < 0) throw new RangeError(`SessionWindows: grace must be a non-negative integer, got ${grace}`);
    this.gap = gap;
    this.graceMs = grace;
  }

  /**
   * Sessions separated by more than `gap` ms without records, no grace.
   *
   * @example
   * SessionWindows.ofInactivityGap(30_000)
   */
  static ofInactivityGap(gap: number): SessionWindows {
    return new SessionWindows(gap, 0);
  }

  /** Accepts records up to `grace` ms after a session's close. */
  grace(grace: number): SessionWindows {
    return new SessionWindows(this.gap, grace);
  }
}

/** A session's inclusive bounds. */
export interface Session {
  /** Its first record's timestamp. */
  readonly start: number;
  /** Its last record's timestamp. */
  readonly end: number;
}

/**
 * Rule: a record at `ts` joins a session `[start, end]` when it
 * is within `gap` of it, inclusive: `start − gap <= ts <= end + gap`.
 */
export function joinsSession(session: Session, ts: number, gap: number): boolean {
  return ts >= session.start - gap && ts <= session.end + gap;
}

/**
 * Rule: for closing, a session `[a, b]` counts as the interval
 * `[a, b + gap + 1)`: a record at `b + gap` may still join it, so it closes
 * when `streamTime >= b + gap + 1 + grace`.
 */
export function sessionCloseEnd(session: Session, gap: number): number {
  return session.end + gap + 1;
}

/**
 * The sessions a record at `ts` can join, as bounds for a scan of a key's
 * sessions in end order: exactly those with `end >= fromEnd` and
 * `start <= toStart` ({@link joinsSession}).
 */
export function sessionJoinRange(ts: number, gap: number): { readonly fromEnd: number; readonly toStart: number } {
  return { fromEnd: ts - gap, toStart: ts + gap };
}

/** The half-open interval of event time a session covers, `[start, end + 1)`: its result is timestamped with its last instant, `end`. */
export function sessionInterval(session: Session): TimeWindow {
  return { start: session.start, end: session.end + 1 };
}

/**
 * Rule: a record at `ts` is late for sessions when it would join a session
 * that is already closed (`joinsClosed`) — a final result is never
 * contradicted — or when its own session `[ts, ts]` is closed at `now`, even
 * if it would extend an open session backwards. The second part bounds the
 * state: a closed session can go once no record that is not late can join it.
 */
export function isLateSessionRecord(ts: number, joinsClosed: boolean, gap: number, lateness: number, now: number): boolean {
  return joinsClosed || isWindowClosed(sessionCloseEnd({ start: ts, end: ts }, gap), lateness, now);
}

/**
 * The inverse of the closing rule for sessions kept in end order: every
 * session with `end < closedEndsBelow(gap, lateness, now)` is closed at
 * `now` (`isWindowClosed` on {@link sessionCloseEnd}), and no other.
 */
export function closedEndsBelow(gap: number, lateness: number, now: number): number {
  return lastClosedEnd(lateness, now) - gap;
}

/**
 * The smallest end of a session a record that is not late can still join
 * at `now`: such a record has `ts >= closedEndsBelow(gap, lateness, now)`
 * ({@link isLateSessionRecord}) and joins sessions ending at or after
 * `ts − gap`. Closed sessions ending below it can go.
 */
export function firstJoinableEnd(gap: number, lateness: number, now: number): number {
  return closedEndsBelow(gap, lateness, now) - gap;
}

/** The session covering a set of sessions and a record: the smallest start and the largest end. */
export function mergeSessions(sessions: readonly Session[], ts: number): Session {
  let start = ts;
  let end = ts;
  for (const s of sessions) {
    if (s.start < start) start = s.start;
    if (s.end > end) end = s.end;
  }
  return { start, end };
}
