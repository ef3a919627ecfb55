package tidemark.peers.model;

/** The result rows of the shared contract, keys in its order, integers only. */
public final class Rows {
  private Rows() {}

  /** q1: Beam's currency conversion, floor(price * 89 / 100) (prices are non-negative). */
  public static long dollarsToEuros(long price) {
    return price * 89 / 100;
  }

  /** q2: {"auction","price"}. */
  public static String q2(Bid b) {
    return "{\"auction\":" + b.auction + ",\"price\":" + b.price + "}";
  }

  /** q5: {"windowStart","windowEnd","auction","count"}. */
  public static String q5(long windowStart, long windowEnd, long auction, long count) {
    return "{\"windowStart\":" + windowStart + ",\"windowEnd\":" + windowEnd + ",\"auction\":" + auction + ",\"count\":" + count + "}";
  }

  /** q7: {"windowStart","windowEnd","auction","bidder","price","dateTime"}. */
  public static String q7(long windowStart, long windowEnd, Bid b) {
    return "{\"windowStart\":" + windowStart + ",\"windowEnd\":" + windowEnd + ",\"auction\":" + b.auction + ",\"bidder\":" + b.bidder
        + ",\"price\":" + b.price + ",\"dateTime\":" + b.dateTime + "}";
  }

  /** q11 and q12: {"bidder","windowStart","windowEnd","count"}. */
  public static String bidderWindow(long bidder, long windowStart, long windowEnd, long count) {
    return "{\"bidder\":" + bidder + ",\"windowStart\":" + windowStart + ",\"windowEnd\":" + windowEnd + ",\"count\":" + count + "}";
  }

  /** q3: {"name","city","state","id"}. */
  public static String q3(Person p, long auctionId) {
    return q3(q3Person(p), auctionId);
  }

  /** q3's row from its person members (q3Person) and the auction id. */
  public static String q3(String personMembers, long auctionId) {
    return personMembers + ",\"id\":" + auctionId + "}";
  }

  /** The person's members of a q3 row: `{"name":…,"city":…,"state":…` (no closing brace). */
  public static String q3Person(Person p) {
    StringBuilder sb = new StringBuilder(96).append("{\"name\":");
    Json.string(sb, p.name);
    sb.append(",\"city\":");
    Json.string(sb, p.city);
    sb.append(",\"state\":");
    Json.string(sb, p.state);
    return sb.toString();
  }

  /** q4: {"category","avg"}. */
  public static String q4(long category, long avg) {
    return "{\"category\":" + category + ",\"avg\":" + avg + "}";
  }

  /** q6: {"seller","avg"}. */
  public static String q6(long seller, long avg) {
    return "{\"seller\":" + seller + ",\"avg\":" + avg + "}";
  }

  /** q8: {"id","name","windowStart"}. */
  public static String q8(Person p, long windowStart) {
    return q8(q8Person(p), windowStart);
  }

  /** q8's row from its person members (q8Person) and the window's start. */
  public static String q8(String personMembers, long windowStart) {
    return personMembers + ",\"windowStart\":" + windowStart + "}";
  }

  /** The person's members of a q8 row: `{"id":…,"name":…` (no closing brace). */
  public static String q8Person(Person p) {
    StringBuilder sb = new StringBuilder(64).append("{\"id\":").append(p.id).append(",\"name\":");
    Json.string(sb, p.name);
    return sb.toString();
  }
}
