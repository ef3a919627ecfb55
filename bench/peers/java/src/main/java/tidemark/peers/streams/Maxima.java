package tidemark.peers.streams;

/**
 * "Every item with the largest value" as a string a String serde stores: the maximum on the
 * first line, then one item per line (items are JSON, which has no raw newline).
 */
final class Maxima {
  private Maxima() {}

  /** The accumulator `acc` (null or "" when empty) after offering `item` with `value`. */
  static String offer(String acc, long value, String item) {
    if (acc == null || acc.isEmpty()) return value + "\n" + item;
    int nl = acc.indexOf('\n');
    long max = Long.parseLong(acc.substring(0, nl));
    if (value < max) return acc;
    if (value > max) return value + "\n" + item;
    return acc + "\n" + item;
  }

  /** The items of an accumulator. */
  static String[] items(String acc) {
    String[] lines = acc.split("\n");
    String[] items = new String[lines.length - 1];
    System.arraycopy(lines, 1, items, 0, items.length);
    return items;
  }
}
