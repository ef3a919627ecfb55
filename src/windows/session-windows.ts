/**
 * Session windows (DESIGN 4.4): per key, bursts of activity separated by
 * more than `gap` of inactivity. A session's bounds are its first and last
 * record timestamps, inclusive, as in Kafka Streams.
 *
 * @example
 * SessionWindows.ofInactivityGap(30_000).grace(5_000)
 */
export class SessionWindows {
  readonly kind = 'session';
  readonly gap: number;
  readonly graceMs: number;

  private constructor(gap: number, grace: number) {
    if (!Number.isSafeInteger(gap) || gap <= 0) throw new RangeError(`SessionWindows: gap must be a positive integer, got ${gap}`);
    if (!Number.isSafeInteger(grace) || grace < 0) throw new RangeError(`SessionWindows: grace must be a non-negative integer, got ${grace}`);
    this.gap = gap;
    this.graceMs = grace;
  }

  static ofInactivityGap(gap: number): SessionWindows {
    return new SessionWindows(gap, 0);
  }

  grace(grace: number): SessionWindows {
    return new SessionWindows(this.gap, grace);
  }
}

/** A session's inclusive bounds. */
export interface Session {
  readonly start: number;
  readonly end: number;
}

/**
 * Rule (DESIGN 4.4): a record at `ts` joins a session `[start, end]` when it
 * is within `gap` of it, inclusive: `start − gap <= ts <= end + gap`.
 */
export function joinsSession(session: Session, ts: number, gap: number): boolean {
  return ts >= session.start - gap && ts <= session.end + gap;
}

/**
 * Rule (DESIGN 4.4): for closing, a session `[a, b]` counts as the interval
 * `[a, b + gap + 1)`: a record at `b + gap` may still join it, so it closes
 * when `streamTime >= b + gap + 1 + grace`.
 */
export function sessionCloseEnd(session: Session, gap: number): number {
  return session.end + gap + 1;
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
