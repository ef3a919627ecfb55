package tidemark.peers.streams;

/**
 * The records fed after the data so that Kafka Streams closes every window: suppress emits a
 * window only once stream time passes its end plus the grace, and stream time moves only with
 * records, per task. Two sentinel times, each with a bid (auction and bidder -1), a person (id
 * -1) and an auction (id and seller -1), so that they reach every sub-topology (q8's reads
 * persons and auctions only): the first closes every window of the data, the second closes the
 * first's windows, which flushes q5's per-window maximum (it emits a window's rows when the next
 * window's counts arrive). Every row that names -1 is a sentinel's and is left out of the results.
 */
public final class Sentinel {
  /** Further than any window of the data can reach: window size or session gap (10 s) twice, plus a margin. */
  static final long STEP_MS = 60_000;

  private Sentinel() {}

  /** The dateTime of sentinel `i` (0, 1) after data whose last dateTime is `lastDateTime`. */
  public static long dateTime(long lastDateTime, long maxDelayMs, int i) {
    return lastDateTime + (i + 1) * (STEP_MS + maxDelayMs);
  }

  /** The sentinel events at `dateTime`, as events-file lines. */
  public static String[] lines(long dateTime) {
    return new String[] {
      "{\"bid\":{\"auction\":-1,\"bidder\":-1,\"price\":0,\"channel\":\"sentinel\",\"url\":\"\",\"dateTime\":" + dateTime + ",\"extra\":\"\"}}",
      "{\"person\":{\"id\":-1,\"name\":\"sentinel\",\"emailAddress\":\"\",\"creditCard\":\"\",\"city\":\"\",\"state\":\"\",\"dateTime\":" + dateTime + ",\"extra\":\"\"}}",
      "{\"auction\":{\"id\":-1,\"itemName\":\"sentinel\",\"description\":\"\",\"initialBid\":0,\"reserve\":0,\"dateTime\":" + dateTime + ",\"expires\":" + (dateTime + 1)
          + ",\"seller\":-1,\"category\":-1,\"extra\":\"\"}}",
    };
  }

  /** Whether a result row comes from a sentinel (names the id -1; every real id and value is non-negative). */
  public static boolean isSentinelRow(String row) {
    return row.contains(":-1,") || row.contains(":-1}");
  }
}
